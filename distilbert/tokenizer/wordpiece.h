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
    const auto it = index_.find(token);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }
  bool contains(std::string_view token) const { return index_.count(token) != 0; }
  /// The token with this id; throws distilbert::Error if out of range.
  const std::string& token(std::int64_t id) const;
  std::size_t size() const { return tokens_.size(); }
  const std::vector<std::string>& tokens() const { return tokens_; }
  /// Longest token in code points (an upper bound for the WordPiece search).
  std::size_t max_token_chars() const { return max_token_chars_; }

 private:
  void build_index(std::string_view source);

  std::vector<std::string> tokens_;
  std::unordered_map<std::string_view, std::int32_t> index_;
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
