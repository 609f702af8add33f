// The pretraining data loader: LmSequences -> batches of one rank (batching.h) -> collated and MLM-masked batches,
// prepared ahead on a background thread.
//
// Determinism: the batches of epoch e are a pure function of (seed, e, rank, world_size, batching options) and the
// mask of batch b a pure function of (seed, e, b, rank): a run restored from state() mid-epoch sees exactly the
// batches and masks it would have seen, and prefetching changes nothing.
//
//   MlmLoader loader(seqs, masker, options);
//   for (int64_t e = start_epoch; e < epochs; ++e) {
//     loader.set_epoch(e);                     // or loader.restore(saved) when resuming
//     while (auto batch = loader.next()) { ... save loader.state() with checkpoints ... }
//   }
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "distilbert/data/batching.h"
#include "distilbert/data/bounded_queue.h"
#include "distilbert/data/lm_sequences.h"
#include "distilbert/data/loader_state.h"
#include "distilbert/data/mlm.h"

namespace distilbert::data {

struct LoaderOptions {
  BatchingOptions batching;
  std::uint64_t seed = 56;
  ShardSpec shard;
  std::size_t prefetch = 4;             ///< batches prepared ahead on a background thread; 0 = synchronous
  torch::Device device = torch::kCPU;   ///< CUDA: batches are made in pinned memory (when CUDA is available)
};

class MlmLoader {
 public:
  MlmLoader(std::shared_ptr<const LmSequences> sequences, MlmMasker masker, LoaderOptions options);
  ~MlmLoader();
  MlmLoader(const MlmLoader&) = delete;
  MlmLoader& operator=(const MlmLoader&) = delete;

  /// Go to the first batch of `epoch` (plans its batches: one pass over the items).
  void set_epoch(std::int64_t epoch);
  std::int64_t epoch() const { return epoch_; }
  /// Batches of the current epoch, the same on every rank.
  std::size_t num_batches() const { return plan_.size(); }
  /// The next batch of the epoch, nullopt after the last one. Errors of the background thread are rethrown here.
  std::optional<MlmBatch> next();
  LoaderState state() const;
  /// Continue exactly where `state` was taken (its epoch is planned again if needed).
  void restore(const LoaderState& state);

  /// Batch `index` of the current epoch, made synchronously (what next() returns for it).
  MlmBatch make_batch(std::size_t index) const;
  /// The items of batch `index` of the current epoch.
  std::vector<ItemIndex> batch_items(std::size_t index) const { return plan_.batch(index); }
  const LmSequences& sequences() const { return *sequences_; }
  const LoaderOptions& options() const { return options_; }

 private:
  struct Slot {
    std::optional<MlmBatch> batch;
    std::exception_ptr error;
  };
  void stop_worker();
  void start_worker();

  std::shared_ptr<const LmSequences> sequences_;
  MlmMasker masker_;
  LoaderOptions options_;
  BatchPlanner planner_;
  bool pin_ = false;
  std::int64_t epoch_ = -1;
  BatchList plan_;
  std::size_t next_ = 0;
  std::unique_ptr<BoundedQueue<Slot>> queue_;
  std::thread worker_;
};

/// Move a batch's tensors to `device` (non_blocking from pinned memory).
MlmBatch to_device(const MlmBatch& batch, torch::Device device);

}  // namespace distilbert::data
