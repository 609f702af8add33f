// Building blocks shared by BERT and DistilBERT: activations by HF name, HF weight initialisation, the attention
// mask as an additive bias, and the DistilBERT sinusoidal position table.
#pragma once

#include <string>

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

namespace distilbert {

/// Apply the activation HF calls `name` ("gelu" is the exact erf form; "gelu_new"/"gelu_pytorch_tanh" the tanh one).
torch::Tensor apply_activation(const torch::Tensor& x, const std::string& name);

/// HF _init_weights for every Linear, Embedding and LayerNorm below `module`: Linear/Embedding weight ~ N(0, std),
/// bias 0, Embedding row `padding_idx` zeroed; LayerNorm weight 1, bias 0. Tensors with requires_grad false
/// (the frozen sinusoidal table) are left alone, as in the 2019 code the distiller used (docs/MODELS.md §2.4).
void init_hf_weights(torch::nn::Module& module, double std);

/// (B, T) mask with 1 = attend -> (B, 1, 1, T) additive bias: 0 where attended, finfo(dtype).min where padded.
/// Adding finfo.min gives the same softmax as HF's masked_fill with finfo.min for every row with a real key.
torch::Tensor attention_bias(const torch::Tensor& attention_mask, torch::ScalarType dtype);

/// Attention as one at::scaled_dot_product_attention call (LibTorch 2.x; its CPU kernel never keeps the (B, h, T, T)
/// scores) where that is exact: no attention weights asked for and no attention dropout to apply (eval, or p = 0).
/// Our dropout draws its own thread-count-independent masks (dropout.cpp), which SDPA's would not reproduce, so a
/// training step with attention dropout keeps the explicit product. Always false on LibTorch 1.13, and when
/// DISTILBERT_ATTENTION=explicit is set or set_fused_attention(false) was called (benchmarks and tests compare both).
bool fused_attention_applies(const torch::nn::Dropout& dropout, const torch::Tensor* weights_out);
void set_fused_attention(bool enabled);
/// softmax(q k^T / sqrt(d) + bias) v for q, k, v (B, h, T, d) and the additive (B, 1, 1, T) bias of attention_bias
/// (or undefined); (B, h, T, d). Only where fused_attention_applies.
torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& bias);

/// LayerNorm of a bf16/fp16 activation (autocast) with fp32 weights. LibTorch 2.x has a mixed-dtype kernel: it
/// normalises in fp32 and returns x's dtype, as HF's models do under torch.autocast. LibTorch 1.13's CPU layer_norm
/// rejects the mix (it is on no autocast list), so there x is first cast to the weights' dtype and the output stays
/// fp32 (docs/PRECISION.md).
torch::Tensor layer_norm(torch::nn::LayerNorm& ln, const torch::Tensor& x);

/// Dropout with the semantics of torch::dropout (zero with probability p, survivors scaled by 1 / (1 - p); identity
/// when not training or p == 0), computed for CPU tensors by a multi-threaded counter-based kernel (dropout.cpp) whose
/// mask does not depend on the thread count and is kept as one byte per element for backward. Other devices use
/// torch::dropout. The seed comes from LibTorch's default CPU generator, so torch::manual_seed makes it reproducible.
torch::Tensor dropout_cpu(const torch::Tensor& x, double p, bool training);

/// dropout_cpu with the probability and training flag of the module `d` (the modules keep their nn::Dropout so that
/// module trees and printouts look as LibTorch's).
torch::Tensor apply_dropout(const torch::nn::Dropout& d, const torch::Tensor& x);

/// The position embeddings added to a (B, T) batch's word embeddings (docs/MODELS.md, "Positions"): rows 0..T-1 of
/// `table` when position_ids is undefined, else table[position_ids] for integer position_ids of shape (B, T) or
/// (1, T) with values in [0, table rows). Returns (1, T, H) or (B, T, H). Errors start with `model` and name
/// position_ids or the sequence length, the expected shape or range and what was found.
torch::Tensor position_embeddings_of(const torch::nn::Embedding& table, const torch::Tensor& position_ids, int64_t B,
                                     int64_t T, const char* model);

/// docs/MODELS.md §2.4: out[p, 2i] = sin(p / 10000^(2i/dim)), out[p, 2i+1] = cos(p / 10000^(2i/dim)); computed in
/// float64.
torch::Tensor sinusoidal_table(int64_t n_positions, int64_t dim);

}  // namespace distilbert
