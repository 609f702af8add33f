// The models' linears (model/linear.h): oneDNN's fp32 product and the backward written around it against LibTorch's
// linear computed in float64, for 2-D, 3-D and strided inputs, with and without a bias; which library the auto mode
// picks; and LibTorch's own path where oneDNN must not run (bf16 autocast, fp64, the blas mode). On LibTorch 1.13,
// which has no oneDNN linear, the oneDNN cases are a visible skip and every linear is LibTorch's.
#include <catch2/catch.hpp>

#include <ATen/Context.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "distilbert/core/cpu_caps.h"
#include "distilbert/model/linear.h"
#include "distilbert/train/precision.h"
#include "support/bf16_products.h"

using namespace distilbert;

namespace {

// Back to the auto mode when a test case ends.
struct ModeScope {
  explicit ModeScope(LinearMode m) { set_linear_mode(m); }
  ~ModeScope() { set_linear_mode(LinearMode::Auto); }
};

// Forward and gradients of sum(y * probe) for y = linear(x, w, b), in the given mode.
struct Pass {
  torch::Tensor y, gx, gw, gb;
};
Pass run(const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& b0, const torch::Tensor& probe,
         bool reference) {
  auto x = x0.detach().requires_grad_(), w = w0.detach().requires_grad_();
  auto b = b0.defined() ? b0.detach().requires_grad_() : torch::Tensor();
  auto y = reference ? torch::nn::functional::linear(x, w, b) : linear(x, w, b);
  (y * probe).sum().backward();
  return {y.detach(), x.grad(), w.grad(), b.defined() ? b.grad() : torch::Tensor()};
}

// Worst-case bound of a float32 sum of k products (Higham's gamma_k, u = 2^-24) times the sum of their magnitudes,
// given by the same product on absolute values in float64; plus the rounding of the stored result.
torch::Tensor fp32_bound(const torch::Tensor& abs_product, int64_t k) {
  const double u = std::ldexp(1.0, -24), gamma = k * u / (1 - k * u);
  return abs_product * (gamma + u) + 1e-30;
}

void check_close(const char* what, const torch::Tensor& got, const torch::Tensor& want, const torch::Tensor& bound) {
  INFO(what << ": max |diff| " << (got.to(torch::kDouble) - want).abs().max().item<double>());
  CHECK(got.sizes() == want.sizes());
  CHECK(((got.to(torch::kDouble) - want).abs() <= bound).all().item<bool>());
}

}  // namespace

TEST_CASE("linear: the auto mode picks oneDNN only where LibTorch's MKL runs on a CPU not made by Intel",
          "[unit][linear]") {
  const bool want = onednn_linear_available() && at::hasMKL() && cpu_info().vendor != "GenuineIntel";
  {
    ModeScope auto_mode(LinearMode::Auto);
    CHECK(onednn_linears() == want);
  }
  {
    ModeScope blas(LinearMode::Blas);
    CHECK_FALSE(onednn_linears());
    const char* why = onednn_linear_available() ? "DISTILBERT_LINEAR=blas" : "no oneDNN linear";
    CHECK(linear_backend_summary().find(why) != std::string::npos);
  }
  ModeScope onednn(LinearMode::OneDnn);
  CHECK(onednn_linears() == onednn_linear_available());
#if TORCH_VERSION_MAJOR < 2
  CHECK_FALSE(onednn_linear_available());
  CHECK(linear_backend_summary().find("no oneDNN linear") != std::string::npos);
#endif
}

TEST_CASE("linear: oneDNN's product and gradients match LibTorch's linear in float64", "[unit][linear]") {
  if (!onednn_linear_available()) {
    WARN("SKIPPED: LibTorch " TORCH_VERSION " has no oneDNN linear (mkldnn::_linear_pointwise); every linear is "
         "LibTorch's");
    return;
  }
  ModeScope onednn(LinearMode::OneDnn);
  torch::manual_seed(5);
  const int64_t in = 96, out = 40;
  const auto w = torch::randn({out, in}), b = torch::randn({out});
  const auto x3 = torch::randn({3, 7, in});
  struct Case {
    const char* name;
    torch::Tensor x, b;
  };
  // 3-D rows; rows that are a strided view (BERT's pooler takes token 0 of each sequence); no bias.
  for (const Case& c : {Case{"3-D x, bias", x3, b}, Case{"strided x, bias", x3.select(1, 0), b},
                        Case{"2-D x, no bias", x3.reshape({-1, in}), torch::Tensor()}}) {
    INFO(c.name);
    auto probe_shape = c.x.sizes().vec();
    probe_shape.back() = out;
    const auto probe = torch::randn(probe_shape);
    const Pass got = run(c.x, w, c.b, probe, false);
    const Pass ref = run(c.x.to(torch::kDouble), w.to(torch::kDouble),
                         c.b.defined() ? c.b.to(torch::kDouble) : torch::Tensor(), probe.to(torch::kDouble), true);
    const auto ax = c.x.to(torch::kDouble).abs(), aw = w.to(torch::kDouble).abs(), ap = probe.to(torch::kDouble).abs();
    const auto ab = c.b.defined() ? c.b.to(torch::kDouble).abs() : torch::Tensor();
    check_close("y", got.y, ref.y, fp32_bound(torch::nn::functional::linear(ax, aw, ab), in + 1));
    check_close("dL/dx", got.gx, ref.gx, fp32_bound(torch::matmul(ap, aw), out));
    const auto rows_p = ap.reshape({-1, out}), rows_x = ax.reshape({-1, in});
    check_close("dL/dW", got.gw, ref.gw, fp32_bound(rows_p.t().mm(rows_x), rows_x.size(0)));
    if (c.b.defined()) check_close("dL/db", got.gb, ref.gb, fp32_bound(rows_p.sum(0), rows_x.size(0)));
    // The input's gradient as a tied projection computes it (model/distilbert.cpp).
    const auto g = probe.reshape({-1, out});
    check_close("linear_input_grad", linear_input_grad(g, w), g.to(torch::kDouble).mm(w.to(torch::kDouble)),
                fp32_bound(rows_p.mm(aw), out));
  }
}

TEST_CASE("linear: LibTorch's own linear where oneDNN must not run", "[unit][linear]") {
  ModeScope onednn(LinearMode::OneDnn);
  torch::manual_seed(6);
  const auto x = torch::randn({4, 32}), w = torch::randn({8, 32}), b = torch::randn({8});
  SECTION("float64 operands: exactly LibTorch's result") {
    const auto xd = x.to(torch::kDouble), wd = w.to(torch::kDouble), bd = b.to(torch::kDouble);
    CHECK(torch::equal(linear(xd, wd, bd), torch::nn::functional::linear(xd, wd, bd)));
  }
  SECTION("bf16 autocast: the product runs in bf16, as LibTorch's autocast linear does") {
    if (testing::require_bf16_products("linear under bf16 autocast")) {
      AutocastScope autocast("bf16", torch::kCPU);
      CHECK(linear(x, w, b).scalar_type() == torch::kBFloat16);
    }
  }
  SECTION("the blas mode: exactly LibTorch's result") {
    ModeScope blas(LinearMode::Blas);
    CHECK(torch::equal(linear(x, w, b), torch::nn::functional::linear(x, w, b)));
  }
}
