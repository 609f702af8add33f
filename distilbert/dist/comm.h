// The process group of a data-parallel run: a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT (rank 0 serves it) and
// a c10d ProcessGroupGloo (CPU tensors; also CUDA tensors) or ProcessGroupNCCL (CUDA, when this LibTorch has it).
// Every collective fails with a distilbert::Error naming the operation, this rank and the timeout, instead of
// hanging: a rank that dies closes its connections, a rank that hangs runs into the timeout.
//
//   auto comm = dist::Communicator::create(dist::DistEnv::from_environment(), settings, device);
//   comm->broadcast(params, "initial weights");     // no-ops in a single process
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/types.h>

#include "distilbert/dist/env.h"

namespace distilbert::dist {

class Communicator {
 public:
  /// Single process (env.world_size == 1): no store, no group, every collective is a no-op.
  static std::shared_ptr<Communicator> create(const DistEnv& env, const DistSettings& settings, torch::Device device);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  const DistEnv& env() const { return env_; }
  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool active() const { return env_.world_size > 1; }
  bool is_main() const { return env_.rank == 0; }
  const std::string& backend() const { return backend_; }
  double timeout_s() const { return settings_.timeout_s; }

  /// Copy rank 0's tensors into everyone's (in place). `what` names the operation in errors.
  void broadcast(std::vector<torch::Tensor>& tensors, const std::string& what);
  /// In-place all-reduce, sum or max (floating or integer tensors). A CPU tensor may be given whatever the backend:
  /// with NCCL it travels through the run's GPU and back.
  void all_reduce_sum(torch::Tensor& t, const std::string& what);
  void all_reduce_max(torch::Tensor& t, const std::string& what);
  void barrier(const std::string& what);
  /// Rank 0 publishes `value` under `key`; every rank returns it (rank 0 its own). For setup decisions and errors.
  std::string share_from_main(const std::string& key, const std::string& value);

  /// The c10d group (for c10d::Reducer). Only when active().
  const c10::intrusive_ptr<c10d::ProcessGroup>& group() const;
  /// Turn a c10d / Gloo exception from `what` into our error (this rank, the timeout, what to do next).
  [[noreturn]] void rethrow(const std::string& what, const std::exception& e) const;

 private:
  Communicator(DistEnv env, DistSettings settings);
  void run(const std::string& what, const std::function<void()>& op) const;
  void all_reduce(torch::Tensor& t, c10d::ReduceOp op, const std::string& what);
  DistEnv env_;
  DistSettings settings_;
  std::string backend_ = "none";
  torch::Device device_ = torch::kCPU;
  std::uint64_t shared_seq_ = 0;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
};

/// This rank's LibTorch threads: `requested` when > 0, else OMP_NUM_THREADS where set (as under torchrun), else every
/// CPU in a single process and the machine's CPUs divided by the processes on it in a job. Returns the count in effect.
int set_rank_threads(const DistEnv& env, int requested);
/// The device of this rank for a recipe's `device`: in a data-parallel run, plain `cuda` is cuda:LOCAL_RANK.
torch::Device rank_device(const DistEnv& env, const std::string& spec);

}  // namespace distilbert::dist
