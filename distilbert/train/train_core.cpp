// The parts every training recipe shares; see train_core.h.
#include "distilbert/train/train_core.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"

namespace distilbert {

RunContext start_run(const std::string& kind, int threads, const std::string& device,
                     const dist::DistSettings& settings) {
  RunContext c;
  c.env = dist::DistEnv::from_environment();
  c.threads = dist::set_rank_threads(c.env, threads);
  keep_freed_memory();  // the same large tensors every step: reuse their pages (see core/runtime.h)
  c.device = dist::rank_device(c.env, device);
  c.tag = "[" + kind + (c.env.enabled() ? " rank " + std::to_string(c.env.rank) : std::string()) + "] ";
  c.comm = dist::Communicator::create(c.env, settings, c.device);
  if (c.comm->active() && c.main_rank())
    std::cerr << c.tag << "data parallel: " << c.env.world_size << " processes (" << c.env.local_world_size
              << " on this machine), " << c.comm->backend() << ", rendezvous " << c.env.master_addr << ":"
              << c.env.master_port << " (" << c.env.source << ")\n";
  return c;
}

void on_main_rank(dist::Communicator& comm, const std::string& key, const std::string& what_failed,
                  const std::function<void()>& work) {
  std::string error;
  if (comm.is_main()) {
    try {
      work();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  error = comm.share_from_main(key, error);
  if (error.empty()) return;
  if (comm.is_main()) fail(error);
  fail("data parallel: rank 0 could not ", what_failed, ": ", error);
}

bool any_rank(dist::Communicator& comm, bool flag, int64_t step) {
  if (!comm.active()) return flag;
  auto f = torch::tensor({flag ? 1.f : 0.f});
  comm.all_reduce_max(f, "run-control flags at step " + std::to_string(step));
  return f.item<float>() > 0;
}

std::vector<torch::Tensor> trainable_parameters(const torch::nn::Module& model) {
  std::vector<torch::Tensor> params;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  return params;
}

void broadcast_initial_weights(dist::Communicator& comm, torch::nn::Module& model, const std::string& what) {
  if (!comm.active()) return;
  std::vector<torch::Tensor> state;
  for (const auto& p : model.parameters()) state.push_back(p);
  for (const auto& b : model.buffers()) state.push_back(b);
  comm.broadcast(state, what);
}

void freeze_teacher(PretrainedModel& teacher, torch::Device device, const std::string& precision) {
  teacher.to(device);
  teacher.eval();
  for (auto& p : teacher.parameters()) p.requires_grad_(false);
  cast_frozen_linears(teacher, precision);
}

StepOutcome optimizer_step(torch::optim::AdamW& optimizer, const std::vector<torch::Tensor>& params,
                           LossScaler& scaler, double base_lr, double max_grad_norm, int64_t step, int64_t warmup,
                           int64_t total) {
  StepOutcome o;
  // A tied weight's sparse lookup gradient with no dense projection gradient added to it (a step that skipped the
  // projection): made dense, which clipping and AdamW expect.
  for (const auto& p : params)
    if (p.grad().defined() && p.grad().is_sparse()) p.mutable_grad() = p.grad().to_dense();
  o.applied = scaler.unscale(params);
  if (max_grad_norm > 0) o.grad_norm = clip_gradients(params, max_grad_norm);
  o.lr = base_lr * linear_schedule_factor(step, warmup, total);
  set_learning_rate(optimizer, o.lr);
  if (o.applied) adamw_step(optimizer);
  scaler.update(!o.applied);
  // Gradients are released, not zeroed as LibTorch 1.13's zero_grad() does: the next backward hands each parameter
  // its own new buffer instead of adding it into zeros (docs/PRECISION.md, "Gradients between optimizer steps").
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
  return o;
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  return buf;
}

ProgressLine::ProgressLine(bool enabled, std::string tag, int64_t first_step, int64_t total_steps)
    : enabled_(enabled),
      on_terminal_(::isatty(STDERR_FILENO) == 1),
      tag_(std::move(tag)),
      first_step_(first_step),
      total_(total_steps) {}

void ProgressLine::update(int64_t step, const std::string& fields) {
  if (!enabled_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = elapsed / static_cast<double>(std::max<int64_t>(1, step - first_step_)) *
                     static_cast<double>(total_ - step);
  std::cerr << (on_terminal_ ? "\r" : "") << tag_ << "step " << step << "/" << total_ << " | " << fields << " | ETA "
            << format_duration(eta) << (on_terminal_ ? "   " : "\n") << std::flush;
}

void ProgressLine::finish() const {
  if (enabled_ && on_terminal_) std::cerr << "\n";
}

}  // namespace distilbert
