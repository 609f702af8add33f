// Per-head attention products over the intra-op threads; see head_products.h.
#include "distilbert/model/head_products.h"

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <ATen/record_function.h>
#include <torch/torch.h>

#include "distilbert/core/autocast.h"
#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"

namespace distilbert {

namespace {

std::atomic<int> g_mode{-1};  // a HeadProductsMode, or -1: not decided yet (read DISTILBERT_HEAD_PRODUCTS)

HeadProductsMode mode() {
  if (g_mode < 0) {
    const char* env = std::getenv("DISTILBERT_HEAD_PRODUCTS");
    const std::string v = env ? env : "";
    DISTILBERT_CHECK(v.empty() || v == "auto" || v == "loop" || v == "matmul",
                     "DISTILBERT_HEAD_PRODUCTS must be auto, loop or matmul, got '", v, "'");
    g_mode = static_cast<int>(v == "matmul" ? HeadProductsMode::Matmul
                              : v == "loop" ? HeadProductsMode::Loop
                                            : HeadProductsMode::Auto);
  }
  return static_cast<HeadProductsMode>(g_mode.load());
}

// Auto: the loop where it was measured to pay, an OpenBLAS that runs a product on the calling thread alone inside an
// OpenMP loop (what scripts/setup.sh installs). MKL's batched product (the torch wheel) ran as fast as the loop; an
// OpenBLAS on its own pthreads pool does not see the loop, and every thread's product would queue for that one pool.
bool loop_wanted() {
  switch (mode()) {
    case HeadProductsMode::Matmul: return false;
    case HeadProductsMode::Loop: return true;
    case HeadProductsMode::Auto: return openblas_info().threading == "OpenMP";
  }
  return false;
}

// out[x, y] = a[x, y] @ b[x, y] for every (x, y) of the leading (B, h), one whole product per loop item. The pool's
// threads take the caller's thread-local state (grad mode, inference mode, autocast): grad mode is per thread, and on
// in a fresh pool thread (docs/PRECISION.md, "Threads"). The operator profiler sees the whole loop as one
// "distilbert::head_products" event on the caller's thread, not its products: their times, summed over the threads,
// would count the loop's wall time twice on 2 threads (scripts/bench_distill.sh --profile adds that event to the
// products).
torch::Tensor products(const torch::Tensor& a, const torch::Tensor& b) {
  RECORD_FUNCTION("distilbert::head_products", std::vector<c10::IValue>());
  auto out = torch::empty({a.size(0), a.size(1), a.size(2), b.size(3)}, a.options());
  const int64_t heads = a.size(1), n = a.size(0) * heads;
  const at::ThreadLocalState caller;
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    at::ThreadLocalStateGuard state(caller);
    at::DisableRecordFunctionGuard unrecorded;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t x = i / heads, y = i % heads;
      auto o = out.select(0, x).select(0, y);
      at::mm_out(o, a.select(0, x).select(0, y), b.select(0, x).select(0, y));
    }
  });
  return out;
}

struct HeadProducts : torch::autograd::Function<HeadProducts> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return products(a, b);
  }

  // d a = g b^T and d b = a^T g, product by product, as matmul's backward.
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& a = saved[0];
    const auto& b = saved[1];
    const auto& g = grads[0];
    torch::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) ga = products(g, b.transpose(2, 3));
    if (ctx->needs_input_grad(1)) gb = products(a.transpose(2, 3), g);
    return {ga, gb};
  }
};

bool threaded_path_applies(const torch::Tensor& a, const torch::Tensor& b) {
#ifdef _OPENMP
  if (!loop_wanted() || at::in_parallel_region()) return false;
  if (!a.device().is_cpu() || !b.device().is_cpu() || a.dim() != 4 || b.dim() != 4) return false;
  if (a.size(0) != b.size(0) || a.size(1) != b.size(1) || a.size(3) != b.size(2)) return false;
  // fp32 and fp64 only: bf16 products go to oneDNN, whose per-call overhead made 96 separate calls 1.2x slower than
  // one batched call (bench/model/bench_head_products.cpp).
  const auto dt = a.scalar_type();
  if (b.scalar_type() != dt || (dt != torch::kFloat && dt != torch::kDouble)) return false;
  const int64_t threads = at::get_num_threads();
  return threads > 1 && a.size(0) * a.size(1) >= 2 * threads;
#else
  (void)a, (void)b;
  return false;  // at::parallel_for would run serially: nothing to gain (CMakeLists.txt, DISTILBERT_OPENMP)
#endif
}

}  // namespace

void set_head_products(HeadProductsMode m) { g_mode = static_cast<int>(m); }

torch::Tensor head_products(const torch::Tensor& a, const torch::Tensor& b) {
  // Under CPU autocast matmul casts both operands to its dtype (bf16), which the threaded path leaves to matmul.
  if (!a.defined() || !b.defined() || autocast_enabled(c10::kCPU) || !threaded_path_applies(a, b))
    return torch::matmul(a, b);
  return HeadProducts::apply(a, b);
}

}  // namespace distilbert
