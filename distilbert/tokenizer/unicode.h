// Unicode helpers for the BERT tokenizer: lossy UTF-8 decoding with byte ranges, and the character classes
// the Hugging Face BertNormalizer / BertPreTokenizer use. Character data (general category, canonical
// decomposition, combining class, bidi class, lowercase) comes from utf8proc; the only hand-written tables
// are the CJK ranges and the ASCII punctuation ranges named in docs/TOKENIZER.md §1.
//
// Invalid UTF-8: decode_utf8() never throws. Each maximal ill-formed subsequence (Unicode §3.9 "U+FFFD
// substitution of maximal subparts", the same rule as Rust's String::from_utf8_lossy and Python's
// bytes.decode(errors="replace")) becomes one U+FFFD whose byte range covers the bad bytes. Surrogate code
// points (ED A0..BF xx) and overlong forms count as ill-formed. The BERT normaliser's clean_text step then
// drops U+FFFD, so invalid bytes vanish from the tokens, while offsets still index the original bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distilbert::tokenizer {

/// Which reference implementation to reproduce where the two differ (docs/TOKENIZER.md §1: slow vs fast).
///  - fast: the Rust `tokenizers` library (tokenizer.json, BertTokenizerFast, transformers.js-loaded files).
///  - slow: transformers' Python BertTokenizer/BasicTokenizer (lowercase THEN strip accents; whitespace for
///    clean_text = ' ', \t, \n, \r or Zs; CJK range 0x2B820-0x2CEAF; truncation ties removed from B first).
enum class Flavor { fast, slow };

namespace unicode {

constexpr char32_t kReplacementChar = 0xFFFD;

/// One decoded code point and the half-open byte range [begin, end) it came from.
struct DecodedChar {
  char32_t cp;
  std::uint32_t begin;
  std::uint32_t end;
};

/// Decode UTF-8 (lossy, see the file comment) and append to `out`. `base` is added to every byte offset.
/// Throws distilbert::Error only if the text is 4 GiB or larger (offsets are 32-bit).
void decode_utf8(std::string_view text, std::vector<DecodedChar>& out, std::uint32_t base = 0);

/// Append the UTF-8 encoding of `cp` (which must be a Unicode scalar value) to `out`.
void append_utf8(char32_t cp, std::string& out);

/// Number of UTF-8 bytes of `cp`.
inline std::size_t utf8_length(char32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/// True when `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

/// `text` with every ill-formed subsequence replaced by U+FFFD (valid input is returned unchanged).
std::string sanitize_utf8(std::string_view text);

/// Number of code points in `text` after lossy decoding (an invalid subsequence counts as one).
std::size_t char_count(std::string_view text);

/// For every byte position 0..text.size() (inclusive), the index of the code point that starts at or
/// contains it after lossy decoding: the table that turns byte offsets into the character offsets
/// Hugging Face's Python API returns. Entry text.size() is the total number of code points.
std::vector<std::uint32_t> byte_to_char_index(std::string_view text);

// ---- character classes --------------------------------------------------------------------------

/// Rust tokenizers' BertNormalizer is_whitespace: '\t' '\n' '\r' or char::is_whitespace (Unicode
/// White_Space = Zs, Zl, Zp, U+0009..U+000D, U+0085).
bool is_whitespace_fast(char32_t c);
/// Python BasicTokenizer._is_whitespace: ' ', '\t', '\n', '\r' or category Zs.
bool is_whitespace_slow(char32_t c);
/// Python str.isspace(): category Zs or bidirectional class WS, B or S (what str.split() splits on).
bool is_python_isspace(char32_t c);
/// Control for clean_text, except '\t' '\n' '\r'. Fast: Cc, Cf, Co, Cs -- the Rust library's is_other()
/// does NOT treat unassigned code points (Cn) as control (checked with tokenizers 0.23: "a\u0378b" ->
/// [UNK]). Slow: Python's category().startswith("C"), which includes Cn.
bool is_control(char32_t c, Flavor flavor);
/// BERT punctuation: ASCII 33-47, 58-64, 91-96, 123-126, or any category P*.
bool is_punctuation(char32_t c);
/// CJK ideograph per the flavour's ranges (fast: 0x2B920-0x2CEAF; slow: 0x2B820-0x2CEAF, rest shared).
bool is_chinese_char(char32_t c, Flavor flavor);
/// Category Mn (what strip_accents removes after NFD).
bool is_nonspacing_mark(char32_t c);
/// Canonical combining class (0 for starters).
int combining_class(char32_t c);
/// Approximately Rust regex's Unicode \w (Alphabetic, M*, Nd, Pc, Join_Control): here L*, M*, Nd, Nl, Pc,
/// U+200C/U+200D. Only used for added tokens with single_word=true.
bool is_word_char(char32_t c);

/// Append the full canonical decomposition of `c` (no reordering; see canonical_reorder()).
void append_nfd(char32_t c, std::vector<char32_t>& out);

/// Full lowercase mapping as Rust's char::to_lowercase(): simple mapping from utf8proc plus the one
/// unconditional multi-character SpecialCasing entry (U+0130 -> "i" U+0307). Writes 1 or 2 code points
/// into `out` and returns how many.
int lowercase(char32_t c, char32_t out[2]);

}  // namespace unicode
}  // namespace distilbert::tokenizer
