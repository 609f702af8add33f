#include "distilbert/tokenizer/unicode.h"

#include <utf8proc.h>

#include <limits>

#include "distilbert/core/error.h"

namespace distilbert::tokenizer::unicode {

namespace {

inline utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

// Decode one unit starting at text[i]; returns the code point (U+FFFD for an ill-formed subsequence)
// and advances i past the maximal subpart.
inline char32_t decode_one(std::string_view text, std::size_t& i) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  const unsigned char b0 = s[i];
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    ++i;  // 0x80..0xC1, 0xF5..0xFF: never valid as a first byte
    return kReplacementChar;
  }
  std::size_t j = i + 1;
  for (int k = 0; k < need; ++k) {
    if (j >= n) {
      i = j;
      return kReplacementChar;
    }
    const unsigned char b = s[j];
    if (b < lo || b > hi) {
      i = j;
      return kReplacementChar;
    }
    cp = (cp << 6) | (b & 0x3F);
    ++j;
    lo = 0x80;
    hi = 0xBF;
  }
  i = j;
  return cp;
}

}  // namespace

void decode_utf8(std::string_view text, std::vector<DecodedChar>& out, std::uint32_t base) {
  DISTILBERT_CHECK(text.size() + base < std::numeric_limits<std::uint32_t>::max(), "tokenizer input: text of ",
                   text.size(), " bytes is too long (the limit is 4 GiB)");
  // At most one code point per byte: size for that, write through a pointer, then trim.
  const std::size_t old = out.size();
  out.resize(old + text.size());
  DecodedChar* o = out.data() + old;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t start = i;
    const auto b = static_cast<std::uint32_t>(start + base);
    if (s[i] < 0x80) {
      *o++ = {s[i], b, b + 1};
      ++i;
      continue;
    }
    const char32_t cp = decode_one(text, i);
    *o++ = {cp, b, static_cast<std::uint32_t>(i + base)};
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    const char32_t cp = decode_one(text, i);
    if (cp == kReplacementChar && !(i - start == 3 && static_cast<unsigned char>(text[start]) == 0xEF)) {
      return false;  // an encoded U+FFFD (EF BF BD) is valid; everything else that yields U+FFFD is not
    }
  }
  return true;
}

std::string sanitize_utf8(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  std::size_t i = 0;
  while (i < text.size()) append_utf8(decode_one(text, i), out);
  return out;
}

std::size_t char_count(std::string_view text) {
  std::size_t count = 0, i = 0;
  while (i < text.size()) {
    decode_one(text, i);
    ++count;
  }
  return count;
}

std::vector<std::uint32_t> byte_to_char_index(std::string_view text) {
  std::vector<std::uint32_t> table(text.size() + 1);
  std::uint32_t index = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    decode_one(text, i);
    for (std::size_t b = start; b < i; ++b) table[b] = index;
    ++index;
  }
  table[text.size()] = index;
  return table;
}

bool is_whitespace_fast(char32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return true;
  if (c < 0x80) return false;
  if (c == 0x85) return true;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_whitespace_slow(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  if (c < 0x80) return false;
  return category(c) == UTF8PROC_CATEGORY_ZS;
}

bool is_python_isspace(char32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return true;
  if (c < 0x80) return false;
  const auto* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  if (p->category == UTF8PROC_CATEGORY_ZS) return true;
  return p->bidi_class == UTF8PROC_BIDI_CLASS_WS || p->bidi_class == UTF8PROC_BIDI_CLASS_B ||
         p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

bool is_control(char32_t c, Flavor flavor) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  if (c < 0x20 || c == 0x7F) return true;
  if (c < 0x80) return false;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CO ||
         cat == UTF8PROC_CATEGORY_CS || (flavor == Flavor::slow && cat == UTF8PROC_CATEGORY_CN);
}

bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
    return true;
  }
  if (c < 0x80) return false;
  const auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_chinese_char(char32_t c, Flavor flavor) {
  if (c < 0x3400) return false;
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) ||
         (flavor == Flavor::fast ? (c >= 0x2B920 && c <= 0x2CEAF) : (c >= 0x2B820 && c <= 0x2CEAF)) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t c) {
  if (c < 0x300) return false;
  return category(c) == UTF8PROC_CATEGORY_MN;
}

int combining_class(char32_t c) {
  if (c < 0x300) return 0;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

bool is_word_char(char32_t c) {
  if (c < 0x80) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  if (c == 0x200C || c == 0x200D) return true;
  const auto cat = category(c);
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ND) || cat == UTF8PROC_CATEGORY_NL ||
         cat == UTF8PROC_CATEGORY_PC;
}

void append_nfd(char32_t c, std::vector<char32_t>& out) {
  if (c < 0xC0) {
    out.push_back(c);
    return;
  }
  utf8proc_int32_t buffer[32];
  int boundclass = 0;
  const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buffer, 32,
                                                      UTF8PROC_DECOMPOSE, &boundclass);
  if (n <= 0 || n > 32) {  // cannot happen for scalar values; keep the char rather than fail
    out.push_back(c);
    return;
  }
  for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back(static_cast<char32_t>(buffer[k]));
}

int lowercase(char32_t c, char32_t out[2]) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  if (c == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE: SpecialCasing "0069 0307"
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  return 1;
}

}  // namespace distilbert::tokenizer::unicode
