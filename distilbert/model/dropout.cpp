// Dropout for CPU tensors with a counter-based generator; see layers.h.
//
// LibTorch 1.13's CPU dropout draws its mask with bernoulli_ on one thread, element by element, into a float tensor
// it keeps for backward: 0.12-0.17 s of a base-size distillation step on 2 vCPUs. Here the keep decision of
// element i is a pure function of (seed, i): SplitMix64's output function (core/splitmix64.h) applied to
// seed + (i/2 + 1) * golden gamma, one 32-bit half per element. The loop runs on every intra-op thread, the mask is
// kept as one byte per element, and the result does not depend on the thread count. The seed is one draw from
// LibTorch's default CPU generator per call, so torch::manual_seed and the checkpointed generator state make runs
// reproducible and resumable as before.
#include <cstdint>
#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/splitmix64.h"
#include "distilbert/model/layers.h"

namespace distilbert {

namespace {

constexpr int64_t kGrainPairs = 16384;

uint64_t draw_seed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

// out[i] = keep(i) ? x[i] * scale : 0 and mask[i] = keep(i), with keep(i) = (32-bit half of hash(i/2)) < threshold.
template <typename T>
void masked_scale_forward(const T* x_in, T* out_in, uint8_t* mask_in, int64_t n, uint64_t seed_in,
                          uint64_t threshold_in, float scale_in) {
  const int64_t pairs = (n + 1) / 2;
  // Operands by value into locals: a store through the uint8 mask may alias anything, so captured references would be
  // reloaded at every element (docs/PRECISION.md, "Threads").
  at::parallel_for(0, pairs, kGrainPairs, [=](int64_t begin, int64_t end) {
    const T* __restrict__ x = x_in;
    T* __restrict__ out = out_in;
    uint8_t* __restrict__ mask = mask_in;
    const uint64_t seed = seed_in, threshold = threshold_in;
    const float scale = scale_in;
    for (int64_t j = begin; j < end; ++j) {
      const uint64_t h = splitmix64_mix(seed + static_cast<uint64_t>(j + 1) * kSplitMix64Gamma);
      const int64_t i = 2 * j;
      const uint8_t k0 = (h & 0xffffffffULL) < threshold;
      mask[i] = k0;
      out[i] = k0 ? static_cast<T>(static_cast<float>(x[i]) * scale) : static_cast<T>(0);
      if (i + 1 < n) {
        const uint8_t k1 = (h >> 32) < threshold;
        mask[i + 1] = k1;
        out[i + 1] = k1 ? static_cast<T>(static_cast<float>(x[i + 1]) * scale) : static_cast<T>(0);
      }
    }
  });
}

template <typename T>
void masked_scale(const T* g_in, const uint8_t* mask_in, T* out_in, int64_t n, float scale_in) {
  at::parallel_for(0, n, 2 * kGrainPairs, [=](int64_t begin, int64_t end) {
    const T* __restrict__ g = g_in;
    const uint8_t* __restrict__ mask = mask_in;
    T* __restrict__ out = out_in;
    const float scale = scale_in;
    for (int64_t i = begin; i < end; ++i)
      out[i] = mask[i] ? static_cast<T>(static_cast<float>(g[i]) * scale) : static_cast<T>(0);
  });
}

torch::Tensor apply_mask(const torch::Tensor& grad, const torch::Tensor& mask, float scale) {
  auto g = grad.contiguous();
  auto out = torch::empty_like(g, torch::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, g.scalar_type(), "dropout_backward", [&] {
    masked_scale<scalar_t>(g.data_ptr<scalar_t>(), mask.data_ptr<uint8_t>(), out.data_ptr<scalar_t>(), g.numel(),
                           scale);
  });
  return out;
}

struct CounterDropout : torch::autograd::Function<CounterDropout> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input, double p) {
    auto x = input.contiguous();
    auto out = torch::empty_like(x, torch::MemoryFormat::Contiguous);
    auto mask = torch::empty(x.sizes(), x.options().dtype(torch::kUInt8));
    // P(keep) = threshold / 2^32 = 1 - p, to within 2^-32.
    const auto threshold = static_cast<uint64_t>((1.0 - p) * 4294967296.0 + 0.5);
    // As LibTorch: the kept values are multiplied by 1 / (1 - p) computed in the float of the noise tensor.
    const float scale = 1.0f / static_cast<float>(1.0 - p);
    const uint64_t seed = draw_seed();
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "dropout_forward", [&] {
      masked_scale_forward<scalar_t>(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), mask.data_ptr<uint8_t>(),
                                     x.numel(), seed, threshold, scale);
    });
    ctx->save_for_backward({mask});
    ctx->saved_data["scale"] = static_cast<double>(scale);
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto mask = ctx->get_saved_variables()[0];
    const auto scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
    return {apply_mask(grads[0], mask, scale), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor dropout_cpu(const torch::Tensor& x, double p, bool training) {
  DISTILBERT_CHECK(p >= 0.0 && p <= 1.0, "dropout probability has to be between 0 and 1, got ", p);
  if (!training || p == 0.0 || x.numel() == 0) return x;
  if (p == 1.0) return x * torch::zeros({}, x.options());
  if (!x.device().is_cpu() || !x.is_floating_point()) return torch::dropout(x, p, training);
  return CounterDropout::apply(x, p);
}

torch::Tensor apply_dropout(const torch::nn::Dropout& d, const torch::Tensor& x) {
  return dropout_cpu(x, d->options.p(), d->is_training());
}

}  // namespace distilbert
