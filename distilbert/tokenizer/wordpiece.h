// WordPiece vocabulary and the greedy longest-match-first WordPiece model (docs/TOKENIZER.md §2).
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "distilbert/tokenizer/normalizer.h"

namespace distilbert::tokenizer {

/// Token <-> id table; id = position. Lookups hash a std::string_view (no allocation per lookup).
class Vocab {
 public:
  Vocab() = default;
  /// Build from tokens in id order. Throws distilbert::Error naming `source` on a duplicate token.
  explicit Vocab(std::vector<std::string> tokens, std::string_view source = "vocabulary");
  Vocab(const Vocab& other);
  Vocab& operator=(const Vocab& other);
  Vocab(Vocab&&) noexcept = default;
  Vocab& operator=(Vocab&&) noexcept = default;

  /// Read a BERT vocab.txt: one token per line, id = line index (0-based); a trailing "\r" is removed.
  /// Throws on a missing/unreadable file, an empty file or a duplicate token (naming both line numbers).
  static Vocab from_file(const std::filesystem::path& path);

  std::optional<std::int32_t> find(std::string_view token) const {
    const std::int32_t id = lookup(token);
    if (id < 0) return std::nullopt;
    return id;
  }
  bool contains(std::string_view token) const { return lookup(token) >= 0; }
  /// The id of the token p[0, len), or -1; p must have at least 16 readable bytes (see Table::find_padded).
  std::int32_t find_padded(const char* p, std::size_t len) const { return index_.find_padded(p, len); }
  /// The token with this id; throws distilbert::Error if out of range.
  const std::string& token(std::int64_t id) const;
  std::size_t size() const { return tokens_.size(); }
  const std::vector<std::string>& tokens() const { return tokens_; }
  /// Longest token in code points (an upper bound for the WordPiece search).
  std::size_t max_token_chars() const { return max_token_chars_; }

 private:
  void build_index(std::string_view source);

 public:
  /// Open-addressing hash table from token bytes to id (linear probing, load <= 1/2). Each 16-byte slot
  /// holds the first kInline bytes of its key and the key length inline, so a lookup of a short token
  /// (nearly every BERT token) touches one cache line and no std::string; longer keys are confirmed
  /// against the full string. Used for the vocabulary and for WordPiece's "##" continuation table.
  class Table {
   public:
    static constexpr std::size_t kInline = 11;
    /// Empty the table and size it for `count` keys with ids in [0, count).
    void reset(std::size_t count);
    /// Insert `key` with `id`; returns the id already stored for an equal key (and inserts nothing), or -1.
    std::int32_t insert(std::string_view key, std::int32_t id);
    std::int32_t find(std::string_view key) const {
      if (slots_.empty()) return -1;
      return find_key(make_key(key), key);
    }

   private:
    struct Key {
      std::uint64_t lo;
      std::uint32_t hi;
    };
    std::int32_t find_key(const Key& k, std::string_view key) const {
      const std::size_t h = hash(k);
      // A one-bit-per-hash filter (32 KiB, stays in cache) answers most misses -- the longest-match search
      // mostly looks up strings that are not tokens -- without touching the big slot array.
      const std::size_t bit = (h >> 40) & (kFilterBits - 1);
      if (!((filter_[bit >> 6] >> (bit & 63)) & 1)) return -1;
      for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.id < 0) return -1;
        if (s.lo == k.lo && s.hi == k.hi && (key.size() <= kInline || long_equal(s, key))) return s.id;
      }
    }
   public:
    /// find() for a key whose buffer has at least 16 readable bytes from `p` (whatever they hold): the
    /// inline part of the key is read with two unaligned loads instead of being copied byte by byte.
    std::int32_t find_padded(const char* p, std::size_t len) const {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      if (slots_.empty()) return -1;
      Key k;
      std::uint32_t hi;
      std::memcpy(&k.lo, p, 8);
      std::memcpy(&hi, p + 8, 4);
      if (len < 8) {
        k.lo &= len == 0 ? 0 : ~std::uint64_t{0} >> (64 - 8 * len);
        hi = 0;
      } else if (len < kInline) {
        hi &= len == 8 ? 0 : ~std::uint32_t{0} >> (32 - 8 * (len - 8));
      } else {
        hi &= 0x00FFFFFFu;
      }
      k.hi = hi | (static_cast<std::uint32_t>(len < 255 ? len : 255) << 24);
      return find_key(k, std::string_view(p, len));
#else
      return find(std::string_view(p, len));
#endif
    }
    bool empty() const { return slots_.empty(); }

