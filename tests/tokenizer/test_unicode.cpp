// UTF-8 decoding (lossy, with byte ranges) and the Unicode character classes.
#include <catch2/catch.hpp>

#include "distilbert/tokenizer/unicode.h"

using namespace distilbert::tokenizer;
using unicode::DecodedChar;

namespace {

std::vector<DecodedChar> decode(std::string_view s) {
  std::vector<DecodedChar> out;
  unicode::decode_utf8(s, out);
  return out;
}

std::vector<char32_t> cps(std::string_view s) {
  std::vector<char32_t> out;
  for (const auto& c : decode(s)) out.push_back(c.cp);
  return out;
}

}  // namespace

TEST_CASE("decode_utf8 gives code points with their byte ranges", "[tokenizer][unicode]") {
  const auto d = decode("a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");  // a é 中 😀
  REQUIRE(d.size() == 4);
  CHECK(d[0].cp == U'a');
  CHECK(d[1].cp == 0xE9);
  CHECK(d[2].cp == 0x4E2D);
  CHECK(d[3].cp == 0x1F600);
  CHECK((d[1].begin == 1 && d[1].end == 3));
  CHECK((d[2].begin == 3 && d[2].end == 6));
  CHECK((d[3].begin == 6 && d[3].end == 10));
}

TEST_CASE("invalid UTF-8 becomes U+FFFD per maximal subpart and never throws", "[tokenizer][unicode]") {
  const char32_t R = unicode::kReplacementChar;
  CHECK(cps("ab\xFF" "cd") == std::vector<char32_t>{U'a', U'b', R, U'c', U'd'});
  CHECK(cps("\xC3") == std::vector<char32_t>{R});                        // truncated 2-byte at the end
  CHECK(cps("\xE2\x82" "x") == std::vector<char32_t>{R, U'x'});          // truncated 3-byte: one U+FFFD
  CHECK(cps("\xF0\x9F\x98") == std::vector<char32_t>{R});                // truncated 4-byte
  CHECK(cps("\xC0\xAF") == std::vector<char32_t>{R, R});                 // overlong
  CHECK(cps("\xED\xA0\x80") == std::vector<char32_t>{R, R, R});          // surrogate U+D800
  CHECK(cps("\xF4\x90\x80\x80") == std::vector<char32_t>{R, R, R, R});   // > U+10FFFF
  CHECK(cps("\x80\x80") == std::vector<char32_t>{R, R});                 // lone continuation bytes
  const auto d = decode("a\xE2\x82" "b");
  REQUIRE(d.size() == 3);
  CHECK((d[1].begin == 1 && d[1].end == 3));  // the replacement covers both bad bytes

  CHECK(unicode::is_valid_utf8("h\xC3\xA9llo \xEF\xBF\xBD"));  // an encoded U+FFFD is valid
  CHECK_FALSE(unicode::is_valid_utf8("h\xC3llo"));
  CHECK(unicode::sanitize_utf8("h\xC3llo") == "h\xEF\xBF\xBDllo");
  CHECK(unicode::char_count("a\xC3\xA9\xFF") == 3);
  const auto map = unicode::byte_to_char_index("a\xC3\xA9z");
  CHECK(map == std::vector<std::uint32_t>{0, 1, 1, 2, 3});

  // Random bytes: decoding covers every byte exactly once.
  std::uint32_t state = 12345;
  for (int round = 0; round < 500; ++round) {
    std::string s;
    for (int k = 0; k < 40; ++k) {
      state = state * 1664525u + 1013904223u;
      s.push_back(static_cast<char>(state >> 24));
    }
    const auto chars = decode(s);
    std::uint32_t pos = 0;
    for (const auto& c : chars) {
      REQUIRE(c.begin == pos);
      REQUIRE(c.end > c.begin);
      pos = c.end;
    }
    REQUIRE(pos == s.size());
  }
}

TEST_CASE("append_utf8 round-trips", "[tokenizer][unicode]") {
  for (char32_t c : {U'A', char32_t(0xE9), char32_t(0x4E2D), char32_t(0x1F600), char32_t(0x10FFFF)}) {
    std::string s;
    unicode::append_utf8(c, s);
    CHECK(s.size() == unicode::utf8_length(c));
    CHECK(cps(s) == std::vector<char32_t>{c});
  }
}

