// at::parallel_for in this project's code runs on LibTorch's threads (core/runtime.h parallel_loop_threads): ATen's
// loop template is serial unless the including file is compiled with OpenMP, which LibTorch's CMake config does not
// add (CMakeLists.txt, DISTILBERT_OPENMP). The fused KL, whose blocks call ATen operators from the pool's threads,
// gives the same loss and gradient on one thread and on two. The attention's per-head products
// (model/head_products.h), one product per thread, agree with the exact products within fp32's rounding bound.
#include <cmath>
#include <string>

#include <catch2/catch.hpp>

#include <torch/torch.h>
#include <torch/version.h>

#include "distilbert/core/runtime.h"
#include "distilbert/model/head_products.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/precision.h"

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

// Puts the head products back in the mode a process starts in when a test ends.
struct HeadProductsModeReset {
  ~HeadProductsModeReset() { set_head_products(HeadProductsMode::Auto); }
};

// (B, T, h, d) leaves seen as (B, h, T, d), as the model's q, k, v.
torch::Tensor heads_leaf(int64_t B, int64_t T, int64_t h, int64_t d) {
  return torch::randn({B, T, h, d}).requires_grad_(true);
}

bool ran_threaded(const torch::Tensor& out) {
  return out.grad_fn() && out.grad_fn()->name().find("HeadProducts") != std::string::npos;
}

// |got - exact| <= k u |a| |b| elementwise (the bound of a k-term fp32 dot product, u = 2^-24), with exact and
// |a| |b| computed in fp64 from the same fp32 operands.
void check_product(const torch::Tensor& got, const torch::Tensor& a, const torch::Tensor& b) {
  const auto a64 = a.detach().to(torch::kDouble), b64 = b.detach().to(torch::kDouble);
  const auto exact = torch::matmul(a64, b64);
  const auto bound = torch::matmul(a64.abs(), b64.abs()) * (a.size(-1) * std::ldexp(1.0, -24)) + 1e-30;
  const auto excess = (got.detach().to(torch::kDouble) - exact).abs() / bound;
  INFO("worst |error| / bound " << excess.max().item<double>());
  CHECK(excess.max().item<double>() <= 1.0);
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

TEST_CASE("parallel loops: the per-head attention products equal the exact products, forward and gradients",
          "[unit][threads]") {
  ThreadCount restore;
  HeadProductsModeReset reset;
  set_head_products(HeadProductsMode::Loop);  // on any BLAS
  torch::set_num_threads(2);
  REQUIRE(parallel_loop_threads() == 2);
  torch::manual_seed(5);
  const int64_t B = 3, T = 20, h = 4, d = 16;  // 12 products over 2 threads
  auto q = heads_leaf(B, T, h, d), k = heads_leaf(B, T, h, d), v = heads_leaf(B, T, h, d);
  const auto qh = q.transpose(1, 2), kh = k.transpose(1, 2), vh = v.transpose(1, 2);
  const auto scores = head_products(qh, kh.transpose(2, 3));  // (B, h, T, T)
  REQUIRE(ran_threaded(scores));
  check_product(scores, qh, kh.transpose(2, 3));
  const auto w = torch::softmax(scores, -1);
  const auto ctx = head_products(w, vh);  // (B, h, T, d)
  REQUIRE(ran_threaded(ctx));
  check_product(ctx, w, vh);
  // Backward of sum(ctx * g): d w = g v^T, d v = w^T g, then through softmax to d scores = ds, d q = ds k,
  // d k = ds^T q. Each gradient product is checked against its exact value from the fp32 operands autograd saw.
  const auto g = torch::randn({B, h, T, d});
  torch::Tensor dw;
  w.register_hook([&](const torch::Tensor& grad) { dw = grad; });
  torch::Tensor ds;
  scores.register_hook([&](const torch::Tensor& grad) { ds = grad; });
  (ctx * g).sum().backward();
  check_product(dw, g, vh.transpose(2, 3));
  check_product(v.grad().transpose(1, 2), w.transpose(2, 3), g);
  check_product(q.grad().transpose(1, 2), ds, kh);
  check_product(k.grad().transpose(1, 2), ds.transpose(2, 3), qh);
}

TEST_CASE("parallel loops: the per-head products leave to matmul what they do not speed up, and keep the caller's "
          "modes on the pool's threads",
          "[unit][threads]") {
  ThreadCount restore;
  HeadProductsModeReset reset;
  torch::manual_seed(6);
  const auto a = torch::randn({2, 4, 8, 16}).requires_grad_(true), b = torch::randn({2, 4, 16, 8});
  torch::set_num_threads(2);
  // Auto: the loop where the BLAS is an OpenMP OpenBLAS. The 1.13 build links Debian's, which scripts/setup.sh
  // installs in its OpenMP form; the x86-64 torch wheel carries MKL.
  set_head_products(HeadProductsMode::Auto);
  INFO("BLAS: '" << openblas_info().config << "', threading '" << openblas_info().threading << "'");
#if TORCH_VERSION_MAJOR < 2
  CHECK(openblas_info().threading == "OpenMP");
#endif
  CHECK(ran_threaded(head_products(a, b)) == (openblas_info().threading == "OpenMP"));
  set_head_products(HeadProductsMode::Matmul);
  CHECK_FALSE(ran_threaded(head_products(a, b)));
  set_head_products(HeadProductsMode::Loop);
  CHECK(ran_threaded(head_products(a, b)));
  torch::set_num_threads(1);
  CHECK_FALSE(ran_threaded(head_products(a, b)));  // one thread
  torch::set_num_threads(2);
  CHECK_FALSE(ran_threaded(head_products(a.to(torch::kBFloat16), b.to(torch::kBFloat16))));  // oneDNN's bf16
  CHECK_FALSE(ran_threaded(head_products(a.narrow(1, 0, 1), b.narrow(1, 0, 1))));  // 2 products: 1 per thread
  CHECK_FALSE(ran_threaded(head_products(a.flatten(0, 1), b.flatten(0, 1))));     // not (B, h, m, k)
  {
    AutocastScope bf16("bf16", torch::kCPU);  // matmul casts to bf16 under autocast: so must this
    const auto out = head_products(a, b);
    CHECK_FALSE(ran_threaded(out));
    CHECK(out.scalar_type() == torch::kBFloat16);
  }
  // Inference mode and no-grad reach the pool's threads: the out= products inside would throw under grad mode, and
  // inference tensors may only be written in inference mode.
  {
    c10::InferenceMode inference;
    const auto ai = torch::randn({2, 4, 8, 16}), bi = torch::randn({2, 4, 16, 8});
    check_product(head_products(ai, bi), ai, bi);
  }
  {
    torch::NoGradGuard no_grad;
    const auto out = head_products(a, b);
    CHECK_FALSE(out.requires_grad());
    check_product(out, a, b);
  }
}
