// BertTokenizer: an exact C++ BERT WordPiece tokenizer (== DistilBertTokenizer), torch-free.
//
// Reproduces what the Hugging Face `tokenizers` library does with a bert-base-uncased style tokenizer.json
// (BertNormalizer + BertPreTokenizer + WordPiece + TemplateProcessing + WordPiece decoder), i.e. what
// transformers' BertTokenizerFast / DistilBertTokenizerFast return, including:
//   * added/special tokens written literally in the text ("[CLS] hi [MASK]") are matched first on the raw
//     text (leftmost-longest, honouring single_word / lstrip / rstrip / normalized) and kept whole;
//   * truncation (longest_first / only_first / only_second, left or right) with stride and overflowing
//     windows in Hugging Face's order, padding (longest / max_length, pad_to_multiple_of, left or right);
//   * offsets into the ORIGINAL text, word ids, sequence ids, special-tokens mask.
// Flavor::slow switches to the Python BertTokenizer rules where docs/TOKENIZER.md §1 lists differences (lowercase
// before accent stripping, Python whitespace and CJK ranges, the truncation tie rule, and the slow decode).
// Not reproduced in the slow flavour: Python's context-sensitive final-sigma lowercasing, the NFC step of
// transformers >= 4.3x, and slow-style overflowing (overflow windows are always Hugging Face fast-style).
//
// Offsets: by default byte offsets into the UTF-8 input of the token's own sequence (first text for
// sequence_ids 0, second text for 1). EncodeOptions::offsets = OffsetUnit::chars gives code-point offsets,
// which is what Hugging Face's Python API returns. Invalid UTF-8 never throws: each ill-formed byte sequence
// is read as U+FFFD (see unicode.h), which clean_text then drops; offsets still index the original bytes.
//
// Thread safety: a BertTokenizer is immutable after construction; encode/encode_batch/decode are const
// and may be called concurrently from any number of threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "distilbert/tokenizer/encoding.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/tokenizer/normalizer.h"
#include "distilbert/tokenizer/thread_pool.h"
#include "distilbert/tokenizer/wordpiece.h"

namespace distilbert::tokenizer {

/// An entry of tokenizer.json's "added_tokens" (HF AddedToken).
struct AddedToken {
  std::string content;
  std::int64_t id = -1;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;  ///< match against the normalised text instead of the raw text
  bool special = true;      ///< skipped by decode(skip_special_tokens=true)
};

/// TemplateProcessing: pieces of the single and pair templates plus the special-token table.
struct TemplatePiece {
  enum class Kind { special, sequence_a, sequence_b };
  Kind kind = Kind::sequence_a;
  std::string special_id;  ///< key into special_tokens when kind == special
  std::int64_t type_id = 0;
};
struct TemplateSpecialToken {
  std::string id;
  std::vector<std::int64_t> ids;
  std::vector<std::string> tokens;
};
struct PostProcessor {
  std::vector<TemplatePiece> single;
  std::vector<TemplatePiece> pair;
  std::vector<TemplateSpecialToken> special_tokens;
  bool is_null = false;  ///< tokenizer.json had "post_processor": null (no special tokens are added)

  /// [CLS]:0 $A:0 [SEP]:0 (pair: ... $B:1 [SEP]:1), the BERT template.
  static PostProcessor bert(const std::string& cls, std::int64_t cls_id, const std::string& sep, std::int64_t sep_id);
  const TemplateSpecialToken* find(std::string_view id) const;
  std::size_t num_added(bool pair) const;
};

/// What transformers keeps in tokenizer_config.json plus the model / normaliser / decoder settings.
struct TokenizerConfig {
  Flavor flavor = Flavor::fast;
  NormalizerOptions normalizer;  ///< do_lower_case -> lowercase, tokenize_chinese_chars -> handle_chinese_chars
  bool has_normalizer = true;    ///< false: tokenizer.json had "normalizer": null (text used as is)
  std::string unk_token = "[UNK]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string cls_token = "[CLS]";
  std::string mask_token = "[MASK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
  /// Default max_length for truncation / max_length padding. transformers uses "no limit" when the key is
  /// missing from tokenizer_config.json; here the default is 512, the position limit of every BERT model.
  std::size_t model_max_length = 512;
  std::string tokenizer_class = "BertTokenizer";  ///< or "DistilBertTokenizer" (no token_type_ids)
  bool clean_up_tokenization_spaces = true;       ///< default for decode()
  bool decoder_cleanup = true;                    ///< tokenizer.json decoder.cleanup (per-token clean-up)
  bool has_decoder = true;  ///< false: tokenizer.json had "decoder": null (decode joins tokens with spaces)

