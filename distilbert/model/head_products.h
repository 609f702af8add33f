// Attention's per-head matrix products, a @ b for a (B, h, m, k) and b (B, h, k, n), with the B*h products spread
// over the intra-op threads, one whole product per thread, forward and backward.
//
// torch::matmul runs them one after another (ATen's bmm loops over the batch), each split over every thread by the
// BLAS. A base-size attention product is 128 x 64 x 128: 2 MFLOP, too small to split well. On 2 vCPUs OpenBLAS ran
// them at about 40 GFLOP/s against 190 for a 1024^3 product, about 8% of a distillation step
// (docs/PRECISION.md, "Attention products"). Inside an OpenMP loop the BLAS (OpenMP OpenBLAS, MKL, oneDNN) runs each
// product on the calling thread alone.
#pragma once

#include <torch/types.h>

namespace distilbert {

/// torch::matmul(a, b) for the attention shapes above. The threaded path applies to CPU tensors of one dtype, fp32
/// or fp64, 4 dimensions, same (B, h), at least two products per thread, and code built with OpenMP; everything else
/// (CUDA, 1 thread, bf16, CPU autocast, other shapes) is torch::matmul itself. set_head_products(false) or
/// DISTILBERT_HEAD_PRODUCTS=matmul turn it off (benchmarks and tests compare both).
torch::Tensor head_products(const torch::Tensor& a, const torch::Tensor& b);
void set_head_products(bool enabled);

}  // namespace distilbert
