// BertNormalizer, alignment to the original bytes, and BertPreTokenizer.
#include "tok_test_util.h"

using namespace tok_test;

namespace {

std::string norm(std::string_view s, NormalizerOptions o = {}, Flavor f = Flavor::fast) {
  return BertNormalizer(o, f).normalize_string(s);
}

std::vector<std::string> words(std::string_view s, Flavor f = Flavor::fast) {
  return pre_tokenize_string(BertNormalizer(NormalizerOptions{}, f), s);
}

using Words = std::vector<std::string>;

}  // namespace

TEST_CASE("BertNormalizer: lowercase and strip accents", "[tokenizer][normalizer]") {
  CHECK(norm("HeLLo World") == "hello world");
  CHECK(norm("H\xC3\xA9llo \xC3\x85ngstr\xC3\xB6m") == "hello angstrom");  // Héllo Ångström
  CHECK(norm("e\xCC\x81") == "e");                                          // decomposed input

  NormalizerOptions keep_accents;
  keep_accents.strip_accents = false;
  CHECK(norm("H\xC3\xA9llo", keep_accents) == "h\xC3\xA9llo");

  NormalizerOptions cased;  // lowercase=false, strip_accents=null -> no stripping either
  cased.lowercase = false;
  CHECK(norm("H\xC3\xA9llo", cased) == "H\xC3\xA9llo");
  cased.strip_accents = true;
  CHECK(norm("H\xC3\xA9llo", cased) == "Hello");

  // Canonical reordering before the Mn filter: both orders of two marks give the same result.
  CHECK(norm("a\xCC\x81\xCC\x96") == "a");
  CHECK(norm("a\xCC\x96\xCC\x81") == "a");
  // Hangul syllables decompose into jamo (Lo, kept).
  CHECK(norm("\xEA\xB0\x81") == "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8");
  // Rust lowercases per character: no final sigma.
  CHECK(norm("\xCE\x9F\xCE\xA3") == "\xCE\xBF\xCF\x83");  // ΟΣ -> οσ
}

TEST_CASE("BertNormalizer: clean_text and Chinese characters", "[tokenizer][normalizer]") {
  const std::string in = std::string("a\0b", 3) + "\xEF\xBF\xBD" "c\x07" "d\te\xC2\xA0" "f\xE2\x80\x8B" "g";
  CHECK(norm(in) == "abcd e fg");
  NormalizerOptions no_clean;
  no_clean.clean_text = false;
  no_clean.lowercase = false;
  CHECK(norm("a\tb\x07", no_clean) == "a\tb\x07");

  CHECK(norm("ab\xE4\xB8\xAD" "c") == "ab \xE4\xB8\xAD c");  // ab中c
  NormalizerOptions no_cjk;
  no_cjk.handle_chinese_chars = false;
  CHECK(norm("ab\xE4\xB8\xAD" "c", no_cjk) == "ab\xE4\xB8\xAD" "c");

  // U+2028: the Rust normaliser turns it into a space; Python's keeps it (and then splits on it).
  CHECK(norm("a\xE2\x80\xA8" "b") == "a b");
  CHECK(norm("a\xE2\x80\xA8" "b", {}, Flavor::slow) == "a\xE2\x80\xA8" "b");
  // Unassigned code points: kept by Rust, dropped by Python.
  CHECK(norm("a\xCD\xB8" "b") == "a\xCD\xB8" "b");
  CHECK(norm("a\xCD\xB8" "b", {}, Flavor::slow) == "ab");
  // CJK range 0x2B820..0x2B91F is CJK only for Python.
  CHECK(norm("a\xF0\xAB\xA0\xA0" "b") == "a\xF0\xAB\xA0\xA0" "b");
  CHECK(norm("a\xF0\xAB\xA0\xA0" "b", {}, Flavor::slow) == "a \xF0\xAB\xA0\xA0 b");
}

TEST_CASE("BertNormalizer keeps the alignment to original bytes", "[tokenizer][normalizer]") {
  const std::string text = "X\xC3\xA9\xE4\xB8\xAD\xC4\xB0";  // Xé中İ
  NormalizedText chars, scratch;
  unicode::decode_utf8(text, chars);
  BertNormalizer(NormalizerOptions{}, Flavor::fast).normalize(chars, scratch);
  // x (0,1)  e (1,3)  ' ' 中 ' ' (3,6)  i (6,8)
  std::vector<std::tuple<char32_t, std::uint32_t, std::uint32_t>> got;
  for (const auto& c : chars) got.emplace_back(c.cp, c.begin, c.end);
  const std::vector<std::tuple<char32_t, std::uint32_t, std::uint32_t>> expected = {
      {U'x', 0, 1}, {U'e', 1, 3}, {U' ', 3, 6}, {0x4E2D, 3, 6}, {U' ', 3, 6}, {U'i', 6, 8}};
  CHECK(got == expected);

  // İ with strip_accents=false: lowercase expands to two chars sharing the source range.
  NormalizerOptions keep;
  keep.strip_accents = false;
  chars.clear();
  unicode::decode_utf8("\xC4\xB0", chars);
  BertNormalizer(keep, Flavor::fast).normalize(chars, scratch);
  REQUIRE(chars.size() == 2);
  CHECK((chars[0].cp == U'i' && chars[1].cp == 0x307));
  CHECK((chars[1].begin == 0 && chars[1].end == 2));
}

TEST_CASE("BertPreTokenizer splits on whitespace and isolates punctuation", "[tokenizer][normalizer]") {
  CHECK(words("Hello, world! (x)") == Words{"hello", ",", "world", "!", "(", "x", ")"});
  CHECK(words("$5 ^a `b ~c") == Words{"$", "5", "^", "a", "`", "b", "~", "c"});
  CHECK(words("don't") == Words{"don", "'", "t"});
  CHECK(words("...") == Words{".", ".", "."});
  CHECK(words("\xC2\xBFQu\xC3\xA9?") == Words{"\xC2\xBF", "que", "?"});  // ¿Qué?
  CHECK(words("a\xE2\x80\x94" "b") == Words{"a", "\xE2\x80\x94", "b"});     // em dash is Pd
  CHECK(words("5\xE2\x82\xAC") == Words{"5\xE2\x82\xAC"});                  // € is Sc: not split
  CHECK(words("  leading   and\ttrailing \n") == Words{"leading", "and", "trailing"});
  CHECK(words("a\xE2\x80\xA8" "b", Flavor::slow) == Words{"a", "b"});
  CHECK(words("").empty());
  CHECK(words(" \t\n").empty());
}
