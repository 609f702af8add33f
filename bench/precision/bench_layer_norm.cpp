// LayerNorm of a bf16 activation with fp32 weights, the two forms model/layers.cpp has chosen between: LibTorch
// 1.13's (cast the activation to fp32, normalise, fp32 out) and 2.x's mixed-dtype kernel (bf16 in, statistics in
// fp32, bf16 out); forward and backward, alternating, median milliseconds. The 2.x form needs LibTorch 2.x.
//   bench_layer_norm [threads] [repeats]     (DistilBERT-base's activations: 32 x 128 x 768)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <torch/torch.h>
#include <torch/version.h>

#include "bench/median.h"
#include "distilbert/core/runtime.h"

using namespace distilbert;
using distilbert::bench::median;
using Clock = std::chrono::steady_clock;

#if TORCH_VERSION_MAJOR < 2
int main() {
  std::printf("[bench_layer_norm] LibTorch %s has no mixed-dtype LayerNorm; nothing to compare\n", TORCH_VERSION);
  return 0;
}
#else
namespace {
// One forward and backward of `ln` on x (the activation's gradient is all ones); milliseconds.
double step_ms(torch::nn::LayerNorm& ln, const torch::Tensor& x, bool cast_first) {
  const auto t0 = Clock::now();
  auto xi = x.detach().requires_grad_(true);
  auto y = ln->forward(cast_first ? xi.to(torch::kFloat) : xi);
  y.backward(torch::ones_like(y));
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  const int threads = set_threads(argc > 1 ? std::atoi(argv[1]) : 0);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  torch::nn::LayerNorm ln(torch::nn::LayerNormOptions({768}).eps(1e-12));
  const auto x = torch::randn({32, 128, 768}).to(torch::kBFloat16);
  std::vector<double> cast_ms, mixed_ms;
  for (int r = 0; r < repeats + 2; ++r) {  // the first two rounds warm the allocator: not timed
    const double a = step_ms(ln, x, true), b = step_ms(ln, x, false);
    if (r >= 2) {
      cast_ms.push_back(a);
      mixed_ms.push_back(b);
    }
  }
  const double mc = median(cast_ms), mm = median(mixed_ms);
  std::printf("[bench_layer_norm] LibTorch %s, %d thread(s), 32 x 128 x 768 bf16, forward + backward, median of %d: "
              "cast to fp32 first (1.13's form) %.2f ms, mixed-dtype kernel %.2f ms (%.2fx)\n",
              TORCH_VERSION, threads, repeats, mc, mm, mc / mm);
  return 0;
}
#endif
