// Attention's two per-head products of a base-size step, forward and backward, torch::matmul against head_products'
// loop (model/head_products.h), alternating, the same operands; median milliseconds and the rate of each. Operands
// as in the model: q, k, v are (B, T, h, d) views transposed to (B, h, T, d), not copies.
//   bench_head_products [threads] [repeats] [batch] [seq] [fp32|bf16]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/median.h"
#include "distilbert/core/runtime.h"
#include "distilbert/model/head_products.h"

using namespace distilbert;
using distilbert::bench::median;
using Clock = std::chrono::steady_clock;

namespace {
// scores = q k^T, ctx = softmax(scores) v, and the backward of sum(ctx * g): 6 products of B h T T d each.
double step_ms(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& g) {
  const auto t0 = Clock::now();
  auto scores = head_products(q, k.transpose(2, 3));
  auto ctx = head_products(torch::softmax(scores, -1), v);
  (ctx * g).sum().backward();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  const int threads = set_threads(argc > 1 ? std::atoi(argv[1]) : 0);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  const int64_t B = argc > 3 ? std::atoll(argv[3]) : 8, T = argc > 4 ? std::atoll(argv[4]) : 128, h = 12, d = 64;
  const std::string precision = argc > 5 ? argv[5] : "fp32";
  const auto dtype = precision == "bf16" ? torch::kBFloat16 : torch::kFloat;
  torch::manual_seed(0);
  auto leaf = [&] { return torch::randn({B, T, h, d}).to(dtype).requires_grad_(true); };
  auto q = leaf(), k = leaf(), v = leaf();
  auto g = torch::randn({B, h, T, d}).to(dtype);
  auto view = [](const torch::Tensor& t) { return t.transpose(1, 2); };
  std::vector<double> matmul_ms, ours_ms;
  for (int r = 0; r < repeats + 2; ++r) {  // the first two rounds warm up: not timed
    set_head_products(HeadProductsMode::Matmul);
    const double m = step_ms(view(q), view(k), view(v), g);
    set_head_products(HeadProductsMode::Loop);
    const double o = step_ms(view(q), view(k), view(v), g);
    if (r >= 2) matmul_ms.push_back(m), ours_ms.push_back(o);
  }
  const double gflop = 6.0 * 2.0 * B * h * T * T * d / 1e9;
  const double mm = median(matmul_ms), om = median(ours_ms);
  const auto& blas = openblas_info();
  std::printf("BLAS: %s%s%s\n", blas.config.empty() ? "not OpenBLAS (MKL in the torch wheel)" : blas.config.c_str(),
              blas.config.empty() ? "" : ", threading ", blas.threading.c_str());
  std::printf("attention products fwd+bwd, %s, B=%lld T=%lld h=%lld d=%lld, %d threads, %d repeats\n",
              precision.c_str(), static_cast<long long>(B), static_cast<long long>(T), static_cast<long long>(h),
              static_cast<long long>(d), threads, repeats);
  std::printf("  torch::matmul   %8.2f ms  %6.1f GFLOP/s (with softmax and the loss)\n", mm, gflop / mm * 1e3);
  std::printf("  head_products   %8.2f ms  %6.1f GFLOP/s  (%.2fx)\n", om, gflop / om * 1e3, mm / om);
  return 0;
}