  /// transformers' model_input_names: DistilBERT returns no token_type_ids.
  bool returns_token_type_ids() const { return tokenizer_class != "DistilBertTokenizer"; }
};

class BertTokenizer final : public Tokenizer {
 public:
  /// Build from a vocabulary and a config. `added_tokens`: nullopt = the config's special tokens that are
  /// in the vocabulary ([UNK] [SEP] [PAD] [CLS] [MASK]), special and not normalised, with their vocab ids.
  /// `post_processor`: nullopt = the BERT template from cls_token/sep_token.
  /// Throws distilbert::Error if unk (or cls/sep for the default template) is not in the vocabulary.
  BertTokenizer(Vocab vocab, TokenizerConfig config = {}, std::optional<std::vector<AddedToken>> added_tokens = {},
                std::optional<PostProcessor> post_processor = {});

  // ---- loading / saving ------------------------------------------------------------------------------
  /// A folder: tokenizer.json if present, else vocab.txt; tokenizer_config.json (if present) is applied on
  /// top. `flavor` overrides the flavour (not stored in any file).
  static BertTokenizer from_pretrained(const std::filesystem::path& dir, Flavor flavor = Flavor::fast);
  /// vocab.txt (+ optional tokenizer_config.json: do_lower_case, strip_accents, tokenize_chinese_chars,
  /// model_max_length, tokenizer_class, clean_up_tokenization_spaces, *_token, added_tokens_decoder).
  static BertTokenizer from_vocab_file(const std::filesystem::path& vocab_txt,
                                       const std::optional<std::filesystem::path>& tokenizer_config_json = {},
                                       Flavor flavor = Flavor::fast);
  /// tokenizer.json (model WordPiece; normalizer BertNormalizer or null; pre_tokenizer BertPreTokenizer;
  /// post_processor TemplateProcessing, BertProcessing or null; decoder WordPiece or null).
  static BertTokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json,
                                           const std::optional<std::filesystem::path>& tokenizer_config_json = {},
                                           Flavor flavor = Flavor::fast);
  /// Same from the JSON text; `source` names it in error messages.
  static BertTokenizer from_tokenizer_json_string(std::string_view json, std::string_view source = "tokenizer.json",
                                                  Flavor flavor = Flavor::fast);
  /// Write vocab.txt, tokenizer.json, tokenizer_config.json and special_tokens_map.json into `dir`
  /// (created if needed). The files load in transformers, HF tokenizers and transformers.js.
  void save_pretrained(const std::filesystem::path& dir) const override;
  /// The tokenizer.json text (docs/TOKENIZER.md §4 layout; vocab in id order).
  std::string to_tokenizer_json(bool pretty = false) const;

