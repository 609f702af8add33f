// Vocabulary training: a new tokenizer from raw text files.
//
// WordPiece (the Hugging Face `tokenizers` WordPieceTrainer, tokenizers/src/models/wordpiece/trainer.rs,
// which runs its BpeTrainer with the "##" continuing-subword prefix):
//   1. every line goes through BertNormalizer (lowercase + strip accents unless cased) and BertPreTokenizer
//      (split on whitespace, isolate punctuation); the words are counted;
//   2. the vocabulary starts with the special tokens ([PAD] [UNK] [CLS] [SEP] [MASK] at ids 0..4), then the
//      alphabet: every character that occurs in a word, in code point order (optionally only the
//      limit_alphabet most frequent ones), then "##c" for each character that occurs inside a word, in the
//      order described under Determinism;
//   3. the most frequent adjacent pair of symbols over all words (weighted by word count) is merged into a
//      new symbol ("hu" + "##g" -> "hug", "##u" + "##g" -> "##ug") until the vocabulary has vocab_size
//      entries, no pair is left, or the best pair occurs fewer than min_frequency times. Ties go to the pair
//      with the smaller ids. Pair counts are kept up to date incrementally (only the words that contain the
//      merged pair are touched, with a priority queue of pairs), as in the Rust implementation, including its
//      lazy re-queueing of stale counts.
//   Note bert-base-uncased has its specials at 0 ([PAD]) and 100..103 ([UNK] [CLS] [SEP] [MASK]) with
//   [unusedN] tokens in between; a trained vocabulary has them at 0..4.
//   Determinism: the Rust trainer numbers the "##c" symbols as it meets them, visiting its word table in hash
//   order with a per-process random seed, and its tie-breaks between equally frequent pairs compare those
//   numbers, so its vocabulary can change from run to run. Here "##c" are numbered in HF's most likely order:
//   by the number of distinct words c continues (a character inside many words is met early), then code
//   point. The same input gives the same vocabulary on every run and machine, whatever the thread count, and
//   it equals HF's in most runs (docs/TOKENIZER.md §6).
//
// Unigram / BPE: the sentencepiece C++ trainer (SentencePieceTrainer) on the lines of the files, with the
// special tokens at ids 0..4: [UNK] is the model's unknown piece, the others user-defined symbols (matched
// when they appear in the text), normalisation nmt_nfkc, with case folding (nmt_nfkc_cf) when lowercase.
// Its thread count is fixed (8) so that the result does not depend on the machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distilbert/tokenizer/bert_tokenizer.h"
#include "distilbert/tokenizer/sentencepiece_tokenizer.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::tokenizer {

enum class TokenizerType { wordpiece, unigram, bpe };

/// "wordpiece", "unigram" or "bpe"; throws distilbert::Error listing them otherwise.
TokenizerType parse_tokenizer_type(std::string_view name);
std::string tokenizer_type_name(TokenizerType type);

struct TrainerOptions {
  TokenizerType type = TokenizerType::wordpiece;
  /// Final vocabulary size, special tokens included (WordPiece: the alphabet is always kept, even if larger).
  std::size_t vocab_size = 30522;
  /// Uncased (BertNormalizer lowercase + strip accents; sentencepiece nmt_nfkc_cf) or cased.
  bool lowercase = true;
  /// WordPiece: stop when the most frequent pair occurs fewer times than this (HF BertWordPieceTokenizer's
  /// train() default is 2, the bare WordPieceTrainer's 0).
  std::uint64_t min_frequency = 2;
  /// WordPiece: keep only the N most frequent characters in the alphabet (nullopt: all of them).
  std::optional<std::size_t> limit_alphabet;
  /// In id order from 0. [UNK], [CLS] and [SEP] are required.
  std::vector<std::string> special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  /// model_max_length of the trained tokenizer.
  std::size_t model_max_length = 512;
  /// Unigram / BPE: fraction of the characters sentencepiece must cover (the rest become [UNK]).
  double character_coverage = 0.9995;
  /// Threads for reading and counting words (WordPiece); 0 = all CPUs. The result never depends on it.
  std::size_t num_threads = 0;
  /// Progress and summary messages (one line each, no newline); empty = silent.
  std::function<void(const std::string&)> log;
  /// Let sentencepiece print its own (very detailed) log to stderr.
  bool verbose = false;
};

/// Word -> count, sorted by count descending then bytewise (the trainer's word order).
using WordCounts = std::vector<std::pair<std::string, std::uint64_t>>;

/// Normalise (BertNormalizer with `lowercase`) and pre-tokenise (BertPreTokenizer) every line of the texts
/// and count the words. `num_threads` does not change the result.
WordCounts count_words(const std::vector<std::string>& texts, bool lowercase, std::size_t num_threads = 0);
/// The same over the lines of files, read in chunks (progress through `log`).
WordCounts count_words_in_files(const std::vector<std::filesystem::path>& files, bool lowercase,
                                std::size_t num_threads = 0,
                                const std::function<void(const std::string&)>& log = {});

/// What the WordPiece trainer did, for tests and the summary line.
struct WordPieceTrainerStats {
  std::size_t words = 0;          ///< distinct words
  std::size_t alphabet = 0;       ///< characters in the alphabet
  std::size_t merges = 0;         ///< merges applied (a pair queued more than once is merged more than once)
  std::vector<std::pair<std::string, std::string>> first_merges;  ///< the first 100 merges (left, right symbol)
};

/// The WordPiece vocabulary (tokens in id order) for these word counts.
std::vector<std::string> train_wordpiece_vocab(const WordCounts& words, const TrainerOptions& options,
                                               WordPieceTrainerStats* stats = nullptr);

/// WordPiece on texts / files: a BertTokenizer (BertNormalizer with options.lowercase, BertPreTokenizer,
/// WordPiece, [CLS] A [SEP] template) whose save_pretrained() writes vocab.txt, tokenizer.json,
/// tokenizer_config.json and special_tokens_map.json.
BertTokenizer train_wordpiece(const std::vector<std::string>& texts, const TrainerOptions& options,
                              WordPieceTrainerStats* stats = nullptr);
BertTokenizer train_wordpiece_files(const std::vector<std::filesystem::path>& files, const TrainerOptions& options,
                                    WordPieceTrainerStats* stats = nullptr);

/// Unigram / BPE with sentencepiece on the lines of texts / files (blank lines skipped).
SentencePieceTokenizer train_sentencepiece(const std::vector<std::string>& texts, const TrainerOptions& options);
SentencePieceTokenizer train_sentencepiece_files(const std::vector<std::filesystem::path>& files,
                                                 const TrainerOptions& options);

/// Dispatch on options.type.
std::shared_ptr<Tokenizer> train_tokenizer(const std::vector<std::filesystem::path>& files,
                                           const TrainerOptions& options);

}  // namespace distilbert::tokenizer
