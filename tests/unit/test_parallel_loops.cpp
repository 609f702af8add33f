// at::parallel_for in this project's code runs on LibTorch's threads (core/runtime.h parallel_loop_threads): ATen's
// loop template is serial unless the including file is compiled with OpenMP, which LibTorch's CMake config does not
// add (CMakeLists.txt, DISTILBERT_OPENMP). The fused KL, whose blocks call ATen operators from the pool's threads,
// gives the same loss and gradient on one thread and on two.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "distilbert/core/runtime.h"
#include "distilbert/train/distill_loss.h"

using namespace distilbert;

namespace {
// Restores LibTorch's thread count when a test ends.
struct ThreadCount {
  int saved = torch::get_num_threads();
  ~ThreadCount() { torch::set_num_threads(saved); }
};

struct KlRun {
  double kl, ce;
  torch::Tensor grad;
};

KlRun fused_kl(const torch::Tensor& s0, const torch::Tensor& t, const torch::Tensor& labels) {
  auto s = s0.detach().clone().requires_grad_(true);
  auto [kl, ce] = soft_target_kl_and_mlm(s, t, labels, 2.0);
  (kl + ce).backward();
  return {kl.item<double>(), ce.item<double>(), s.grad()};
}
}  // namespace

TEST_CASE("parallel loops: at::parallel_for in the library reaches every thread LibTorch has", "[unit][threads]") {
  ThreadCount restore;
  torch::set_num_threads(1);
  CHECK(parallel_loop_threads() == 1);
  // Two threads exist whatever the CPUs (OpenMP starts them on one CPU too).
  torch::set_num_threads(2);
  CHECK(parallel_loop_threads() == 2);
}

TEST_CASE("parallel loops: the fused KL gives the same loss and gradient on one thread and on two",
          "[unit][threads][loss]") {
  ThreadCount restore;
  torch::manual_seed(3);
  // 150 rows of V = 30,522: five blocks of 34 rows (~4 MB), so both threads take blocks.
  const int64_t N = 150, V = 30522;
  const auto s = torch::randn({N, V}) * 3, t = torch::randn({N, V}) * 3;
  auto labels = torch::randint(0, V, {N}, torch::kLong);
  labels.masked_fill_(torch::rand({N}) < 0.85, -100);
  labels[0] = 5;
  torch::set_num_threads(1);
  const KlRun one = fused_kl(s, t, labels);
  torch::set_num_threads(2);
  REQUIRE(parallel_loop_threads() == 2);
  const KlRun two = fused_kl(s, t, labels);
  // Each block is computed by one thread with the same kernels either way, and the block sums are added in block
  // order: only a different vector path could change a rounding, so compare to a few fp32 ulps of the values.
  CHECK(two.kl == Approx(one.kl).epsilon(1e-6));
  CHECK(two.ce == Approx(one.ce).epsilon(1e-6));
  CHECK((two.grad - one.grad).abs().max().item<double>() <= 1e-6 * one.grad.abs().max().item<double>());
}
