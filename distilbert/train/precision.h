// Mixed precision: an RAII autocast scope for bf16 (CPU and CUDA) and fp16 (CUDA), with fp32 master weights, and
// a dynamic loss scaler for fp16 (LibTorch has no C++ GradScaler). The API differences between LibTorch 1.13 and
// 2.x stay in precision.cpp.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/types.h>

namespace distilbert {

/// A recipe's `precision` as the run will use it on `device` (the recipe's device string). bf16 on a CPU whose bf16
/// matrix products are slow (cpu_bf16_is_fast(): no AVX512-BF16/AMX kernel, or DNNL_MAX_CPU_ISA below it) becomes
/// fp32, with a warning on stderr that names the recipe, the measured rates and the CPU, because autocast there
/// runs 20-30x slower than fp32 (docs/PRECISION.md); DISTILBERT_ALLOW_SLOW_BF16=1 keeps bf16. fp16 on a CPU is an
/// error naming the recipe. `resolved` (the recipe tree saved as recipe.json) gets the precision actually used.
std::string resolve_precision(const std::string& requested, const std::string& device, const std::string& origin,
                              nlohmann::json& resolved);

/// Enables autocast to `precision` ("bf16" or "fp16"; "fp32" does nothing) on `device` for its lifetime.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, torch::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool cpu_ = false, cuda_ = false;
  bool prev_enabled_ = false;
  torch::ScalarType prev_dtype_ = torch::kBFloat16;
};

/// For a frozen model (a teacher) that only ever runs inside an AutocastScope of `precision`: converts its Linear
/// weights and biases to the autocast dtype once, instead of autocast making a fresh low-precision copy of every
/// weight at every forward (110M parameters read and 220 MB written per step for BERT-base). The numbers are the
/// same: autocast runs those products in that dtype anyway. Embeddings (and a decoder tied to them) and LayerNorms
/// stay fp32. fp32 does nothing. Returns the number of tensors converted.
int64_t cast_frozen_linears(torch::nn::Module& model, const std::string& precision);

/// Dynamic loss scaling as torch.cuda.amp.GradScaler: scale the loss, unscale gradients before clipping, skip the
/// step when any gradient is inf/NaN and halve the scale; double it after `growth_interval` clean steps.
/// Whether this LibTorch has at::_amp_foreach_non_finite_check_and_unscale_ for the device: CUDA always, CPU from
/// LibTorch 2.x (1.13 has no CPU kernel). Asked of the dispatcher, not of the version number.
bool fused_unscale_available(torch::Device device);

/// Divides every gradient by the scale (multiplies by inv_scale) in place; false when one of them is not finite.
/// fused: one at::_amp_foreach_non_finite_check_and_unscale_ call per (device, dtype) group, which multiplies and
/// checks in one pass; otherwise (or where that kernel is missing) a multiply and an isfinite reduction per tensor.
/// Either way, one host sync.
bool unscale_gradients(const std::vector<torch::Tensor>& grads, double inv_scale, bool fused = true);

class LossScaler {
 public:
  explicit LossScaler(bool enabled, double init_scale = 65536.0, double growth_factor = 2.0,
                      double backoff_factor = 0.5, int64_t growth_interval = 2000);
  bool enabled() const { return enabled_; }
  torch::Tensor scale(const torch::Tensor& loss) const;
  /// Divide the gradients by the scale; returns false when one of them is not finite (the step must be skipped).
  bool unscale(const std::vector<torch::Tensor>& params);
  /// After a step (found_inf from unscale): adjusts the scale.
  void update(bool found_inf);
  double current_scale() const { return scale_; }
  int64_t skipped_steps() const { return skipped_; }
  // State for checkpoints.
  int64_t growth_tracker() const { return growth_tracker_; }
  void restore(double scale, int64_t growth_tracker, int64_t skipped);

 private:
  bool enabled_;
  double scale_, growth_factor_, backoff_factor_;
  int64_t growth_interval_, growth_tracker_ = 0, skipped_ = 0;
};

}  // namespace distilbert
