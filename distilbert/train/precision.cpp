// Autocast scopes and the loss scaler; see precision.h.
#include "distilbert/train/precision.h"

#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <utility>

#include "distilbert/core/autocast.h"
#include "distilbert/core/cpu_caps.h"
#include "distilbert/core/error.h"

namespace distilbert {

std::string resolve_precision(const std::string& requested, const std::string& device, const std::string& origin,
                              nlohmann::json& resolved) {
  if (device.rfind("cuda", 0) == 0) return requested;
  DISTILBERT_CHECK(requested != "fp16", "recipe '", origin, "': precision fp16 needs a CUDA device (device is '",
                   device, "'); on a CPU use bf16 where the CPU has AVX512-BF16 or AMX, else fp32");
  if (requested != "bf16" || cpu_bf16_is_fast()) return requested;
  const char* allow = std::getenv("DISTILBERT_ALLOW_SLOW_BF16");
  const MatmulRates& m = cpu_bf16_probe();  // the measurement the verdict came from
  const std::string rates = str_cat("bf16 matrix products run at ", static_cast<int>(m.bf16_gflops), " GFLOP/s against ",
                                    static_cast<int>(m.fp32_gflops), " in fp32 on ", cpu_summary());
  if (allow && std::string(allow) == "1") {
    std::cerr << "[precision] warning: recipe '" << origin << "': " << rates
              << "; keeping bf16 because DISTILBERT_ALLOW_SLOW_BF16=1\n";
    return requested;
  }
  std::cerr << "[precision] warning: recipe '" << origin << "': precision bf16 would be slower than fp32 here ("
            << rates << "; LibTorch has no fast bf16 kernel for this CPU, see docs/PRECISION.md): running fp32 "
            << "instead. DISTILBERT_ALLOW_SLOW_BF16=1 keeps bf16\n";
  if (resolved.is_object()) resolved["precision"] = "fp32";
  return "fp32";
}

AutocastScope::AutocastScope(const std::string& precision, torch::Device device) {
  if (precision == "fp32") return;
  DISTILBERT_CHECK(precision == "bf16" || precision == "fp16", "precision '", precision, "' is not fp32, bf16 or fp16");
  const auto dtype = precision == "bf16" ? torch::kBFloat16 : torch::kHalf;
  if (device.is_cpu()) {
    DISTILBERT_CHECK(precision == "bf16", "precision fp16 needs a CUDA device; on CPU use bf16");
    cpu_ = true;
  } else {
    cuda_ = true;
  }
  const auto d = cpu_ ? at::kCPU : at::kCUDA;
  prev_enabled_ = autocast_enabled(d);
  prev_dtype_ = autocast_dtype(d);
  set_autocast(d, true);
  set_autocast_dtype(d, dtype);
}

AutocastScope::~AutocastScope() {
  if (!cpu_ && !cuda_) return;
  const auto d = cpu_ ? at::kCPU : at::kCUDA;
  set_autocast(d, prev_enabled_);
  set_autocast_dtype(d, prev_dtype_);
  at::autocast::clear_cache();
}

int64_t cast_frozen_linears(torch::nn::Module& model, const std::string& precision) {
  if (precision == "fp32") return 0;
  DISTILBERT_CHECK(precision == "bf16" || precision == "fp16", "precision '", precision, "' is not fp32, bf16 or fp16");
  const auto dtype = precision == "bf16" ? torch::kBFloat16 : torch::kHalf;
  torch::NoGradGuard no_grad;
  int64_t n = 0;
  for (auto& m : model.modules(/*include_self=*/false)) {
    auto* lin = m->as<torch::nn::Linear>();
    if (!lin) continue;
    for (auto* t : {&lin->weight, &lin->bias}) {
      if (!t->defined() || t->scalar_type() == dtype) continue;
      DISTILBERT_CHECK(!t->requires_grad(),
                       "cast_frozen_linears: the model is not frozen (a Linear parameter requires grad)");
      t->set_data(t->to(dtype));
      ++n;
    }
  }
  return n;
}

LossScaler::LossScaler(bool enabled, double init_scale, double growth_factor, double backoff_factor,
                       int64_t growth_interval)
    : enabled_(enabled),
      scale_(init_scale),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval) {}

torch::Tensor LossScaler::scale(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool fused_unscale_available(torch::Device device) {
  // Asked once per device type: unscale_gradients asks for every gradient of every step.
  auto ask = [](c10::DispatchKey key) {
    const auto op = c10::Dispatcher::singleton().findSchema(
        c10::OperatorName("aten::_amp_foreach_non_finite_check_and_unscale_", ""));
    return op && op->hasKernelForDispatchKey(key);
  };
  static const bool cpu = ask(c10::DispatchKey::CPU), cuda = ask(c10::DispatchKey::CUDA);
  return device.is_cuda() ? cuda : cpu;
}

bool unscale_gradients(const std::vector<torch::Tensor>& grads, double inv_scale, bool fused) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> finite;  // per tensor, or per fused group: 1 when all finite
  std::map<std::pair<std::string, torch::ScalarType>, std::vector<torch::Tensor>> groups;
  for (const auto& g : grads) {
    if (fused && fused_unscale_available(g.device())) {
      groups[{g.device().str(), g.scalar_type()}].push_back(g);
      continue;
    }
    g.mul_(inv_scale);
    finite.push_back(torch::isfinite(g).all());
  }
  for (auto& [key, group] : groups) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(group.front().device());
    auto found_inf = torch::zeros({1}, opts);
    at::_amp_foreach_non_finite_check_and_unscale_(group, found_inf, torch::full({1}, inv_scale, opts));
    finite.push_back(found_inf.eq(0).squeeze(0).to(torch::kCPU));
  }
  return finite.empty() || torch::stack(finite).all().item<bool>();
}

bool LossScaler::unscale(const std::vector<torch::Tensor>& params) {
  if (!enabled_) return true;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  return unscale_gradients(grads, 1.0 / scale_);
}

void LossScaler::update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) {
    scale_ *= backoff_factor_;
    growth_tracker_ = 0;
    ++skipped_;
  } else if (++growth_tracker_ >= growth_interval_) {
    scale_ *= growth_factor_;
    growth_tracker_ = 0;
  }
}

void LossScaler::restore(double scale, int64_t growth_tracker, int64_t skipped) {
  scale_ = scale;
  growth_tracker_ = growth_tracker;
  skipped_ = skipped;
}

}  // namespace distilbert
