// MlmLoader; see loader.h.
#include "distilbert/data/loader.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include "distilbert/core/error.h"

namespace distilbert::data {

namespace {
const std::vector<std::uint32_t>& lengths_of(const std::shared_ptr<const LmSequences>& sequences) {
  DISTILBERT_CHECK(sequences != nullptr, "MlmLoader: no sequences");
  return sequences->lengths();
}
}  // namespace

MlmLoader::MlmLoader(std::shared_ptr<const LmSequences> sequences, MlmMasker masker, LoaderOptions options)
    : sequences_(std::move(sequences)),
      masker_(std::move(masker)),
      options_(options),
      planner_(lengths_of(sequences_), options.batching) {
  DISTILBERT_CHECK(
      options_.shard.world_size >= 1 && options_.shard.rank >= 0 && options_.shard.rank < options_.shard.world_size,
      "MlmLoader: invalid rank ", options_.shard.rank, " of world size ", options_.shard.world_size);
  DISTILBERT_CHECK(masker_.vocab_size() == sequences_->store().vocab_size(), "MlmLoader: the masker's vocabulary (",
                   masker_.vocab_size(), ") differs from the store's (", sequences_->store().vocab_size(), ")");
  pin_ = options_.device.is_cuda() && torch::cuda::is_available();
}

MlmLoader::~MlmLoader() { stop_worker(); }

void MlmLoader::stop_worker() {
  if (queue_) queue_->close();
  if (worker_.joinable()) worker_.join();
  queue_.reset();
}

void MlmLoader::set_epoch(std::int64_t epoch) {
  DISTILBERT_CHECK(epoch >= 0, "MlmLoader: epoch must be >= 0, found ", epoch);
  stop_worker();
  if (epoch != epoch_) {
    plan_ = planner_.epoch(options_.seed, epoch, options_.shard);
    epoch_ = epoch;
  }
  next_ = 0;
}

LoaderState MlmLoader::state() const {
  LoaderState s;
  s.epoch = epoch_ < 0 ? 0 : epoch_;
  s.batch = static_cast<std::int64_t>(next_);
  s.seed = options_.seed;
  s.rank = options_.shard.rank;
  s.world_size = options_.shard.world_size;
  return s;
}

void MlmLoader::restore(const LoaderState& state) {
  DISTILBERT_CHECK(
      state.seed == options_.seed && state.world_size == options_.shard.world_size && state.rank == options_.shard.rank,
      "loader state was saved with seed ", state.seed, ", rank ", state.rank, " of ", state.world_size,
      "; this loader has seed ", options_.seed, ", rank ", options_.shard.rank, " of ", options_.shard.world_size,
      ": the batches would differ (start a new epoch instead)");
  set_epoch(state.epoch);
  DISTILBERT_CHECK(state.batch >= 0 && static_cast<std::size_t>(state.batch) <= plan_.size(), "loader state: batch ",
                   state.batch, " is outside epoch ", state.epoch, " (", plan_.size(), " batches)");
  next_ = static_cast<std::size_t>(state.batch);
}

MlmBatch MlmLoader::make_batch(std::size_t index) const {
  DISTILBERT_CHECK(epoch_ >= 0, "MlmLoader: call set_epoch() or restore() first");
  DISTILBERT_CHECK(index < plan_.size(), "MlmLoader: batch ", index, " out of range (", plan_.size(), " batches)");
  const Batch b = collate(*sequences_, plan_.batch_data(index), plan_.batch_size(index),
                          sequences_->store().special_ids().pad);
  at::Generator gen = mlm_generator(options_.seed, epoch_, static_cast<std::int64_t>(index), options_.shard.rank);
  MlmBatch m = masker_.mask(b, gen);
  m.epoch = epoch_;
  m.index = static_cast<std::int64_t>(index);
  if (pin_) {
    m.input_ids = m.input_ids.pin_memory();
    m.attention_mask = m.attention_mask.pin_memory();
    m.mlm_labels = m.mlm_labels.pin_memory();
    m.lengths = m.lengths.pin_memory();
  }
  return m;
}

void MlmLoader::start_worker() {
  queue_ = std::make_unique<BoundedQueue<Slot>>(options_.prefetch);
  BoundedQueue<Slot>* q = queue_.get();
  const std::size_t from = next_;
  worker_ = std::thread([this, q, from] {
    for (std::size_t i = from; i < plan_.size(); ++i) {
      Slot s;
      try {
        s.batch = make_batch(i);
      } catch (...) {
        s.error = std::current_exception();
      }
      const bool failed = static_cast<bool>(s.error);
      if (!q->push(std::move(s)) || failed) break;
    }
    q->close();
  });
}

std::optional<MlmBatch> MlmLoader::next() {
  DISTILBERT_CHECK(epoch_ >= 0, "MlmLoader: call set_epoch() or restore() before next()");
  if (next_ >= plan_.size()) {
    stop_worker();
    return std::nullopt;
  }
  if (options_.prefetch == 0) return make_batch(next_++);
  if (!queue_) start_worker();
  std::optional<Slot> s = queue_->pop();
  DISTILBERT_CHECK(s.has_value(), "MlmLoader: the prefetch thread stopped early");
  if (s->error) {
    stop_worker();
    std::rethrow_exception(s->error);
  }
  ++next_;
  return std::move(s->batch);
}

MlmBatch to_device(const MlmBatch& b, torch::Device device) {
  MlmBatch out = b;
  out.input_ids = b.input_ids.to(device, /*non_blocking=*/true);
  out.attention_mask = b.attention_mask.to(device, true);
  out.mlm_labels = b.mlm_labels.to(device, true);
  out.lengths = b.lengths.to(device, true);
  return out;
}

}  // namespace distilbert::data
