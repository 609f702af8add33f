// The counter-based CPU dropout (model/dropout.cpp, layers.h) against hand-computed expectations: the drop rate and
// the independence of neighbouring and successive masks within binomial tolerances, survivors scaled by exactly
// 1 / (1 - p) as LibTorch scales them, the gradient, reproducibility under torch::manual_seed, independence of the
// thread count, and LibTorch's edge cases (eval, p = 0, p = 1, p out of range).
#include <catch2/catch.hpp>

#include <cmath>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "distilbert/model/layers.h"

using namespace distilbert;

namespace {
// Five standard deviations of the mean of n Bernoulli(q) draws.
double tolerance(double q, int64_t n) { return 5.0 * std::sqrt(q * (1.0 - q) / static_cast<double>(n)); }

double rate(const torch::Tensor& b) { return b.to(torch::kDouble).mean().item<double>(); }
}  // namespace

TEST_CASE("dropout: drop rate, exact survivor scale and independent neighbours", "[dropout]") {
  torch::manual_seed(1234);
  for (double p : {0.1, 0.5}) {
    CAPTURE(p);
    const int64_t n = 4'000'001;  // odd: the last element is the first half of an unfinished pair
    auto x = torch::ones({n});
    auto y = dropout_cpu(x, p, true);
    REQUIRE(y.sizes() == x.sizes());
    REQUIRE(y.scalar_type() == torch::kFloat);
    auto dropped = y.eq(0);
    CHECK(std::abs(rate(dropped) - p) < tolerance(p, n));
    const float scale = 1.0f / static_cast<float>(1.0 - p);  // what LibTorch's noise.div_(1 - p) gives
    CHECK(torch::all(torch::logical_or(dropped, y.eq(scale))).item<bool>());

    // Elements 2j and 2j + 1 share one 64-bit hash; 2j + 1 and 2j + 2 come from successive hashes. Both pairs must be
    // dropped together with probability p^2.
    auto d = dropped.narrow(0, 0, n - 1).view({-1, 2});
    CHECK(std::abs(rate(torch::logical_and(d.select(1, 0), d.select(1, 1))) - p * p) < tolerance(p * p, d.size(0)));
    auto e = dropped.narrow(0, 1, n - 1).view({-1, 2});
    CHECK(std::abs(rate(torch::logical_and(e.select(1, 0), e.select(1, 1))) - p * p) < tolerance(p * p, e.size(0)));

    // A second call draws a new seed: its mask is independent of the first.
    auto dropped2 = dropout_cpu(x, p, true).eq(0);
    CHECK(std::abs(rate(torch::logical_and(dropped, dropped2)) - p * p) < tolerance(p * p, n));
    CHECK(!torch::equal(dropped, dropped2));
  }
}

TEST_CASE("dropout: the rate holds in every stretch of a tensor and in small tensors", "[dropout]") {
  torch::manual_seed(5);
  const double p = 0.2;
  auto y = dropout_cpu(torch::ones({64, 65536}), p, true);
  auto rates = y.eq(0).to(torch::kDouble).mean(1);  // one rate per 65,536 elements, across the threads' chunks
  CHECK((rates - p).abs().max().item<double>() < tolerance(p, 65536));
  // 200,000 calls on three elements: each position dropped at rate p.
  int64_t drops[3] = {0, 0, 0};
  const int64_t calls = 200'000;
  auto three = torch::ones({3});
  for (int64_t c = 0; c < calls; ++c) {
    auto z = dropout_cpu(three, p, true);
    auto a = z.accessor<float, 1>();
    for (int i = 0; i < 3; ++i) drops[i] += a[i] == 0.0f;
  }
  for (int i = 0; i < 3; ++i) CHECK(std::abs(static_cast<double>(drops[i]) / calls - p) < tolerance(p, calls));
}

TEST_CASE("dropout: gradient is the upstream gradient where kept, times 1 / (1 - p)", "[dropout]") {
  const double p = 0.3;
  auto x = (torch::rand({7, 33, 129}) + 1.0).requires_grad_(true);  // no zeros: kept <=> y != 0
  auto g = torch::randn({7, 33, 129});
  torch::manual_seed(99);
  auto y = dropout_cpu(x, p, true);
  y.backward(g);
  const float scale = 1.0f / static_cast<float>(1.0 - p);
  auto kept = y.detach().ne(0);
  CHECK(torch::equal(y.detach(), torch::where(kept, x.detach() * scale, torch::zeros({}))));
  CHECK(torch::equal(x.grad(), torch::where(kept, g * scale, torch::zeros({}))));
  // A non-contiguous upstream gradient (a transposed view) gives the same values.
  auto x2 = x.detach().clone().requires_grad_(true);
  torch::manual_seed(99);
  auto y2 = dropout_cpu(x2, p, true);
  y2.backward(g.transpose(0, 2).contiguous().transpose(0, 2));
  CHECK(torch::equal(x2.grad(), x.grad()));
}

TEST_CASE("dropout: reproducible under manual_seed and independent of the thread count", "[dropout]") {
  auto x = torch::randn({3, 100'003});
  const int threads = at::get_num_threads();
  torch::manual_seed(42);
  at::set_num_threads(1);
  auto one = dropout_cpu(x, 0.1, true);
  torch::manual_seed(42);
  at::set_num_threads(std::max(2, threads));
  auto many = dropout_cpu(x, 0.1, true);
  at::set_num_threads(threads);
  CHECK(torch::equal(one, many));
  // A transposed (non-contiguous) input is dropped as its contiguous copy is, shape and layout of values kept.
  auto xt = x.t();
  torch::manual_seed(42);
  auto a = dropout_cpu(xt, 0.1, true);
  torch::manual_seed(42);
  auto b = dropout_cpu(xt.contiguous(), 0.1, true);
  CHECK(a.sizes() == xt.sizes());
  CHECK(torch::equal(a, b));
}

TEST_CASE("dropout: bf16 tensors keep their dtype, survivors are the bf16 rounding of x / (1 - p)", "[dropout]") {
  torch::manual_seed(3);
  auto x = torch::randn({50'000}).to(torch::kBFloat16);
  auto y = dropout_cpu(x, 0.1, true);
  REQUIRE(y.scalar_type() == torch::kBFloat16);
  auto expect = (x.to(torch::kFloat) * (1.0f / 0.9f)).to(torch::kBFloat16);
  auto kept = y.ne(0);
  CHECK(torch::equal(y.masked_select(kept), expect.masked_select(kept)));
  CHECK(std::abs(rate(y.eq(0).logical_and(x.ne(0))) - 0.1) < tolerance(0.1, 50'000));
}

TEST_CASE("dropout: eval, p = 0 and p = 1 behave as torch::dropout, bad p is an error", "[dropout]") {
  auto x = torch::randn({4, 5});
  CHECK(dropout_cpu(x, 0.5, false).is_same(x));
  CHECK(dropout_cpu(x, 0.0, true).is_same(x));
  CHECK(torch::equal(dropout_cpu(x, 1.0, true), torch::zeros({4, 5})));
  CHECK_THROWS_WITH(dropout_cpu(x, 1.5, true), Catch::Contains("between 0 and 1") && Catch::Contains("1.5"));
  torch::nn::Dropout module(0.5);
  module->eval();
  CHECK(apply_dropout(module, x).is_same(x));
  module->train();
  auto y = apply_dropout(module, torch::ones({10'000}));
  CHECK(std::abs(rate(y.eq(0)) - 0.5) < tolerance(0.5, 10'000));
}
