// Attention's per-head matrix products, a @ b for a (B, h, m, k) and b (B, h, k, n), with the B*h products spread
// over the intra-op threads, one whole product per thread, forward and backward.
//
// torch::matmul runs them one after another (ATen's bmm loops over the batch), each split over every thread by the
// BLAS. A base-size attention product is 128 x 64 x 128: 2 MFLOP, too small to split well. On 2 vCPUs OpenBLAS ran
// them at about 40 GFLOP/s against 190 for a 1024^3 product, about 8% of a distillation step
// (docs/PRECISION.md, "Attention products"). Inside an OpenMP loop an OpenMP OpenBLAS runs each product on the calling
// thread alone.
#pragma once

#include <torch/types.h>

namespace distilbert {

/// Where the loop runs. Auto (the default): where the BLAS is an OpenMP OpenBLAS, as scripts/setup.sh installs;
/// MKL's batched product (the torch wheel) ran as fast as the loop. Loop: wherever it can (tests, benchmarks).
/// Matmul: never. DISTILBERT_HEAD_PRODUCTS=auto|loop|matmul sets it for a process.
enum class HeadProductsMode { Auto = 0, Loop = 1, Matmul = 2 };
void set_head_products(HeadProductsMode mode);

/// torch::matmul(a, b) for the attention shapes above. The loop applies, where the mode wants it, to CPU tensors of
/// one dtype, fp32 or fp64, 4 dimensions, same (B, h), at least two products per thread, in code built with OpenMP;
/// everything else (CUDA, 1 thread, bf16, CPU autocast, other shapes) is torch::matmul itself.
torch::Tensor head_products(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace distilbert
