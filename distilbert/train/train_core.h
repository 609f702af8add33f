// The parts every training recipe shares (distill, pretrain, finetune), in torchtune's shape: named functions a
// recipe calls top to bottom instead of copies inside each loop. The recipes' data flow is in docs/DISTILLATION.md
// §2 and docs/FINETUNING.md.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "distilbert/dist/comm.h"
#include "distilbert/dist/env.h"
#include "distilbert/model/pretrained.h"
#include "distilbert/train/optim.h"
#include "distilbert/train/precision.h"

namespace distilbert {

/// Who this process is in the job and what it runs on: set up once at the start of a run.
struct RunContext {
  dist::DistEnv env;
  std::shared_ptr<dist::Communicator> comm;
  torch::Device device = torch::kCPU;
  int threads = 1;
  std::string tag;  // "[distill] " or "[distill rank 1] ": the prefix of every line the run prints
  bool main_rank() const { return comm->is_main(); }
};

/// The process's share of the job: torchrun/Slurm variables (a single process without them), its CPU threads
/// (`threads` > 0, else OMP_NUM_THREADS, else its share of the CPUs), its device (`cuda` is the GPU of LOCAL_RANK)
/// and the process group. `kind` names the recipe in `tag`.
RunContext start_run(const std::string& kind, int threads, const std::string& device,
                     const dist::DistSettings& settings);

/// Run `work` on rank 0 only and give every rank its verdict: when it throws, rank 0 rethrows its message and the
/// other ranks fail saying that rank 0 could not `what_failed`. `key` names the exchange (unique per call site).
void on_main_rank(dist::Communicator& comm, const std::string& key, const std::string& what_failed,
                  const std::function<void()>& work);

/// A decision every rank must take together (stop on a signal, skip a non-finite micro-batch): true when `flag` is
/// set on any rank (one tiny max all-reduce; a single process just reads its own flag). `step` names the exchange.
bool any_rank(dist::Communicator& comm, bool flag, int64_t step);

/// The parameters of `model` that train (requires_grad), in module order.
std::vector<torch::Tensor> trainable_parameters(const torch::nn::Module& model);

/// DDP's initial broadcast: rank 0's parameters and buffers become every rank's. Nothing in a single process.
void broadcast_initial_weights(dist::Communicator& comm, torch::nn::Module& model, const std::string& what);

/// A teacher that scores batches and never trains: on `device`, eval mode (no dropout), no gradients, and its linear
/// weights cast once to the autocast dtype of `precision` (it runs only under autocast).
void freeze_teacher(PretrainedModel& teacher, torch::Device device, const std::string& precision);

/// One optimizer step over the gradients accumulated since the last one: unscale (fp16) and find non-finite
/// gradients, clip to `max_grad_norm` (> 0), set the learning rate of step `step` of the linear warm-up/decay
/// schedule, AdamW (skipped when a gradient is not finite), update the scale, release the gradients (undefined:
/// the next backward's are its own).
struct StepOutcome {
  double lr = 0.0;
  double grad_norm = -1.0;  // before clipping; -1 when not clipped
  bool applied = true;      // false: skipped for a non-finite gradient (fp16 overflow)
};
StepOutcome optimizer_step(torch::optim::AdamW& optimizer, const std::vector<torch::Tensor>& params,
                           LossScaler& scaler, double base_lr, double max_grad_norm, int64_t step, int64_t warmup,
                           int64_t total);

/// "1h02m" / "3m07s"; "?" for an unknown (non-finite or negative) duration.
std::string format_duration(double seconds);

/// The run's progress line on stderr: rewritten in place with \r on a terminal, one plain line per update in logs
/// and CI. Each update gives step/total, the caller's fields and the time left at the pace since the first step.
class ProgressLine {
 public:
  ProgressLine(bool enabled, std::string tag, int64_t first_step, int64_t total_steps);
  void update(int64_t step, const std::string& fields);
  /// Before other output: ends a line that \r would otherwise overwrite.
  std::string line_break() const { return on_terminal_ && enabled_ ? "\n" : ""; }
  /// At the end of the run.
  void finish() const;

 private:
  bool enabled_, on_terminal_;
  std::string tag_;
  int64_t first_step_, total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace distilbert
