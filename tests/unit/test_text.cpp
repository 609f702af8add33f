// Tests for the string helpers of distilbert/core/text.h that the library's parsers and the augmentation share.
#include <catch2/catch.hpp>

#include "distilbert/core/text.h"

using distilbert::split_whitespace;
using Words = std::vector<std::string>;

TEST_CASE("split_whitespace: runs of non-space characters, every ASCII space kind a separator", "[text]") {
  CHECK(split_whitespace("") == Words{});
  CHECK(split_whitespace(" \t\n\r\v\f") == Words{});
  CHECK(split_whitespace("one") == Words{"one"});
  CHECK(split_whitespace("  one\ttwo\n\nthree \r\nfour\v\ffive  ") == Words{"one", "two", "three", "four", "five"});
  // Bytes of multi-byte UTF-8 (>= 0x80) are never spaces, whatever the sign of char: "naïve café" stays two words,
  // and U+00A0 (no-break space, C2 A0) is not a separator in the C locale.
  CHECK(split_whitespace("na\xc3\xafve caf\xc3\xa9") == Words{"na\xc3\xafve", "caf\xc3\xa9"});
  CHECK(split_whitespace("a\xc2\xa0" "b") == Words{"a\xc2\xa0" "b"});
  // A NUL byte inside the view is a character, not an end.
  CHECK(split_whitespace(std::string_view("a\0b c", 5)) == Words{std::string("a\0b", 3), "c"});
}
