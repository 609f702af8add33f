// Batching of LmSequences items (docs/DISTILLATION.md §3): the sampler order of an epoch (random permutation; with
// several processes DistributedSampler's shuffle + pad + stride), then one of
//   grouped      GroupedBatchSampler(create_lengths_groups(lengths, k)): group = bisect_right(arange(3, k, 4), len);
//                per-group buffers filled in sampler order, a full buffer (batch_size) is a batch; at the end the
//                leftovers are concatenated by increasing group id and cut into batch_size pieces
//                => ceil(N / batch_size) batches                                       (the reference default)
//   sequential   BatchSampler(drop_last=False): consecutive batch_size pieces of the sampler order
//   token budget max_tokens > 0: a batch never exceeds max_tokens padded tokens (members x longest member) nor
//                batch_size members (when batch_size > 0); with group_by_size the same per-group buffers (a buffer is
//                emitted before it would overflow) and the leftovers packed the same way, else greedy in sampler order.
// Every rank gets the same number of batches: equal by construction for grouped / sequential; for token budgets a
// rank with fewer batches repeats its first batches (as DistributedSampler pads its indices by repeating).
// All randomness comes from (seed, epoch) through a fixed generator (splitmix64 + xoshiro256**), independent of
// LibTorch's version and of how many random numbers anything else drew.
#pragma once

#include <cstdint>
#include <vector>

namespace distilbert::data {

using ItemIndex = std::uint32_t;

struct BatchingOptions {
  std::int64_t batch_size = 5;      ///< sequences per batch (cap in token-budget mode; 0 = no cap there)
  std::int64_t max_tokens = 0;      ///< > 0: token-budget batching
  bool group_by_size = true;        ///< length-grouped buffers (reference default: True)
  std::int64_t group_max_len = 512; ///< k of create_lengths_groups (max_model_input_size)
  bool shuffle = true;              ///< false: sampler order = item order (for tests / evaluation)
};

struct ShardSpec {
  std::int64_t rank = 0;
  std::int64_t world_size = 1;
};

/// Flat list of batches: batch b is items[offsets[b], offsets[b+1]).
struct BatchList {
  std::vector<ItemIndex> items;
  std::vector<std::size_t> offsets{0};
  std::size_t size() const { return offsets.size() - 1; }
  std::size_t batch_size(std::size_t b) const { return offsets[b + 1] - offsets[b]; }
  const ItemIndex* batch_data(std::size_t b) const { return items.data() + offsets[b]; }
  std::vector<ItemIndex> batch(std::size_t b) const {
    return {items.begin() + static_cast<std::ptrdiff_t>(offsets[b]), items.begin() + static_cast<std::ptrdiff_t>(offsets[b + 1])};
  }
  void add(const ItemIndex* p, std::size_t n) {
    items.insert(items.end(), p, p + n);
    offsets.push_back(items.size());
  }
};

/// Deterministic 64-bit mixing of several values (splitmix64 finaliser chain).
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0, std::uint64_t d = 0);

/// create_lengths_groups: bisect_right(arange(3, k, 4), length) per item ([10] as the bins when k <= 0).
std::vector<std::int32_t> length_groups(const std::vector<std::uint32_t>& lengths, std::int64_t k);

/// A permutation of [0, n) from `seed` (Fisher-Yates with xoshiro256**).
std::vector<ItemIndex> random_permutation(std::size_t n, std::uint64_t seed);

/// DistributedSampler: permutation of [0, n) seeded by (seed, epoch) (identity when !shuffle), padded to a multiple of
/// world_size by repeating its head, then positions rank, rank + W, ... (ceil(n / W) items on every rank).
std::vector<ItemIndex> shard_order(std::size_t n, std::uint64_t seed, std::int64_t epoch, ShardSpec shard,
                                   bool shuffle = true);

BatchList grouped_batches(const std::vector<ItemIndex>& order, const std::vector<std::int32_t>& groups,
                          std::int64_t batch_size);
BatchList sequential_batches(const std::vector<ItemIndex>& order, std::int64_t batch_size);
/// groups == nullptr: greedy in sampler order.
BatchList token_budget_batches(const std::vector<ItemIndex>& order, const std::vector<std::uint32_t>& lengths,
                               const std::vector<std::int32_t>* groups, std::int64_t batch_size,
                               std::int64_t max_tokens);

/// The batches of one rank for each epoch.
class BatchPlanner {
 public:
  /// `lengths` must outlive the planner (LmSequences::lengths()).
  BatchPlanner(const std::vector<std::uint32_t>& lengths, BatchingOptions options);
  BatchList epoch(std::uint64_t seed, std::int64_t epoch, ShardSpec shard) const;
  const BatchingOptions& options() const { return options_; }

 private:
  BatchList rank_batches(const std::vector<ItemIndex>& order) const;
  const std::vector<std::uint32_t>* lengths_;
  BatchingOptions options_;
  std::vector<std::int32_t> groups_;
};

}  // namespace distilbert::data
