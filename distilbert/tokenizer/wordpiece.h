// WordPiece vocabulary and the greedy longest-match-first WordPiece model (SPEC §4.2).
#pragma once

#include <cstdint>
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
  /// The token with this id; throws distilbert::Error if out of range.
  const std::string& token(std::int64_t id) const;
  std::size_t size() const { return tokens_.size(); }
  const std::vector<std::string>& tokens() const { return tokens_; }
  /// Longest token in code points (an upper bound for the WordPiece search).
  std::size_t max_token_chars() const { return max_token_chars_; }

 private:
  void build_index(std::string_view source);
  static std::uint64_t hash(std::string_view s);
  /// The id of `token`, or -1.
  std::int32_t lookup(std::string_view token) const {
    if (slots_.empty()) return -1;
    const std::uint64_t h = hash(token);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.tag == tag && tokens_[static_cast<std::size_t>(s.id)] == token) return s.id;
    }
  }

  // Open-addressing hash table (linear probing, load <= 1/2): a lookup is one or two cache lines, where a
  // node-based std::unordered_map costs a pointer chase per lookup (WordPiece does many per word).
  struct Slot {
    std::uint32_t tag;  // high 32 bits of the hash
    std::int32_t id;    // -1: empty
  };
  std::vector<std::string> tokens_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
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
};

}  // namespace distilbert::tokenizer
