// The models' linear layers, y = x W^T + b, with the fp32 CPU products sent to the faster of two libraries.
//
// The torch wheel (LibTorch 2.x) runs fp32 matrix products in MKL. On a CPU not made by Intel MKL takes a slower
// path: on an AMD EPYC (Zen 4) it ran a base step's shapes at 115-190 GFLOP/s where oneDNN, inside the same
// LibTorch, ran them at 170-220, and at batch 1 to 8 rows 1.1-3x as fast (docs/PRECISION.md, "Linear products").
// oneDNN's linear (the `mkldnn::_linear_pointwise` operator LibTorch 2.x registers) then computes the forward
// product and the input's gradient g W; the weight's gradient g^T x stays a BLAS product, where oneDNN, given the
// transposed operands, was slower. LibTorch 1.13 has no such operator: there every linear is LibTorch's.
#pragma once

#include <string>

#include <torch/nn/modules/linear.h>
#include <torch/types.h>

namespace distilbert {

/// Which library runs fp32 CPU linears. Auto (the default): oneDNN where it is available and LibTorch's BLAS is MKL
/// on a CPU whose vendor is not Intel, else the BLAS. Blas: always LibTorch's own linear. OneDnn: oneDNN wherever it
/// is available (tests, benchmarks). DISTILBERT_LINEAR=auto|blas|onednn sets it for a process.
enum class LinearMode { Auto = 0, Blas = 1, OneDnn = 2 };
void set_linear_mode(LinearMode mode);

/// Whether this LibTorch registers oneDNN's linear operator (2.x built with oneDNN).
bool onednn_linear_available();

/// Whether the fp32 CPU linears of this process run in oneDNN (the mode, resolved for this CPU and LibTorch).
bool onednn_linears();

/// One line for logs and `info --cpu`: which library runs the fp32 linears and why.
std::string linear_backend_summary();

/// x W^T + b for x (..., in), w (out, in), b (out) or undefined: oneDNN's product where onednn_linears() and the
/// operands are fp32 CPU tensors outside CPU autocast, with the backward above; torch::nn::functional::linear
/// otherwise. The same values up to the products' rounding.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);
torch::Tensor linear(const torch::nn::Linear& m, const torch::Tensor& x);

/// x W^T + b for rows x (N, in) and a defined bias, as an autograd function with the backward written out, each
/// product in oneDNN or the BLAS as linear() chooses: the input's gradient g W, the weight's g^T x, the bias's sum of
/// g. The weight's gradient comes back as a tensor of its own (LibTorch's linear returns a transpose of a
/// transpose), which autograd may then add a sparse lookup gradient into in place (DistilBERT's tied vocabulary
/// projection, docs/PRECISION.md "The tied word embeddings' gradient"). linear() uses it where oneDNN runs.
torch::Tensor linear_rows(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);

/// g W for g (rows, out) and w (out, in): a linear's input gradient, in oneDNN where linear() would use it.
torch::Tensor linear_input_grad(const torch::Tensor& g, const torch::Tensor& w);

/// GFLOP/s of oneDNN's n x n x n fp32 linear on the current threads, best of at least `repeats` products and
/// `min_seconds` of them; 0 where onednn_linear_available() is false.
double measure_onednn_linear_gflops(int64_t n, int repeats = 3, double min_seconds = 0.01);

}  // namespace distilbert
