// SentencePieceTokenizer: a SentencePiece model (.model file: unigram or BPE) behind the Tokenizer
// interface, with the BERT template [CLS] A [SEP] (B [SEP]) and the same truncation / stride / padding /
// offsets as BertTokenizer.
//
// Pieces, ids and normalisation are those of the sentencepiece C++ library (SentencePieceProcessor) for
// the model, unchanged. On top of it:
//   * special tokens: [CLS] [SEP] [PAD] [MASK] [UNK] are looked up among the model's pieces (models made by
//     `distilbert train-tokenizer --type unigram|bpe` hold them at ids 0..4: [UNK] as the model's unknown
//     piece, the others as user-defined symbols, so they are also matched when written in the text).
//     tokenizer_config.json may name other pieces (e.g. ALBERT's "<pad>", "<unk>"). [CLS] and [SEP] are
//     required (the template needs them); [PAD] and [MASK] may be absent (special_ids() gives -1 and
//     padding then fails with a message). [UNK] falls back to the model's own unknown piece.
//   * offsets: the byte spans sentencepiece reports for each piece in the ORIGINAL text (the whitespace a
//     "▁" stands for belongs to the piece that follows it); OffsetUnit::chars converts them to code points.
//   * word ids: a new word starts at every piece beginning with U+2581 "▁", at a special piece and right
//     after one.
//   * decode: transformers' AlbertTokenizer rule: special pieces are written literally (or dropped with
//     skip_special_tokens) and each run of ordinary pieces is detokenised by sentencepiece.
//   * files: save_pretrained() writes the model as spiece.model plus tokenizer_config.json
//     (tokenizer_class AlbertTokenizer, "sentencepiece_model": "spiece.model", the special tokens) and
//     special_tokens_map.json; load_tokenizer() recognises such a folder.
//
// Thread safety: immutable after construction; encode/encode_batch/decode may run concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "distilbert/tokenizer/encoding.h"
#include "distilbert/tokenizer/thread_pool.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::tokenizer {

/// The settings tokenizer_config.json carries for a SentencePiece tokenizer.
struct SentencePieceConfig {
  std::string unk_token = "[UNK]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string cls_token = "[CLS]";
  std::string mask_token = "[MASK]";
  /// Default max_length for truncation / max_length padding.
  std::size_t model_max_length = 512;
  /// Whether encode() returns token_type_ids by default (AlbertTokenizer does; tokenizer_config.json's
  /// model_input_names without "token_type_ids" turns it off, as for DistilBERT).
  bool returns_token_type_ids = true;
  /// Default of decode()'s clean_up_tokenization_spaces (off: sentencepiece restores the spacing itself).
  bool clean_up_tokenization_spaces = false;
};

class SentencePieceTokenizer final : public Tokenizer {
 public:
  /// From the bytes of a .model file (a serialized sentencepiece ModelProto). `source` names the model in
  /// error messages. Throws distilbert::Error if the bytes are not a model or [CLS]/[SEP] are missing.
  explicit SentencePieceTokenizer(std::string model_bytes, SentencePieceConfig config = {},
                                  std::string source = "sentencepiece model");

  /// A .model file, with an optional tokenizer_config.json applied on top.
  static SentencePieceTokenizer from_file(const std::filesystem::path& model,
                                          const std::optional<std::filesystem::path>& tokenizer_config_json = {});
  /// A folder with spiece.model (or the file named by tokenizer_config.json's "sentencepiece_model").
  static SentencePieceTokenizer from_pretrained(const std::filesystem::path& dir);
  /// The model file of a folder, or nullopt when it has none.
  static std::optional<std::filesystem::path> find_model_file(const std::filesystem::path& dir);

  /// spiece.model + tokenizer_config.json + special_tokens_map.json.
  void save_pretrained(const std::filesystem::path& dir) const override;

  Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                  const EncodeOptions& options = {}) const override;
  /// Output order = input order, independent of the thread count (nullptr = ThreadPool::shared()).
  std::vector<Encoding> encode_batch(const std::vector<TextInput>& inputs, const EncodeOptions& options = {},
                                     ThreadPool* pool = nullptr) const override;
  std::vector<Encoding> encode_batch(const std::vector<TextInput>& inputs, const EncodeOptions& options,
                                     std::size_t num_threads) const;
  /// The pieces of one text without special tokens, truncation or padding.
  std::vector<std::string> tokenize(std::string_view text) const;

  /// Unknown ids are skipped. clean_up_tokenization_spaces: nullopt = config default (off).
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens = false,
                     std::optional<bool> clean_up_tokenization_spaces = std::nullopt) const override;

  std::optional<std::int64_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(std::int64_t id) const override;
  std::size_t vocab_size() const override;
  SpecialTokenIds special_ids() const override;
  /// FNV-1a of the model bytes and the special tokens with their ids.
  std::string fingerprint() const override;

  const SentencePieceConfig& config() const;
  /// The .model file's bytes, as loaded.
  const std::string& model_bytes() const;
  /// "unigram", "bpe", "word" or "char".
  std::string model_type() const;
  /// Tokens the template adds (2 single / 3 pair).
  std::size_t num_special_tokens_to_add(bool pair) const { return pair ? 3 : 2; }

 private:
  struct Impl;
  Encoding encode_sequence(std::string_view text, std::int64_t sequence_id) const;
  Encoding encode_one(std::string_view text, std::optional<std::string_view> pair, const EncodeOptions& options,
                      bool pad) const;
  void pad_one(Encoding& e, std::size_t target, const EncodeOptions& options) const;

  std::shared_ptr<const Impl> impl_;
};

}  // namespace distilbert::tokenizer
