// Tokenizer: the interface every tokenizer of the project offers (BERT WordPiece and SentencePiece models), so
// data preparation, training, prediction and export do not care which one a model uses.
// load_tokenizer() picks the implementation from the files in a folder.
//   bert_tokenizer.h           BertTokenizer, TokenizerConfig, AddedToken, PostProcessor
//   sentencepiece_tokenizer.h  SentencePieceTokenizer (a sentencepiece .model with the BERT template)
//   trainer.h                  vocabulary training: WordPiece (HF WordPieceTrainer), unigram / BPE (sentencepiece)
//   encoding.h                 Encoding, EncodeOptions, TextInput, truncation/padding helpers
//   normalizer.h               BertNormalizer, bert_pre_tokenize
//   wordpiece.h                Vocab, WordPiece
//   unicode.h                  UTF-8 decoding and the Unicode character classes
//   thread_pool.h              ThreadPool used by encode_batch
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

namespace distilbert::tokenizer {

/// Ids of the special tokens a model pipeline needs (-1 where the tokenizer has none).
struct SpecialTokenIds {
  std::int64_t pad = -1, unk = -1, cls = -1, sep = -1, mask = -1;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                          const EncodeOptions& options = {}) const = 0;
  /// Output order = input order, independent of the thread count.
  virtual std::vector<Encoding> encode_batch(const std::vector<TextInput>& inputs, const EncodeOptions& options = {},
                                             ThreadPool* pool = nullptr) const = 0;
  virtual std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens = false,
                             std::optional<bool> clean_up_tokenization_spaces = std::nullopt) const = 0;
  virtual std::optional<std::int64_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(std::int64_t id) const = 0;
  virtual std::size_t vocab_size() const = 0;
  virtual SpecialTokenIds special_ids() const = 0;
  /// Write the tokenizer's files into `dir` (created if needed) so that HF and transformers.js load them.
  virtual void save_pretrained(const std::filesystem::path& dir) const = 0;
  /// A stable hash (16 hex digits) of everything that decides the ids: vocabulary, normalisation, specials.
  /// Stores of token ids record it so they refuse to load with another tokenizer.
  virtual std::string fingerprint() const = 0;
  /// True when every run of ASCII whitespace ends a word, so that a text's ids are those of its pieces cut after
  /// such runs, encoded one by one (BERT's pre-tokenizer). Binarize cuts very long lines there (data/token_store.cpp).
  virtual bool whitespace_ends_words() const { return false; }
};

/// Load the tokenizer of a model folder (BertTokenizer from tokenizer.json, else vocab.txt; else a
/// SentencePieceTokenizer from spiece.model or the file tokenizer_config.json's "sentencepiece_model" names;
/// tokenizer_config.json applied) or of a single tokenizer.json / vocab.txt / .model file. Throws
/// distilbert::Error naming the path when none is found.
std::shared_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);

/// True when `dir` holds tokenizer.json, vocab.txt or spiece.model.
bool has_tokenizer(const std::filesystem::path& dir);

/// 64-bit FNV-1a of `data`, as 16 hex digits.
std::string fnv1a_hex(std::string_view data);

}  // namespace distilbert::tokenizer
