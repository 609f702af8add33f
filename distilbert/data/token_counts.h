// Token counts of a store (token_counts.py) and the MLM sampling weights derived from them (train.py,
// docs/DISTILLATION.md §1): token_probs = max(count, 1) ^ -smoothing, 0 at every special id.
//
// Counts file (written by `distilbert token-counts`): a JSON object
//   {"format": "distilbert-token-counts", "format_version": 1, "vocab_size": V, "num_tokens": T,
//    "tokenizer_fingerprint": "...", "store": "<prefix>", "counts": [c_0, ..., c_{V-1}]}
// load_token_counts() also reads a bare JSON list [c_0, ...] (e.g. the reference pickle converted with
// `json.dump(pickle.load(f), out)`), which carries no fingerprint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "distilbert/data/token_store.h"

namespace distilbert::data {

struct TokenCounts {
  std::vector<std::int64_t> counts;   ///< one per id, size = vocab_size
  std::string tokenizer_fingerprint;  ///< empty when the file has none
  std::string path;
};

/// Count every id of the store (threads = 0: all CPUs). Ids outside the vocabulary are an Error.
std::vector<std::int64_t> count_tokens(const TokenStore& store, std::size_t threads = 0);

/// Write the counts file described above (atomically).
void save_token_counts(const std::string& path, const std::vector<std::int64_t>& counts, const TokenStore& store);

/// Read a counts file. `expected_vocab_size` > 0: a different length is an Error; `expected_fingerprint` non-empty:
/// a file recording another fingerprint is an Error naming both.
TokenCounts load_token_counts(const std::string& path, std::int64_t expected_vocab_size = 0,
                              const std::string& expected_fingerprint = "");

/// max(counts, 1) ^ -smoothing in float64, then 0 at every id of special_ids (ids outside the vector are an Error).
/// smoothing = 0 gives the uniform mode: 1 for every ordinary token.
torch::Tensor token_probs(const std::vector<std::int64_t>& counts, double smoothing,
                          const std::vector<std::int64_t>& special_ids);

/// Uniform weights without counts: 1 everywhere, 0 at the specials.
torch::Tensor uniform_token_probs(std::int64_t vocab_size, const std::vector<std::int64_t>& special_ids);

}  // namespace distilbert::data
