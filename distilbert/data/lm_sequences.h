// LmSeqsDataset (lm_seqs_dataset.py, docs/DISTILLATION.md §3) as a view over a token store: no token is copied.
//
// In the reference order:
//  1. every store sequence must start with [CLS] and end with [SEP] (the reference asserts it);
//  2. sequences longer than max_len are cut into chunks of max_len - 2 tokens over the whole sequence (its own
//     [CLS]/[SEP] included); a chunk gets [CLS] prepended unless it starts with one and [SEP] appended unless it
//     ends with one;
//  3. sequences (and chunks) with <= 11 tokens are dropped;
//  4. sequences with (number of [UNK]) / length >= 0.5 are dropped.
// Items keep the reference's order: store order, a split sequence's chunks in place.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "distilbert/data/token_store.h"

namespace distilbert::data {

struct LmSequencesOptions {
  std::int64_t max_len = 512;        ///< max_model_input_size
  std::int64_t min_length = 12;      ///< keep lengths > 11
  double max_unk_ratio = 0.5;        ///< keep unk / length < 0.5
  std::size_t threads = 0;           ///< for the one scan at construction; 0 = all CPUs
};

struct LmSequencesStats {
  std::uint64_t input_sequences = 0;
  std::uint64_t split_sequences = 0;  ///< longer than max_len
  std::uint64_t chunks = 0;           ///< chunks those produced
  std::uint64_t dropped_short = 0;    ///< sequences/chunks with <= 11 tokens
  std::uint64_t dropped_unk = 0;      ///< sequences/chunks with >= 50% [UNK]
  std::uint64_t kept = 0;
  std::uint64_t tokens = 0;           ///< in the kept items, added [CLS]/[SEP] included
  std::string summary() const;
};

class LmSequences {
 public:
  LmSequences(std::shared_ptr<const TokenStore> store, const LmSequencesOptions& options = {});

  std::size_t size() const { return lengths_.size(); }
  std::uint32_t length(std::size_t i) const { return lengths_[i]; }
  const std::vector<std::uint32_t>& lengths() const { return lengths_; }
  std::uint32_t max_length() const { return max_length_; }
  /// Write item i's tokens (length(i) of them) to out; ids are checked against the vocabulary.
  void copy(std::size_t i, std::int64_t* out) const;
  std::vector<std::int64_t> tokens(std::size_t i) const;
  /// The store sequence an item comes from.
  std::size_t source_sequence(std::size_t i) const;

  const TokenStore& store() const { return *store_; }
  const std::shared_ptr<const TokenStore>& store_ptr() const { return store_; }
  const LmSequencesStats& stats() const { return stats_; }
  const LmSequencesOptions& options() const { return options_; }

 private:
  struct Chunk {
    std::uint64_t seq;
    std::uint32_t begin, count;  // tokens [begin, begin + count) of the store sequence
    bool add_cls, add_sep;
  };
  static constexpr std::uint64_t kChunkBit = std::uint64_t(1) << 63;

  std::shared_ptr<const TokenStore> store_;
  LmSequencesOptions options_;
  std::vector<std::uint64_t> items_;  // store sequence index, or kChunkBit | index into chunks_
  std::vector<Chunk> chunks_;
  std::vector<std::uint32_t> lengths_;
  std::uint32_t max_length_ = 0;
  LmSequencesStats stats_;
};

}  // namespace distilbert::data
