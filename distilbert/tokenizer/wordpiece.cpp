#include "distilbert/tokenizer/wordpiece.h"

#include <cstring>
#include <fstream>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"

namespace distilbert::tokenizer {

Vocab::Vocab(std::vector<std::string> tokens, std::string_view source) : tokens_(std::move(tokens)) {
  build_index(source);
}

Vocab::Vocab(const Vocab& other) : tokens_(other.tokens_) { build_index("vocabulary"); }

Vocab& Vocab::operator=(const Vocab& other) {
  if (this != &other) {
    tokens_ = other.tokens_;
    build_index("vocabulary");
  }
  return *this;
}

void Vocab::Table::reset(std::size_t count) {
  std::size_t capacity = 16;
  while (capacity < 2 * count) capacity *= 2;
  slots_.assign(capacity, Slot{0, 0, -1});
  mask_ = capacity - 1;
  filter_.assign(kFilterBits / 64, 0);
  long_keys_.assign(count, std::string());
}

std::int32_t Vocab::Table::insert(std::string_view key, std::int32_t id) {
  const Key k = make_key(key);
  std::size_t i = hash(k) & mask_;
  for (; slots_[i].id >= 0; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.lo == k.lo && s.hi == k.hi && (key.size() <= kInline || long_equal(s, key))) return s.id;
  }
  slots_[i] = Slot{k.lo, k.hi, id};
  const std::size_t bit = (hash(k) >> 40) & (kFilterBits - 1);
  filter_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
  if (key.size() > kInline) {
    if (static_cast<std::size_t>(id) >= long_keys_.size()) long_keys_.resize(static_cast<std::size_t>(id) + 1);
    long_keys_[static_cast<std::size_t>(id)] = std::string(key);
  }
  return -1;
}

void Vocab::build_index(std::string_view source) {
  index_.reset(tokens_.size());
  max_token_chars_ = 0;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const std::int32_t first = index_.insert(tokens_[i], static_cast<std::int32_t>(i));
    if (first >= 0) {
      fail(source, ": duplicate token '", tokens_[i], "' at id ", i, " (first seen at id ", first,
           "); every token must be unique");
    }
    max_token_chars_ = std::max(max_token_chars_, unicode::char_count(tokens_[i]));
  }
}

Vocab Vocab::from_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  DISTILBERT_CHECK(in.good(), "vocab file ", path.string(),
                   ": cannot open it (expected a BERT vocab.txt, one token per line)");
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // HF reads vocab.txt as UTF-8 and writes tokenizer.json from it: a token that is not UTF-8 would be accepted
    // here and fail only when the folder is saved again (after other files were written).
    const size_t bad = invalid_utf8_at(line);
    DISTILBERT_CHECK(bad == std::string::npos, "vocab file ", printable(path.string()), ":", tokens.size() + 1,
                     ": token '", printable(line), "' is not valid UTF-8 (byte ", bad,
                     "); vocab.txt holds one UTF-8 token per line");
    tokens.push_back(line);
  }
  DISTILBERT_CHECK(!in.bad(), "vocab file ", path.string(), ": read error");
  DISTILBERT_CHECK(!tokens.empty(), "vocab file ", path.string(), ": it is empty (expected one token per line)");
  try {
    return Vocab(std::move(tokens), path.string());
  } catch (const Error& e) {
    // Vocab ids are 0-based; line numbers in editors are 1-based.
    fail(e.what(), " (ids are 0-based line indices of ", path.string(), ")");
  }
}

const std::string& Vocab::token(std::int64_t id) const {
  DISTILBERT_CHECK(id >= 0 && static_cast<std::size_t>(id) < tokens_.size(), "vocabulary: token id ", id,
                   " is out of range (vocabulary size ", tokens_.size(), ")");
  return tokens_[static_cast<std::size_t>(id)];
}

