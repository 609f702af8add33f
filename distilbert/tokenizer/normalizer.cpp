#include "distilbert/tokenizer/normalizer.h"

#include <algorithm>

namespace distilbert::tokenizer {

using unicode::DecodedChar;

namespace {

// Character classes of the 128 ASCII code points, computed once at startup from the unicode:: predicates
// themselves (so they agree by construction); the per-character loops below use them instead of calling
// out for every ASCII character.
enum : std::uint8_t {
  kControlFast = 1,  // dropped by clean_text (fast flavour), including NUL
  kControlSlow = 2,  // dropped by clean_text (slow flavour)
  kWsFast = 4,       // is_whitespace_fast: mapped to ' ' by clean_text (fast) and split on (fast)
  kWsSlow = 8,       // is_whitespace_slow: mapped to ' ' by clean_text (slow)
  kPySpace = 16,     // is_python_isspace: split on (slow)
  kPunct = 32,       // is_punctuation
};

struct AsciiTable {
  std::uint8_t flags[128];
  AsciiTable() {
    for (char32_t c = 0; c < 128; ++c) {
      std::uint8_t f = 0;
      if (c == 0 || unicode::is_control(c, Flavor::fast)) f |= kControlFast;
      if (c == 0 || unicode::is_control(c, Flavor::slow)) f |= kControlSlow;
      if (unicode::is_whitespace_fast(c)) f |= kWsFast;
      if (unicode::is_whitespace_slow(c)) f |= kWsSlow;
      if (unicode::is_python_isspace(c)) f |= kPySpace;
      if (unicode::is_punctuation(c)) f |= kPunct;
      flags[c] = f;
    }
  }
};

// A function-local static: safe to use from constructors of other static objects.
const AsciiTable& ascii_table() {
  static const AsciiTable table;
  return table;
}

}  // namespace

void BertNormalizer::build_ascii_map() {
  const std::uint8_t drop = flavor_ == Flavor::fast ? kControlFast : kControlSlow;
  const std::uint8_t space = flavor_ == Flavor::fast ? kWsFast : kWsSlow;
  for (unsigned c = 0; c < 128; ++c) {
    const std::uint8_t f = ascii_table().flags[c];
    unsigned x = c;
    if (options_.clean_text && (f & drop)) {
      ascii_map_[c] = kDropped;
      continue;
    }
    if (options_.clean_text && (f & space)) x = ' ';
    if (options_.lowercase && x >= 'A' && x <= 'Z') x += 32;
    ascii_map_[c] = static_cast<std::uint8_t>(x);
  }
}

void BertNormalizer::normalize(NormalizedText& text, NormalizedText& scratch) const {
  const bool strip = options_.effective_strip_accents();
  bool any_non_ascii = false;

  // clean_text and handle_chinese_chars in one pass.
  if (options_.clean_text || options_.handle_chinese_chars) {
    bool any_cjk = false;
    std::size_t w = 0;
    // ASCII characters are lowercased here already (ascii_map_): a per-character mapping that the later
    // steps leave alone (NFD and mark removal do not touch ASCII; lowercasing again is a no-op).
    const std::size_t size = text.size();
    DecodedChar* data = text.data();
    for (std::size_t r = 0; r < size; ++r) {
      DecodedChar ch = data[r];
      if (ch.cp < 0x80) {  // branch-free: write the mapped char, keep it unless it is dropped
        const std::uint8_t m = ascii_map_[ch.cp];
        data[w] = {m, ch.begin, ch.end};
        w += m != kDropped;
        continue;
      }
      if (options_.clean_text) {
        const char32_t c = ch.cp;
        if (c == 0 || c == unicode::kReplacementChar || unicode::is_control(c, flavor_)) continue;
        const bool ws = flavor_ == Flavor::fast ? unicode::is_whitespace_fast(c) : unicode::is_whitespace_slow(c);
        if (ws) ch.cp = ' ';
      }
      if (ch.cp >= 0x80) {
        any_non_ascii = true;
        if (options_.handle_chinese_chars && unicode::is_chinese_char(ch.cp, flavor_)) any_cjk = true;
      }
      text[w++] = ch;
    }
    text.resize(w);
    if (any_cjk) {
      scratch.clear();
      scratch.reserve(text.size() + 16);
      for (const DecodedChar& ch : text) {
        if (ch.cp >= 0x3400 && unicode::is_chinese_char(ch.cp, flavor_)) {
          scratch.push_back({' ', ch.begin, ch.end});
          scratch.push_back(ch);
          scratch.push_back({' ', ch.begin, ch.end});
        } else {
          scratch.push_back(ch);
        }
      }
      text.swap(scratch);
    }
  } else {
    for (const DecodedChar& ch : text) {
      if (ch.cp >= 0x80) {
        any_non_ascii = true;
        break;
      }
    }
  }

  if (!any_non_ascii) {  // ASCII fast path: no decomposition, no marks, simple lowercase
    if (options_.lowercase && !(options_.clean_text || options_.handle_chinese_chars)) {  // else done above
      for (DecodedChar& ch : text) {
        if (ch.cp >= 'A' && ch.cp <= 'Z') ch.cp += 32;
      }
    }
    return;
  }
  if (flavor_ == Flavor::fast) {
    if (strip) strip_accents(text, scratch);
    if (options_.lowercase) lowercase(text, scratch);
  } else {
    if (options_.lowercase) lowercase(text, scratch);
    if (strip) strip_accents(text, scratch);
  }
}

void BertNormalizer::strip_accents(NormalizedText& text, NormalizedText& scratch) const {
  // NFD: full canonical decomposition of every char, then canonical reordering of each run of non-starters
  // (stable sort by combining class), then drop the Mn characters.
  scratch.clear();
  scratch.reserve(text.size() + 8);
  std::vector<char32_t> decomposed;
  bool any_nonstarter = false;
  for (const DecodedChar& ch : text) {
    if (ch.cp < 0xC0) {
      scratch.push_back(ch);
      continue;
    }
    decomposed.clear();
    unicode::append_nfd(ch.cp, decomposed);
    for (char32_t d : decomposed) {
      scratch.push_back({d, ch.begin, ch.end});
      if (!any_nonstarter && unicode::combining_class(d) != 0) any_nonstarter = true;
    }
  }
  if (any_nonstarter) {
    std::size_t i = 0;
    const std::size_t n = scratch.size();
    while (i < n) {
      if (unicode::combining_class(scratch[i].cp) == 0) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < n && unicode::combining_class(scratch[j].cp) != 0) ++j;
      if (j - i > 1) {
        std::stable_sort(scratch.begin() + static_cast<std::ptrdiff_t>(i),
                         scratch.begin() + static_cast<std::ptrdiff_t>(j),
                         [](const DecodedChar& a, const DecodedChar& b) {
                           return unicode::combining_class(a.cp) < unicode::combining_class(b.cp);
                         });
      }
      i = j;
    }
  }
  text.clear();
  for (const DecodedChar& ch : scratch) {
    if (!unicode::is_nonspacing_mark(ch.cp)) text.push_back(ch);
  }
}

