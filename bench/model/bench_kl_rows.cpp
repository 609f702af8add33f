// The soft-target KL and its gradient over a base distillation step's rows (1024 rows = batch 8 x 128 tokens, of
// V = 30,522 fp32 logits per model, T = 2), in blocks of 34 rows (~4 MB per side) over the intra-op threads as the
// fused loss runs them (train/distill_loss.cpp): the gradient alone from LibTorch's operators (scale, two softmaxes,
// difference), against the KL and gradient from the portable row kernel and from the AVX2 row kernel
// (train/kl_rows.h); alternating, median milliseconds.
// Beside them the floor of the memory traffic: one pass reading both logits and writing the gradient (sub_out).
//   bench_kl_rows [threads] [repeats]
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "bench/median.h"
#include "distilbert/core/cpu_caps.h"
#include "distilbert/core/runtime.h"
#include "distilbert/train/kl_rows.h"

using namespace distilbert;
using distilbert::bench::median;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kRows = 1024, kV = 30522, kBlock = 34;
constexpr double kT = 2.0;

// The blocks over the threads; `block` computes rows [r0, r0 + n) and returns their KL sum.
double over_blocks(const std::function<double(int64_t, int64_t)>& block) {
  const int64_t blocks = (kRows + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks));
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      partial[static_cast<size_t>(b)] = block(b * kBlock, std::min(kBlock, kRows - b * kBlock));
  });
  double kl = 0;
  for (double p : partial) kl += p;
  return kl;
}

// The gradient alone from LibTorch's operators, as the fused loss made it until the row kernel (scale, two softmaxes,
// p_s - p_t): a floor for any composition of operators, which needs more passes for the KL value on top.
double libtorch_ops(const torch::Tensor& s, const torch::Tensor& t, torch::Tensor& grad) {
  return over_blocks([&](int64_t r0, int64_t n) {
    torch::NoGradGuard no_grad;
    auto g = grad.narrow(0, r0, n);
    torch::sub_out(g, torch::softmax(s.narrow(0, r0, n) / kT, 1), torch::softmax(t.narrow(0, r0, n) / kT, 1));
    return 0.0;
  });
}

double row_kernel(const torch::Tensor& s, const torch::Tensor& t, torch::Tensor& grad, KlRowsKernel kernel) {
  return over_blocks([&](int64_t r0, int64_t n) {
    std::vector<float> work(static_cast<size_t>(kV));
    return kl_rows(s.data_ptr<float>() + r0 * kV, t.data_ptr<float>() + r0 * kV, grad.data_ptr<float>() + r0 * kV,
                   work.data(), n, kV, static_cast<float>(1 / kT), kernel);
  });
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  const int threads = set_threads(argc > 1 ? std::atoi(argv[1]) : 0);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 10;
  torch::manual_seed(0);
  const auto s = torch::randn({kRows, kV}) * 3, t = torch::randn({kRows, kV}) * 3;
  auto grad = torch::empty({kRows, kV});

  struct Way {
    const char* name;
    std::function<double()> run;
    std::vector<double> ms;
    double kl = 0;
  };
  std::vector<Way> ways;
  ways.push_back({"memory floor (sub_out)",
                  [&] {
                    torch::sub_out(grad, s, t);
                    return 0.0;
                  },
                  {}});
  ways.push_back({"operators, gradient only", [&] { return libtorch_ops(s, t, grad); }, {}});
  ways.push_back({"portable row kernel", [&] { return row_kernel(s, t, grad, KlRowsKernel::Portable); }, {}});
  if (kl_rows_avx2_available())
    ways.push_back({"AVX2 row kernel", [&] { return row_kernel(s, t, grad, KlRowsKernel::Avx2); }, {}});
  else
    std::printf("[bench_kl_rows] no AVX2 row kernel: this CPU lacks AVX2 or FMA\n");
  for (int r = 0; r < repeats + 1; ++r) {  // the first round warms the pages and the pool: not timed
    for (auto& w : ways) {
      const auto t0 = Clock::now();
      w.kl = w.run();
      if (r > 0) w.ms.push_back(ms_since(t0));
    }
  }
  std::printf("[bench_kl_rows] %s; %lld x %lld logits per model, T %.0f, %d thread(s), median of %d:\n",
              cpu_summary().c_str(), static_cast<long long>(kRows), static_cast<long long>(kV), kT, threads, repeats);
  const double ops_ms = median(ways[1].ms);
  for (const auto& w : ways) {
    std::printf("[bench_kl_rows]   %-26s %7.1f ms  (%5.2fx the operators)", w.name, median(w.ms),
                ops_ms / median(w.ms));
    if (w.kl != 0) std::printf("  KL sum %.6f", w.kl);
    std::printf("\n");
  }
  return 0;
}
