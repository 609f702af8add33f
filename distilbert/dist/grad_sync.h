// Gradient averaging across the ranks of a data-parallel run, as PyTorch's DistributedDataParallel does it:
// parameters are grouped into buckets of distributed.bucket_mb (in reverse order, the order backward produces their
// gradients), and each bucket is all-reduced and divided by the world size.
//   overlap: true   c10d::Reducer (DDP's own engine): a bucket's all-reduce starts during backward as soon as its
//                   last gradient is ready; backward() returns with averaged gradients.
//   overlap: false  the same buckets all-reduced after backward (finish()).
// Gradient accumulation: call prepare() only before the backward of the micro-batch that ends an accumulation
// cycle; the other micro-batches accumulate locally without communication (DDP's no_sync()).
#pragma once

#include <memory>
#include <vector>

#include <torch/types.h>

#include "distilbert/dist/comm.h"

namespace c10d {
class Reducer;
}

namespace distilbert::dist {

class GradSync {
 public:
  /// `params`: the trainable parameters (duplicates, e.g. tied weights, are dropped), identical on every rank.
  GradSync(std::shared_ptr<Communicator> comm, std::vector<torch::Tensor> params, const DistSettings& settings);
  ~GradSync();
  GradSync(const GradSync&) = delete;
  GradSync& operator=(const GradSync&) = delete;

  bool active() const { return comm_->active(); }
  /// loss.backward(), accumulating into the gradients. With `sync` (the micro-batch that ends an accumulation
  /// cycle) every rank then holds the gradients averaged over the ranks: the reducer all-reduces buckets during
  /// backward, or the buckets are all-reduced after it. A failure of the all-reduce inside backward (a rank that
  /// died or hung) is reported like any other collective's, naming this rank and the remedy.
  void backward(const torch::Tensor& loss, bool sync = true);
  /// Average whatever gradients are accumulated now (e.g. before saving mid-cycle); outside prepare()/finish().
  void average_now(const std::string& what);
  std::size_t num_buckets() const { return buckets_.size(); }
  const std::vector<torch::Tensor>& params() const { return params_; }

 private:
  void prepare(const std::vector<torch::Tensor>& outputs);
  void finish();
  void all_reduce_buckets(const std::string& what);
  std::shared_ptr<Communicator> comm_;
  std::vector<torch::Tensor> params_;
  std::vector<std::vector<std::size_t>> buckets_;
  std::unique_ptr<c10d::Reducer> reducer_;
  bool pending_ = false;
  std::int64_t syncs_ = 0;
};

}  // namespace distilbert::dist