void BertNormalizer::lowercase(NormalizedText& text, NormalizedText& scratch) const {
  bool expands = false;
  for (DecodedChar& ch : text) {
    char32_t out[2];
    if (unicode::lowercase(ch.cp, out) == 2) {
      expands = true;
      continue;
    }
    ch.cp = out[0];
  }
  if (!expands) return;
  scratch.clear();
  scratch.reserve(text.size() + 4);
  for (const DecodedChar& ch : text) {
    char32_t out[2];
    const int n = unicode::lowercase(ch.cp, out);
    for (int k = 0; k < n; ++k) scratch.push_back({out[k], ch.begin, ch.end});
  }
  text.swap(scratch);
}

std::string BertNormalizer::normalize_string(std::string_view text) const {
  NormalizedText chars, scratch;
  unicode::decode_utf8(text, chars);
  normalize(chars, scratch);
  std::string out;
  out.reserve(chars.size());
  for (const DecodedChar& ch : chars) unicode::append_utf8(ch.cp, out);
  return out;
}

void bert_pre_tokenize(const NormalizedText& text, std::uint32_t begin, std::uint32_t end, Flavor flavor,
                       std::vector<WordSpan>& words) {
  if (begin >= end) return;
  const std::uint32_t n = end;
  const std::uint8_t ws_flag = flavor == Flavor::fast ? kWsFast : kPySpace;
  const AsciiTable& ascii = ascii_table();
  // Branch-free over the characters (word boundaries are unpredictable): every char may end a word and
  // be a punctuation word, at most 2 spans per char, written into a per-thread buffer; a span is kept
  // by advancing the count.
  thread_local std::vector<WordSpan> buffer;
  const std::size_t bound = 2 * static_cast<std::size_t>(end - begin) + 1;
  if (buffer.size() < bound) buffer.resize(bound);
  WordSpan* out = buffer.data();
  std::size_t count = 0;
  std::uint32_t start = begin;
  std::uint32_t in_word = 0;
  for (std::uint32_t i = begin; i < n; ++i) {
    const char32_t c = text[i].cp;
    std::uint32_t ws, punct;
    if (c < 0x80) {
      const std::uint8_t f = ascii.flags[c];
      ws = (f & ws_flag) != 0;
      punct = !ws & ((f & kPunct) != 0);
    } else {
      ws = flavor == Flavor::fast ? unicode::is_whitespace_fast(c) : unicode::is_python_isspace(c);
      punct = !ws && unicode::is_punctuation(c);
    }
    const std::uint32_t word_char = !(ws | punct);
    out[count] = {start, i};
    count += in_word & !word_char;          // a word ends before a space or punctuation
    out[count] = {i, i + 1};
    count += punct;                         // punctuation is a word of its own
    start = (word_char & !in_word) ? i : start;  // a word starts
    in_word = word_char;
  }
  if (in_word) out[count++] = {start, n};
  words.insert(words.end(), out, out + count);
  if (buffer.size() > (std::size_t{1} << 17)) {  // after a very long text, do not keep its buffer
    buffer.clear();
    buffer.shrink_to_fit();
  }
}

std::vector<std::string> pre_tokenize_string(const BertNormalizer& normalizer, std::string_view text) {
  NormalizedText chars, scratch;
  unicode::decode_utf8(text, chars);
  normalizer.normalize(chars, scratch);
  std::vector<WordSpan> spans;
  bert_pre_tokenize(chars, 0, static_cast<std::uint32_t>(chars.size()), normalizer.flavor(), spans);
  std::vector<std::string> words;
  words.reserve(spans.size());
  for (const WordSpan& s : spans) {
    std::string w;
    for (std::uint32_t i = s.begin; i < s.end; ++i) unicode::append_utf8(chars[i].cp, w);
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace distilbert::tokenizer
