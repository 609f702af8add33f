// Bucketed gradient all-reduce (c10d::Reducer or after backward); see grad_sync.h.
#include "distilbert/dist/grad_sync.h"

#include <torch/csrc/distributed/c10d/reducer.hpp>
#include <torch/torch.h>
#include <torch/version.h>

#include <set>
#include <type_traits>

#include "distilbert/core/error.h"

namespace distilbert::dist {

namespace {

std::vector<torch::Tensor> unique_params(std::vector<torch::Tensor> params) {
  std::vector<torch::Tensor> out;
  std::set<const void*> seen;
  for (auto& p : params)
    if (p.requires_grad() && seen.insert(p.unsafeGetTensorImpl()).second) out.push_back(p);
  return out;
}

// c10d::Reducer's constructor. LibTorch 1.13 takes the per-bucket size limits that compute_bucket_assignment_by_size
// returned, right after the bucket indices. LibTorch 2.x dropped that argument (the reducer derives the limits from
// first_bucket_bytes_cap and bucket_bytes_cap itself) and, across its minor releases, appended
// skip_all_reduce_unused_params, use_python_reducer and bucket_bytes_cap_list (2.11 has all three). Within 2.x the
// form is picked by what the header declares (only 1.13 and 2.11 are built here); the values we pass (false, false,
// empty: reduce every bucket, the C++ reducer, the two caps above) keep 1.13's behaviour.
template <class R = c10d::Reducer>
std::unique_ptr<R> make_reducer(std::vector<torch::Tensor> params, std::vector<std::vector<std::size_t>> indices,
                                std::vector<std::size_t> limits, c10::intrusive_ptr<c10d::ProcessGroup> group,
                                int64_t cap, int64_t first_cap, bool find_unused) {
  std::vector<bool> sparse(params.size(), false);
  std::unordered_map<std::size_t, std::string> names;
#if TORCH_VERSION_MAJOR < 2
  return std::make_unique<R>(std::move(params), std::move(indices), std::move(limits), std::move(group),
                             std::move(sparse), cap, find_unused, /*gradient_as_bucket_view=*/false, std::move(names),
                             first_cap);
#else
  using G = c10::intrusive_ptr<c10d::ProcessGroup>;
  using P = std::vector<torch::Tensor>;
  using I = std::vector<std::vector<std::size_t>>;
  using S = std::vector<bool>;
  using N = std::unordered_map<std::size_t, std::string>;
  if constexpr (std::is_constructible_v<R, P, I, G, S, int64_t, bool, bool, N, int64_t, bool, bool,
                                        std::vector<int64_t>>)
    return std::make_unique<R>(std::move(params), std::move(indices), std::move(group), std::move(sparse), cap,
                               find_unused, /*gradient_as_bucket_view=*/false, std::move(names), first_cap,
                               /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false,
                               /*bucket_bytes_cap_list=*/std::vector<int64_t>{});
  else if constexpr (std::is_constructible_v<R, P, I, G, S, int64_t, bool, bool, N, int64_t, bool, bool>)
    return std::make_unique<R>(std::move(params), std::move(indices), std::move(group), std::move(sparse), cap,
                               find_unused, false, std::move(names), first_cap, false, false);
  else if constexpr (std::is_constructible_v<R, P, I, G, S, int64_t, bool, bool, N, int64_t, bool>)
    return std::make_unique<R>(std::move(params), std::move(indices), std::move(group), std::move(sparse), cap,
                               find_unused, false, std::move(names), first_cap, false);
  else if constexpr (std::is_constructible_v<R, P, I, G, S, int64_t, bool, bool, N, int64_t>)
    return std::make_unique<R>(std::move(params), std::move(indices), std::move(group), std::move(sparse), cap,
                               find_unused, false, std::move(names), first_cap);
  else  // early 2.x: still 1.13's list
    return std::make_unique<R>(std::move(params), std::move(indices), std::move(limits), std::move(group),
                               std::move(sparse), cap, find_unused, false, std::move(names), first_cap);
#endif
}

}  // namespace

GradSync::GradSync(std::shared_ptr<Communicator> comm, std::vector<torch::Tensor> params, const DistSettings& settings)
    : comm_(std::move(comm)), params_(unique_params(std::move(params))) {
  if (!comm_->active()) return;
  DISTILBERT_CHECK(!params_.empty(), "data parallel: no trainable parameters to synchronise");
  // DDP: a small first bucket (1 MiB) so communication starts early, then bucket_mb; reversed to backward order.
  const auto cap = static_cast<std::size_t>(settings.bucket_mb * 1024 * 1024);
  std::vector<std::vector<std::size_t>> indices;
  std::vector<std::size_t> limits;
  std::tie(indices, limits) = c10d::compute_bucket_assignment_by_size(params_, {std::min<std::size_t>(cap, 1 << 20), cap});
  std::reverse(indices.begin(), indices.end());
  std::reverse(limits.begin(), limits.end());
  buckets_ = indices;
  if (!settings.overlap) return;
  try {
    reducer_ = make_reducer(params_, indices, limits, comm_->group(), static_cast<int64_t>(cap),
                            static_cast<int64_t>(std::min<std::size_t>(cap, 1 << 20)),
                            settings.find_unused_parameters);
  } catch (const std::exception& e) {
    comm_->rethrow("setting up the gradient reducer", e);
  }
}

GradSync::~GradSync() = default;

void GradSync::prepare(const std::vector<torch::Tensor>& outputs) {
  if (!active()) return;
  DISTILBERT_CHECK(!pending_, "GradSync::prepare called twice without finish()");
  pending_ = true;
  if (reducer_) {
    try {
      reducer_->prepare_for_backward(outputs);
    } catch (const std::exception& e) {
      comm_->rethrow("preparing the gradient all-reduce", e);
    }
  }
}

void GradSync::finish() {
  if (!active()) return;
  DISTILBERT_CHECK(pending_, "GradSync::finish called without prepare()");
  pending_ = false;
  ++syncs_;
  if (!reducer_) all_reduce_buckets("gradients (sync " + std::to_string(syncs_) + ")");
  // With the reducer the all-reduce has completed inside backward(): it waits on every bucket before returning.
}

void GradSync::backward(const torch::Tensor& loss, bool sync) {
  if (!active() || !sync) {
    loss.backward();
    return;
  }
  prepare({loss});
  try {
    loss.backward();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    if (!reducer_) throw;  // no communication happens inside backward without the reducer
    comm_->rethrow("the gradient all-reduce during backward (sync " + std::to_string(syncs_ + 1) + ")", e);
  }
  finish();
}

void GradSync::average_now(const std::string& what) {
  if (!active()) return;
  DISTILBERT_CHECK(!pending_, "GradSync::average_now inside a synchronising backward");
  all_reduce_buckets(what);
}

void GradSync::all_reduce_buckets(const std::string& what) {
  torch::NoGradGuard ng;
  const double w = static_cast<double>(comm_->world_size());
  for (const auto& bucket : buckets_) {
    std::vector<torch::Tensor> flat;
    for (auto i : bucket) {
      auto& p = params_[i];
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      flat.push_back(p.grad().reshape({-1}));
    }
    auto buf = torch::cat(flat);
    comm_->all_reduce_sum(buf, what);
    buf.div_(w);
    int64_t off = 0;
    for (auto i : bucket) {
      auto& g = params_[i].mutable_grad();
      const int64_t n = g.numel();
      g.copy_(buf.narrow(0, off, n).view(g.sizes()));
      off += n;
    }
  }
}

}  // namespace distilbert::dist