WordPiece::WordPiece(Vocab vocab, WordPieceOptions options) : vocab_(std::move(vocab)), options_(std::move(options)) {
  const auto unk = vocab_.find(options_.unk_token);
  DISTILBERT_CHECK(unk.has_value(), "WordPiece: the unknown token '", options_.unk_token,
                   "' is not in the vocabulary (", vocab_.size(), " tokens); add it or set unk_token");
  unk_id_ = *unk;
  const std::string& prefix = options_.continuing_subword_prefix;
  if (!prefix.empty()) {
    const auto& tokens = vocab_.tokens();
    continuation_.reset(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string& t = tokens[i];
      if (t.size() < prefix.size() || t.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string_view rest = std::string_view(t).substr(prefix.size());
      continuation_.insert(rest, static_cast<std::int32_t>(i));  // "##x" are unique, so are the "x"
      max_continuation_chars_ = std::max(max_continuation_chars_, unicode::char_count(rest));
    }
  }
}

void WordPiece::tokenize_word(const NormalizedText& text, WordSpan span, std::vector<WordPiecePiece>& out,
                              std::string& scratch) const {
  const std::uint32_t n = span.end - span.begin;
  if (n == 0) return;
  if (n > options_.max_input_chars_per_word) {
    out.push_back({unk_id_, span.begin, span.end, 0, 0});
    return;
  }
  // scratch = UTF-8 of the word; pos[k] = byte offset of char k.
  std::uint32_t char_pos[128];
  std::vector<std::uint32_t> char_pos_big;
  std::uint32_t* pos = char_pos;
  if (n + 1 > 128) {
    char_pos_big.resize(n + 1);
    pos = char_pos_big.data();
  }
  // Optimistically copy as ASCII (one byte per char); redo as UTF-8 if any char was not ASCII.
  // 16 bytes of slack after the word: Vocab::Table::find_padded() reads 12 bytes from a piece's start.
  scratch.resize(n + 16);
  char32_t any_high = 0;
  const unicode::DecodedChar* chars = text.data() + span.begin;
  char* dst = scratch.data();
  for (std::uint32_t k = 0; k < n; ++k) {
    const char32_t c = chars[k].cp;
    any_high |= c;
    dst[k] = static_cast<char>(c);
    pos[k] = k;
  }
  pos[n] = n;
  if (any_high >= 0x80) {
    scratch.clear();
    for (std::uint32_t k = 0; k < n; ++k) {
      pos[k] = static_cast<std::uint32_t>(scratch.size());
      unicode::append_utf8(text[span.begin + k].cp, scratch);
    }
    pos[n] = static_cast<std::uint32_t>(scratch.size());
    scratch.resize(scratch.size() + 16);
  }

  // A piece after the first is the vocabulary token prefix + piece: looked up as piece in continuation_
  // (or as piece in the vocabulary when the prefix is empty).
  const bool use_continuation = !options_.continuing_subword_prefix.empty();
  const std::size_t first = out.size();
  const char* bytes = scratch.data();
  std::uint32_t start = 0;
  while (start < n) {
    const std::size_t max_chars =
        start == 0 || !use_continuation ? vocab_.max_token_chars() : max_continuation_chars_;
    std::uint32_t end = n;
    if (end - start > max_chars) end = start + static_cast<std::uint32_t>(max_chars);
    std::int32_t found = -1;
    if (start == 0 || !use_continuation) {
      for (; end > start; --end) {
        const std::int32_t id = vocab_.find_padded(bytes + pos[start], pos[end] - pos[start]);
        if (id >= 0) {
          found = id;
          break;
        }
      }
    } else {
      for (; end > start; --end) {
        const std::int32_t id = continuation_.find_padded(bytes + pos[start], pos[end] - pos[start]);
        if (id >= 0) {
          found = id;
          break;
        }
      }
    }
    if (found < 0) {
      out.resize(first);
      out.push_back({unk_id_, span.begin, span.end, 0, 0});
      return;
    }
    out.push_back({found, span.begin + start, span.begin + end, pos[start], pos[end]});
    start = end;
  }
}

std::vector<std::string> WordPiece::tokenize(std::string_view word) const {
  NormalizedText chars;
  unicode::decode_utf8(word, chars);
  std::vector<WordPiecePiece> pieces;
  std::string scratch;
  tokenize_word(chars, {0, static_cast<std::uint32_t>(chars.size())}, pieces, scratch);
  std::vector<std::string> out;
  for (const auto& p : pieces) out.push_back(vocab_.token(p.id));
  return out;
}

}  // namespace distilbert::tokenizer
