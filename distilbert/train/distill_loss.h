// The distiller's loss (Sanh et al., 2019; docs/DISTILLATION.md §2.2): soft-target KL at temperature T (scaled by
// T^2), MLM cross-entropy, MSE on logits, and cosine between last hidden states; plus our extension, cosine/MSE on
// chosen intermediate layer pairs (TinyBERT-style). Pure functions over tensors: no state, no model knowledge.
//
// Rows: the KL and MSE terms run over "selected" tokens: every non-pad token, or with restrict_ce_to_mask only the
// MLM targets. The caller gathers those rows *before* the vocabulary projection so that no (B, T, V) tensor is
// ever made for padding (the reference projects every position, then selects).
#pragma once

#include <utility>
#include <vector>

#include <torch/types.h>

namespace distilbert {

struct DistillLossWeights {
  double temperature = 2.0;
  double alpha_ce = 0.5;   // soft-target KL
  double alpha_mlm = 0.0;  // masked-LM cross-entropy
  double alpha_mse = 0.0;  // MSE between selected logits (sum / rows)
  double alpha_cos = 0.0;  // 1 - cos between last hidden states of non-pad tokens
  bool restrict_ce_to_mask = false;
  // Our extension: (student hidden_states index, teacher hidden_states index); index 0 = embeddings output.
  std::vector<std::pair<int64_t, int64_t>> layer_pairs;
  double alpha_layer_cos = 0.0;  // mean over pairs of mean(1 - cos) over non-pad tokens
  double alpha_layer_mse = 0.0;  // mean over pairs of mean squared error over non-pad tokens and dims
};

struct DistillLossInputs {
  // (N, V) rows = selected tokens; fp32, or bf16/fp16 under autocast. Undefined for the hidden-state terms alone
  // (alpha_ce, alpha_mlm and alpha_mse all 0), as with a teacher that has no MLM head.
  torch::Tensor student_logits;
  torch::Tensor teacher_logits;  // (N, V) same rows
  torch::Tensor mlm_labels;      // (N) labels of those rows, -100 where not an MLM target
  torch::Tensor attention_mask;  // (B, T) 1 = real token
  // (B, T, H) each, last = final layer; any float dtype: the terms convert the non-pad rows they use to fp32.
  const std::vector<torch::Tensor>* student_hidden = nullptr;
  const std::vector<torch::Tensor>* teacher_hidden = nullptr;
};

struct DistillLossParts {
  torch::Tensor total;  // weighted sum of the terms whose alpha > 0
  torch::Tensor ce, mlm, mse, cos, layer_cos, layer_mse;  // undefined when not computed
  int64_t rows = 0;     // selected tokens
  int64_t targets = 0;  // MLM targets
};

/// Row selector over the flattened (B*T) positions: non-pad tokens, or MLM targets when restrict_ce_to_mask.
torch::Tensor distill_rows(const torch::Tensor& attention_mask, const torch::Tensor& mlm_labels,
                           bool restrict_ce_to_mask);

/// KL(softmax(t/T) || softmax(s/T)) summed over rows and vocabulary, divided by rows, times T^2. Both in log
/// space (log_softmax of each); the teacher side carries no gradient.
torch::Tensor soft_target_kl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits, double T);

/// The same KL and, from the same logits, the MLM cross-entropy over the rows whose label is not -100 (their mean;
/// 0 when there are none), fused: one cache-sized pass per block of rows computes both values and their gradients,
/// which backward scales (see distill_loss.cpp). Equal to soft_target_kl and cross_entropy(ignore_index -100) up to
/// float rounding; the gradient w.r.t. the student logits comes back in their dtype.
std::pair<torch::Tensor, torch::Tensor> soft_target_kl_and_mlm(const torch::Tensor& student_logits,
                                                               const torch::Tensor& teacher_logits,
                                                               const torch::Tensor& mlm_labels, double T);
/// Mean over rows of 1 - cos(s_i, t_i), as torch's CosineEmbeddingLoss with target 1. s, t: (N, H).
torch::Tensor cosine_rows_loss(const torch::Tensor& s, const torch::Tensor& t);

/// Every term with alpha > 0 (and the KL always, as the reference), weighted into `total`. With compute_all, terms
/// whose alpha is 0 are computed for logging too (outside `total`).
DistillLossParts distillation_loss(const DistillLossInputs& in, const DistillLossWeights& w, bool compute_all = false);

}  // namespace distilbert
