// Linear layers with fp32 CPU products in oneDNN or LibTorch's BLAS; see linear.h.
#include "distilbert/model/linear.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

#include <torch/torch.h>
#include <torch/version.h>
#if TORCH_VERSION_MAJOR >= 2
#include <ATen/core/dispatch/Dispatcher.h>
#endif

#include "distilbert/core/autocast.h"
#include "distilbert/core/cpu_caps.h"
#include "distilbert/core/error.h"

namespace distilbert {

namespace {

std::atomic<int> g_linear_mode{-1};  // a LinearMode, or -1: not decided yet (read DISTILBERT_LINEAR)

LinearMode linear_mode() {
  if (g_linear_mode < 0) {
    const char* env = std::getenv("DISTILBERT_LINEAR");
    const std::string v = env ? env : "";
    DISTILBERT_CHECK(v.empty() || v == "auto" || v == "blas" || v == "onednn",
                     "DISTILBERT_LINEAR must be auto, blas or onednn, got '", v, "'");
    g_linear_mode =
        static_cast<int>(v == "blas" ? LinearMode::Blas : v == "onednn" ? LinearMode::OneDnn : LinearMode::Auto);
  }
  return static_cast<LinearMode>(g_linear_mode.load());
}

bool mkl_on_other_vendor() { return at::hasMKL() && cpu_info().vendor != "GenuineIntel"; }

// LibTorch 2.x registers oneDNN's linear as an operator without a C++ function in its headers: found once through
// the dispatcher, absent on 1.13 and in a LibTorch built without oneDNN.
#if TORCH_VERSION_MAJOR >= 2
const std::optional<c10::OperatorHandle>& onednn_linear_op() {
  static const auto op = c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""});
  return op;
}
#endif

// oneDNN's x W^T + b. x (rows, in) and w (out, in) may be strided views; b may be undefined. Returns a contiguous
// (rows, out) tensor. Only where onednn_linear_available().
torch::Tensor onednn_linear_product(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
#if TORCH_VERSION_MAJOR >= 2
  torch::jit::Stack stack{x, w, b.defined() ? c10::IValue(b) : c10::IValue(), c10::IValue(std::string("none")),
                          c10::IValue(c10::List<std::optional<c10::Scalar>>()), c10::IValue()};
  onednn_linear_op()->callBoxed(&stack);
  return stack.at(0).toTensor();
#else
  (void)x, (void)w, (void)b;
  fail("oneDNN's linear needs LibTorch 2.x; this is ", TORCH_VERSION);
#endif
}

bool onednn_applies(const torch::Tensor& x, const torch::Tensor& w) {
  return onednn_linears() && x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
         w.scalar_type() == torch::kFloat && !autocast_enabled(c10::DeviceType::CPU);
}

// linear_rows: x W^T + b with the backward written out (see linear.h); each product in oneDNN or the BLAS.
struct RowsLinear : torch::autograd::Function<RowsLinear> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    ctx->save_for_backward({x, w});
    return onednn_applies(x, w) ? onednn_linear_product(x, w, b) : torch::addmm(b, x, w.t());
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto g = grads[0].contiguous();
    torch::Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0)) gx = linear_input_grad(g, saved[1]);
    if (ctx->needs_input_grad(1)) gw = g.t().mm(saved[0]);
    if (ctx->needs_input_grad(2)) gb = g.sum(0);
    return {gx, gw, gb};
  }
};

}  // namespace

void set_linear_mode(LinearMode m) { g_linear_mode = static_cast<int>(m); }

bool onednn_linear_available() {
#if TORCH_VERSION_MAJOR >= 2
  return onednn_linear_op().has_value();
#else
  return false;
#endif
}

bool onednn_linears() {
  switch (linear_mode()) {
    case LinearMode::Blas: return false;
    case LinearMode::OneDnn: return onednn_linear_available();
    case LinearMode::Auto: return onednn_linear_available() && mkl_on_other_vendor();
  }
  return false;
}

std::string linear_backend_summary() {
  if (!onednn_linear_available()) return "LibTorch's BLAS (this LibTorch has no oneDNN linear)";
  switch (linear_mode()) {
    case LinearMode::OneDnn: return "oneDNN (DISTILBERT_LINEAR=onednn)";
    case LinearMode::Blas: return "LibTorch's BLAS (DISTILBERT_LINEAR=blas)";
    case LinearMode::Auto:
      return mkl_on_other_vendor() ? "oneDNN (LibTorch's MKL takes a slower path on this " + cpu_info().vendor + " CPU)"
                                   : "LibTorch's BLAS";
  }
  return "LibTorch's BLAS";
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  if (!onednn_applies(x, w)) return torch::nn::functional::linear(x, w, b);
  auto out_shape = x.sizes().vec();
  out_shape.back() = w.size(0);
  // An autograd function's inputs must be defined tensors: no bias is a zero one, which needs no gradient.
  const auto bias = b.defined() ? b : torch::zeros({w.size(0)}, w.options());
  return linear_rows(x.reshape({-1, x.size(-1)}), w, bias).view(out_shape);
}

torch::Tensor linear_rows(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return RowsLinear::apply(x, w, b);
}

torch::Tensor linear(const torch::nn::Linear& m, const torch::Tensor& x) { return linear(x, m->weight, m->bias); }

torch::Tensor linear_input_grad(const torch::Tensor& g, const torch::Tensor& w) {
  return onednn_applies(g, w) ? onednn_linear_product(g, w.t(), torch::Tensor()) : g.mm(w);
}

double measure_onednn_linear_gflops(int64_t n, int repeats, double min_seconds) {
  if (!onednn_linear_available()) return 0;
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const auto x = torch::randn({n, n}), w = torch::randn({n, n});
  const double seconds = best_seconds([&] { onednn_linear_product(x, w, torch::Tensor()); }, repeats, min_seconds);
  return 2.0 * static_cast<double>(n * n * n) / seconds / 1e9;
}

}  // namespace distilbert
