// BertNormalizer and BertPreTokenizer with an alignment map back to the original input.
//
// Text is carried as a vector of unicode::DecodedChar: every normalised code point keeps the byte range
// [begin, end) of the ORIGINAL character it came from (a character inserted by NFD, lowercasing or the CJK
// spacing shares the range of its source character; removed characters simply disappear). This is exactly
// the alignment Hugging Face's NormalizedString keeps, so a token's original offsets are
// (first char .begin, last char .end).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "distilbert/tokenizer/unicode.h"

namespace distilbert::tokenizer {

/// The fields of tokenizer.json's {"type": "BertNormalizer", ...}.
struct NormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  ///< nullopt: follow `lowercase` (the HF default)
  bool lowercase = true;

  bool effective_strip_accents() const { return strip_accents.value_or(lowercase); }
  bool operator==(const NormalizerOptions& o) const {
    return clean_text == o.clean_text && handle_chinese_chars == o.handle_chinese_chars &&
           strip_accents == o.strip_accents && lowercase == o.lowercase;
  }
};

using NormalizedText = std::vector<unicode::DecodedChar>;

/// BertNormalizer. Fast flavour (Rust, docs/TOKENIZER.md §1): clean_text -> handle_chinese_chars -> strip_accents
/// (NFD, drop Mn) -> lowercase. Slow flavour (Python BasicTokenizer): same, but lowercase BEFORE
/// strip_accents, Python's whitespace set in clean_text and the Python CJK ranges.
class BertNormalizer {
 public:
  BertNormalizer() { build_ascii_map(); }
  BertNormalizer(NormalizerOptions options, Flavor flavor) : options_(options), flavor_(flavor) { build_ascii_map(); }

  /// Normalise `text` in place. `scratch` is a work buffer (reuse it across calls to avoid allocations).
  void normalize(NormalizedText& text, NormalizedText& scratch) const;

  /// Convenience: decode (lossy) and normalise a string, returning UTF-8.
  std::string normalize_string(std::string_view text) const;

  const NormalizerOptions& options() const { return options_; }
  Flavor flavor() const { return flavor_; }

 private:
  void strip_accents(NormalizedText& text, NormalizedText& scratch) const;
  void lowercase(NormalizedText& text, NormalizedText& scratch) const;

  void build_ascii_map();

  NormalizerOptions options_;
  Flavor flavor_ = Flavor::fast;
  /// What clean_text + lowercasing turn each ASCII char into (kDropped: removed), for these options.
  static constexpr std::uint8_t kDropped = 0xFF;
  std::uint8_t ascii_map_[128] = {};
};

/// A pre-token ("word"): the half-open range [begin, end) of normalised characters.
struct WordSpan {
  std::uint32_t begin;
  std::uint32_t end;
};

/// BertPreTokenizer over text[begin, end): split on whitespace (removed) and isolate every punctuation
/// character; APPENDS the words to `words`. Fast flavour splits on Rust char::is_whitespace, slow on
/// Python str.isspace (what BasicTokenizer's str.split() uses).
void bert_pre_tokenize(const NormalizedText& text, std::uint32_t begin, std::uint32_t end, Flavor flavor,
                       std::vector<WordSpan>& words);

/// Convenience for tests: the words of `text` after normalisation, as UTF-8 strings.
std::vector<std::string> pre_tokenize_string(const BertNormalizer& normalizer, std::string_view text);

}  // namespace distilbert::tokenizer