   private:
    struct Slot {
      std::uint64_t lo;  // key bytes 0..7 (zero-padded)
      std::uint32_t hi;  // key bytes 8..10 and min(length, 255) in the top byte
      std::int32_t id;   // -1: empty
    };
    static Key make_key(std::string_view key) {
      unsigned char buf[16] = {};
      std::memcpy(buf, key.data(), key.size() < kInline ? key.size() : kInline);
      buf[11] = static_cast<unsigned char>(key.size() < 255 ? key.size() : 255);
      Key k;
      std::memcpy(&k.lo, buf, 8);
      std::memcpy(&k.hi, buf + 8, 4);
      return k;
    }
    static std::size_t hash(const Key& k) {
      std::uint64_t h = (k.lo ^ (static_cast<std::uint64_t>(k.hi) << 29)) * 0x9E3779B97F4A7C15ull;
      h ^= h >> 32;
      h *= 0xBF58476D1CE4E5B9ull;
      h ^= h >> 29;
      return static_cast<std::size_t>(h);
    }
    bool long_equal(const Slot& s, std::string_view key) const {
      return long_keys_[static_cast<std::size_t>(s.id)] == key;
    }
    static constexpr std::size_t kFilterBits = std::size_t{1} << 18;
    std::vector<Slot> slots_;
    std::vector<std::uint64_t> filter_;
    std::vector<std::string> long_keys_;  // by id; only keys longer than kInline are set
    std::size_t mask_ = 0;
  };

 private:
  /// The id of `token`, or -1.
  std::int32_t lookup(std::string_view token) const { return index_.find(token); }

  std::vector<std::string> tokens_;
  Table index_;
  std::size_t max_token_chars_ = 0;
};

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
};

/// One WordPiece output piece: vocabulary id and the normalised-character range it covers.
struct WordPiecePiece {
  std::int32_t id;
  std::uint32_t begin;
  std::uint32_t end;
  /// The matched bytes within tokenize_word()'s `scratch` (the token is continuing_subword_prefix + those
  /// bytes for a piece after the first). byte_end == 0: no match (the unk token for the whole word).
  std::uint32_t byte_begin = 0;
  std::uint32_t byte_end = 0;
};

/// Greedy longest-match-first WordPiece, as HF tokenizers' models::wordpiece::WordPiece::tokenize:
/// a word longer than max_input_chars_per_word code points, or one with any position where no vocabulary
/// entry matches, becomes a single unk token covering the whole word.
class WordPiece {
 public:
  WordPiece() = default;
  /// Throws distilbert::Error if the unk token is not in the vocabulary.
  WordPiece(Vocab vocab, WordPieceOptions options);

  /// Append the pieces of the word text[span.begin, span.end) to `out`. `scratch` is a reusable buffer.
  void tokenize_word(const NormalizedText& text, WordSpan span, std::vector<WordPiecePiece>& out,
                     std::string& scratch) const;

  /// Convenience: WordPiece of one already-normalised word given as UTF-8.
  std::vector<std::string> tokenize(std::string_view word) const;

  const Vocab& vocab() const { return vocab_; }
  const WordPieceOptions& options() const { return options_; }
  std::int32_t unk_id() const { return unk_id_; }

 private:
  Vocab vocab_;
  WordPieceOptions options_;
  std::int32_t unk_id_ = 0;
  /// Continuation pieces: token "##xyz" indexed under "xyz" (empty when the prefix is empty), so the
  /// longest-match search looks up slices of the word itself without building prefix + piece strings.
  Vocab::Table continuation_;
  std::size_t max_continuation_chars_ = 0;
};

}  // namespace distilbert::tokenizer