  // ---- encoding --------------------------------------------------------------------------------------
  Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                  const EncodeOptions& options = {}) const override;
  /// Encode many inputs on `pool` (nullptr = ThreadPool::shared()). Output order = input order and does not
  /// depend on the number of threads. Padding::longest pads to the longest encoding in the batch.
  std::vector<Encoding> encode_batch(const std::vector<TextInput>& inputs, const EncodeOptions& options = {},
                                     ThreadPool* pool = nullptr) const override;
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, const EncodeOptions& options = {},
                                     ThreadPool* pool = nullptr) const;
  /// Same with a pool of `num_threads` threads made for this call (1 = run on the caller).
  std::vector<Encoding> encode_batch(const std::vector<TextInput>& inputs, const EncodeOptions& options,
                                     std::size_t num_threads) const;

  /// The tokens of one text without special tokens, truncation or padding (transformers' tokenize()).
  std::vector<std::string> tokenize(std::string_view text) const;

  /// ids -> text. Fast flavour = transformers' fast decode: the WordPiece decoder ("##" pieces glued, other
  /// tokens after the first get a leading space, per-token clean-up when decoder_cleanup) and then, when
  /// clean_up_tokenization_spaces (nullopt = config default), transformers' clean_up_tokenization on the
  /// whole string (" ." -> ".", " ' " -> "'", " n't" -> "n't", ...). Unknown ids are skipped.
  /// Slow flavour = the Python BertTokenizer decode (" ".join, " ##" removed, added tokens kept apart).
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens = false,
                     std::optional<bool> clean_up_tokenization_spaces = std::nullopt) const override;
  std::vector<std::string> decode_batch(const std::vector<std::vector<std::int64_t>>& batch,
                                        bool skip_special_tokens = false,
                                        std::optional<bool> clean_up_tokenization_spaces = std::nullopt) const;

  // ---- vocabulary ------------------------------------------------------------------------------------
  std::optional<std::int64_t> token_to_id(std::string_view token) const override;
  /// For an added token with normalized=true this is its normalised content, as in HF tokenizers.
  std::optional<std::string> id_to_token(std::int64_t id) const override;
  /// Model vocabulary plus added tokens with ids beyond it.
  std::size_t vocab_size() const override;
  SpecialTokenIds special_ids() const override;
  std::string fingerprint() const override;
  bool whitespace_ends_words() const override { return true; }
  std::int64_t unk_id() const { return unk_id_; }
  std::optional<std::int64_t> cls_id() const { return token_to_id(config_.cls_token); }
  std::optional<std::int64_t> sep_id() const { return token_to_id(config_.sep_token); }
  std::optional<std::int64_t> pad_id() const { return token_to_id(config_.pad_token); }
  std::optional<std::int64_t> mask_id() const { return token_to_id(config_.mask_token); }
  /// Tokens the template adds (2 single / 3 pair for BERT).
  std::size_t num_special_tokens_to_add(bool pair) const { return post_.num_added(pair); }

  const TokenizerConfig& config() const { return config_; }
  const Vocab& vocab() const { return model_.vocab(); }
  const WordPiece& model() const { return model_; }
  const BertNormalizer& normalizer() const { return normalizer_; }
  const std::vector<AddedToken>& added_tokens() const { return added_; }
  const PostProcessor& post_processor() const { return post_; }

 private:
  struct Matcher {
    std::vector<std::u32string> patterns;
    std::vector<std::size_t> token_index;  // into added_
    std::vector<char32_t> first_chars;     // sorted, unique
    std::uint64_t ascii_first[2] = {0, 0};  // bit c set: ASCII c is in first_chars
    int single_ascii_first = -1;            // the only first char when there is one and it is ASCII
    bool may_start(char32_t c) const {
      if (c < 128) return (ascii_first[c >> 6] >> (c & 63)) & 1;
      return std::binary_search(first_chars.begin(), first_chars.end(), c);
    }
    bool empty() const { return patterns.empty(); }
  };
  struct Scratch;

  void build_matchers();
  /// Encode one sequence into `e` (which the caller has cleared; its capacity is reused).
  void encode_sequence(std::string_view text, std::int64_t sequence_id, Scratch& scratch, Encoding& e) const;
  Encoding encode_one(std::string_view text, std::optional<std::string_view> pair, const EncodeOptions& options,
                      bool pad) const;
  void pad_one(Encoding& e, std::size_t target, const EncodeOptions& options) const;
  void find_added(const NormalizedText& text, std::uint32_t begin, std::uint32_t end, const Matcher& matcher,
                  std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, std::int64_t>>& splits) const;

  TokenizerConfig config_;
  WordPiece model_;
  BertNormalizer normalizer_;
  std::vector<AddedToken> added_;  // sorted by id
  std::vector<std::string> added_text_;  // what id_to_token/decode give: the normalised content if normalized
  std::unordered_map<std::string, std::size_t> added_by_content_;
  std::unordered_map<std::int64_t, std::size_t> added_by_id_;
  Matcher raw_matcher_;
  Matcher normalized_matcher_;
  PostProcessor post_;
  std::int64_t unk_id_ = 0;
};

/// transformers' clean_up_tokenization (applied to a whole decoded string).
std::string clean_up_tokenization(std::string text);

}  // namespace distilbert::tokenizer
