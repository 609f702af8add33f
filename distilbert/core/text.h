// Small string helpers shared by the library's files (one definition, so that files can also be compiled
// together in a unity build).
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace distilbert {

/// Offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, surrogates or values past U+10FFFF), or npos.
inline size_t invalid_utf8_at(std::string_view s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = b[i];
    size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      const unsigned d = b[i + k];
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) return i;
    }
    i += len;
  }
  return std::string::npos;
}

/// `s` for messages and for JSON files that record it: valid UTF-8 as it is, every other byte as "\xNN". A Linux
/// path is bytes and is used as such; only its display is escaped (nlohmann::json refuses invalid UTF-8).
inline std::string printable(std::string_view s) {
  std::string out;
  while (!s.empty()) {
    const size_t bad = invalid_utf8_at(s);
    out.append(s.substr(0, bad));
    if (bad == std::string::npos) break;
    static const char* kHex = "0123456789ABCDEF";
    const auto c = static_cast<unsigned char>(s[bad]);
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
    s.remove_prefix(bad + 1);
  }
  return out;
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// ASCII lower case; other bytes (UTF-8 included) are left as they are.
inline std::string ascii_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The words of `s`: its runs of non-whitespace characters (std::isspace, the C locale), in order.
inline std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const std::size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

/// "a, b, c" for messages that list names.
inline std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

}  // namespace distilbert
