#include "distilbert/tokenizer/wordpiece.h"

#include <cstring>
#include <fstream>

#include "distilbert/core/error.h"

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

std::uint64_t Vocab::hash(std::string_view s) {
  // A small multiply-xorshift hash over 8-byte words (tokens are short).
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  std::uint64_t v = 0;
  std::memcpy(&v, p, n);
  h = (h ^ v) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return h;
}

void Vocab::build_index(std::string_view source) {
  std::size_t capacity = 16;
  while (capacity < 2 * tokens_.size()) capacity *= 2;
  slots_.assign(capacity, Slot{0, -1});
  mask_ = capacity - 1;
  max_token_chars_ = 0;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const std::uint64_t h = hash(tokens_[i]);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    std::size_t k = h & mask_;
    for (; slots_[k].id >= 0; k = (k + 1) & mask_) {
      const Slot& s = slots_[k];
      if (s.tag == tag && tokens_[static_cast<std::size_t>(s.id)] == tokens_[i]) {
        fail(source, ": duplicate token '", tokens_[i], "' at id ", i, " (first seen at id ", s.id,
             "); every token must be unique");
      }
    }
    slots_[k] = Slot{tag, static_cast<std::int32_t>(i)};
    max_token_chars_ = std::max(max_token_chars_, unicode::char_count(tokens_[i]));
  }
}

Vocab Vocab::from_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "vocab file ", path.string(), ": cannot open it (expected a BERT vocab.txt, one token per line)");
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(line);
  }
  check(!in.bad(), "vocab file ", path.string(), ": read error");
  check(!tokens.empty(), "vocab file ", path.string(), ": it is empty (expected one token per line)");
  try {
    return Vocab(std::move(tokens), path.string());
  } catch (const Error& e) {
    // Vocab ids are 0-based; line numbers in editors are 1-based.
    fail(e.what(), " (ids are 0-based line indices of ", path.string(), ")");
  }
}

const std::string& Vocab::token(std::int64_t id) const {
  check(id >= 0 && static_cast<std::size_t>(id) < tokens_.size(), "vocabulary: token id ", id,
        " is out of range (vocabulary size ", tokens_.size(), ")");
  return tokens_[static_cast<std::size_t>(id)];
}

WordPiece::WordPiece(Vocab vocab, WordPieceOptions options) : vocab_(std::move(vocab)), options_(std::move(options)) {
  const auto unk = vocab_.find(options_.unk_token);
  check(unk.has_value(), "WordPiece: the unknown token '", options_.unk_token,
        "' is not in the vocabulary (", vocab_.size(), " tokens); add it or set unk_token");
  unk_id_ = *unk;
}

void WordPiece::tokenize_word(const NormalizedText& text, WordSpan span, std::vector<WordPiecePiece>& out,
                              std::string& scratch) const {
  const std::uint32_t n = span.end - span.begin;
  if (n == 0) return;
  if (n > options_.max_input_chars_per_word) {
    out.push_back({unk_id_, span.begin, span.end});
    return;
  }
  // scratch = prefix + UTF-8 of the word; char_pos[k] = byte offset (after the prefix) of char k.
  const std::string& prefix = options_.continuing_subword_prefix;
  scratch.assign(prefix);
  const std::size_t base = prefix.size();
  std::uint32_t char_pos[128];
  std::vector<std::uint32_t> char_pos_big;
  std::uint32_t* pos = char_pos;
  if (n + 1 > 128) {
    char_pos_big.resize(n + 1);
    pos = char_pos_big.data();
  }
  for (std::uint32_t k = 0; k < n; ++k) {
    pos[k] = static_cast<std::uint32_t>(scratch.size() - base);
    unicode::append_utf8(text[span.begin + k].cp, scratch);
  }
  pos[n] = static_cast<std::uint32_t>(scratch.size() - base);

  const std::size_t first = out.size();
  const std::size_t max_chars = vocab_.max_token_chars();
  std::uint32_t start = 0;
  while (start < n) {
    // A piece after the first is looked up as prefix + piece: build it in place right before the piece
    // by temporarily overwriting the previous bytes with the prefix.
    std::uint32_t end = n;
    if (max_chars > 0 && end - start > max_chars) end = start + static_cast<std::uint32_t>(max_chars);
    std::int32_t found = -1;
    if (start == 0) {
      for (; end > start; --end) {
        const auto id = vocab_.find(std::string_view(scratch.data() + base, pos[end]));
        if (id) {
          found = *id;
          break;
        }
      }
    } else {
      const std::size_t piece_begin = base + pos[start];
      const std::string saved = scratch.substr(piece_begin - base, base);
      scratch.replace(piece_begin - base, base, prefix);
      for (; end > start; --end) {
        const auto id = vocab_.find(std::string_view(scratch.data() + piece_begin - base, base + pos[end] - pos[start]));
        if (id) {
          found = *id;
          break;
        }
      }
      scratch.replace(piece_begin - base, base, saved);
    }
    if (found < 0) {
      out.resize(first);
      out.push_back({unk_id_, span.begin, span.end});
      return;
    }
    out.push_back({found, span.begin + start, span.begin + end});
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