TEST_CASE("character classes follow the Rust and Python definitions", "[tokenizer][unicode]") {
  // whitespace
  for (char32_t c : {U' ', U'\t', U'\n', U'\r', char32_t(0xA0), char32_t(0x3000), char32_t(0x2028), char32_t(0x2029),
                     char32_t(0x1680), char32_t(0x202F)}) {
    CHECK(unicode::is_whitespace_fast(c));
  }
  CHECK(unicode::is_whitespace_fast(0x0B));  // Rust char::is_whitespace (clean_text drops it first: Cc)
  CHECK_FALSE(unicode::is_whitespace_fast(0x200B));  // zero width space is Cf, not White_Space
  CHECK_FALSE(unicode::is_whitespace_fast(U'a'));
  CHECK(unicode::is_whitespace_slow(0xA0));
  CHECK(unicode::is_whitespace_slow(0x3000));
  CHECK_FALSE(unicode::is_whitespace_slow(0x2028));  // Zl: Python's _is_whitespace keeps it...
  CHECK(unicode::is_python_isspace(0x2028));         // ...but str.split() splits on it
  CHECK(unicode::is_python_isspace(0x1F));

  // control
  CHECK(unicode::is_control(0x00, Flavor::fast));
  CHECK(unicode::is_control(0x7F, Flavor::fast));
  CHECK(unicode::is_control(0x85, Flavor::fast));
  CHECK(unicode::is_control(0x200B, Flavor::fast));   // Cf
  CHECK(unicode::is_control(0xFEFF, Flavor::fast));   // Cf
  CHECK(unicode::is_control(0xE000, Flavor::fast));   // Co
  CHECK_FALSE(unicode::is_control(U'\t', Flavor::fast));
  CHECK_FALSE(unicode::is_control(U'\n', Flavor::slow));
  CHECK_FALSE(unicode::is_control(0x378, Flavor::fast));  // unassigned: kept by the Rust library
  CHECK(unicode::is_control(0x378, Flavor::slow));        // ... dropped by Python

  // punctuation: every non-alphanumeric printable ASCII char, plus Unicode P*
  for (char c : std::string("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")) CHECK(unicode::is_punctuation(static_cast<char32_t>(c)));
  CHECK(unicode::is_punctuation(0xBF));    // ¿
  CHECK(unicode::is_punctuation(0x2014));  // em dash
  CHECK(unicode::is_punctuation(0x3002));  // ideographic full stop
  CHECK_FALSE(unicode::is_punctuation(0x20AC));  // € is Sc
  CHECK_FALSE(unicode::is_punctuation(U'a'));

  // CJK ranges
  CHECK(unicode::is_chinese_char(0x4E2D, Flavor::fast));
  CHECK(unicode::is_chinese_char(0x20000, Flavor::fast));
  CHECK(unicode::is_chinese_char(0xF900, Flavor::fast));
  CHECK_FALSE(unicode::is_chinese_char(0x3042, Flavor::fast));  // hiragana
  CHECK_FALSE(unicode::is_chinese_char(0xAC00, Flavor::fast));  // hangul
  CHECK_FALSE(unicode::is_chinese_char(0x2B820, Flavor::fast));  // Rust starts that range at 0x2B920
  CHECK(unicode::is_chinese_char(0x2B820, Flavor::slow));
  CHECK(unicode::is_chinese_char(0x2B920, Flavor::fast));

  CHECK(unicode::is_nonspacing_mark(0x301));
  CHECK_FALSE(unicode::is_nonspacing_mark(U'e'));
  CHECK(unicode::combining_class(0x301) == 230);
  CHECK(unicode::combining_class(0x316) == 220);

  char32_t out[2];
  CHECK(unicode::lowercase(U'Q', out) == 1);
  CHECK(out[0] == U'q');
  CHECK(unicode::lowercase(0x130, out) == 2);  // İ -> i + combining dot above
  CHECK((out[0] == U'i' && out[1] == 0x307));
  CHECK(unicode::lowercase(0x3A3, out) == 1);  // Σ -> σ (no final-sigma context, like Rust)
  CHECK(out[0] == 0x3C3);

  std::vector<char32_t> nfd;
  unicode::append_nfd(0xE9, nfd);
  CHECK(nfd == std::vector<char32_t>{U'e', 0x301});
  nfd.clear();
  unicode::append_nfd(0xAC01, nfd);  // 각 -> jamo
  CHECK(nfd == std::vector<char32_t>{0x1100, 0x1161, 0x11A8});
}
