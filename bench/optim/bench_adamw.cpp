// One AdamW step over DistilBERT-base's trainable parameter shapes (66,985,530 parameters: word embeddings 30522 x
// 768, positions 512 x 768, 6 layers of 4 x 768^2 attention + 2 x 768 x 3072 FFN, the MLM head), LibTorch's
// torch::optim::AdamW::step against our fused adamw_step, alternating, the same gradients; median milliseconds. Then
// the fp16 loss scaler's unscale of those gradients (train/precision.h): a multiply and an isfinite reduction per
// tensor against at::_amp_foreach_non_finite_check_and_unscale_, where this LibTorch has it for CPU (2.x).
//   bench_adamw [threads] [repeats]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <torch/torch.h>
#include <torch/version.h>

#include "bench/median.h"
#include "distilbert/core/runtime.h"
#include "distilbert/train/optim.h"
#include "distilbert/train/precision.h"

using namespace distilbert;
using distilbert::bench::median;
using Clock = std::chrono::steady_clock;

namespace {
std::vector<torch::Tensor> distilbert_base_params() {
  std::vector<std::vector<int64_t>> shapes = {{30522, 768}, {512, 768}, {768}, {768}};
  for (int l = 0; l < 6; ++l) {
    for (int k = 0; k < 4; ++k) shapes.insert(shapes.end(), {{768, 768}, {768}});
    shapes.insert(shapes.end(), {{768}, {768}, {3072, 768}, {3072}, {768, 3072}, {768}, {768}, {768}});
  }
  shapes.insert(shapes.end(), {{768, 768}, {768}, {768}, {768}, {30522}});
  std::vector<torch::Tensor> ps;
  for (const auto& s : shapes) {
    auto p = torch::randn(s).requires_grad_(true);
    p.mutable_grad() = torch::randn(s) * 1e-3;
    ps.push_back(p);
  }
  return ps;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = set_threads(argc > 1 ? std::atoi(argv[1]) : 0);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  auto a = distilbert_base_params();
  auto b = distilbert_base_params();
  int64_t n = 0;
  for (const auto& p : a) n += p.numel();
  torch::optim::AdamW oa(a, torch::optim::AdamWOptions(1e-4).betas({0.9, 0.98}).eps(1e-6).weight_decay(0.01));
  torch::optim::AdamW ob(b, torch::optim::AdamWOptions(1e-4).betas({0.9, 0.98}).eps(1e-6).weight_decay(0.01));
  std::vector<double> libtorch_ms, fused_ms;
  for (int r = 0; r < repeats + 1; ++r) {  // the first round creates the state: not timed
    auto t0 = Clock::now();
    oa.step();
    const double la = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    t0 = Clock::now();
    adamw_step(ob);
    const double lb = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r > 0) {
      libtorch_ms.push_back(la);
      fused_ms.push_back(lb);
    }
  }
  const double ml = median(libtorch_ms), mf = median(fused_ms);
  std::printf("[bench_adamw] %lld parameters, %d thread(s), median of %d steps: LibTorch AdamW %.1f ms, fused %.1f ms "
              "(%.2fx)\n",
              static_cast<long long>(n), threads, repeats, ml, mf, ml / mf);
  if (!fused_unscale_available(torch::kCPU)) {
    std::printf("[bench_adamw] unscale: this LibTorch (%s) has no fused CPU kernel; nothing to compare\n", TORCH_VERSION);
    return 0;
  }
  std::vector<torch::Tensor> grads;
  for (const auto& p : a) grads.push_back(p.grad());
  std::vector<double> loop_ms, fused_unscale_ms;
  // Each timing is a pair, by 2^-16 then by 2^16: exact, so the gradients never drift into denormals, and no factor
  // is 1 (a kernel may skip the multiply for 1). Halved to give one unscale.
  auto pair_ms = [&](bool fused) {
    const auto t0 = Clock::now();
    unscale_gradients(grads, 1.0 / 65536.0, fused);
    unscale_gradients(grads, 65536.0, fused);
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 2;
  };
  for (int r = 0; r < repeats + 1; ++r) {
    const double la = pair_ms(false), lb = pair_ms(true);
    if (r > 0) {
      loop_ms.push_back(la);
      fused_unscale_ms.push_back(lb);
    }
  }
  const double ul = median(loop_ms), uf = median(fused_unscale_ms);
  std::printf("[bench_adamw] loss-scaler unscale of the same gradients, median of %d: per-tensor loop %.1f ms, fused "
              "%.1f ms (%.2fx)\n", repeats, ul, uf, ul / uf);
  return 0;
}
