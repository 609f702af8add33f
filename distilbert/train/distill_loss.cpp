// Distillation losses; see distill_loss.h.
#include "distilbert/train/distill_loss.h"

#include <limits>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fault.h"

namespace distilbert {

namespace F = torch::nn::functional;

namespace {
// (B, T, H) -> (N, H) rows of the non-pad tokens.
torch::Tensor non_pad_rows(const torch::Tensor& h, const torch::Tensor& pad_rows) {
  return h.reshape({-1, h.size(-1)}).index_select(0, pad_rows);
}
}  // namespace

torch::Tensor distill_rows(const torch::Tensor& attention_mask, const torch::Tensor& mlm_labels,
                           bool restrict_ce_to_mask) {
  auto sel = restrict_ce_to_mask ? mlm_labels.reshape({-1}).ne(-100) : attention_mask.reshape({-1}).ne(0);
  return sel.nonzero().squeeze(1);
}

torch::Tensor soft_target_kl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits, double T) {
  const int64_t rows = student_logits.size(0);
  check(rows > 0, "soft_target_kl: no selected tokens");
  auto ls = torch::log_softmax(student_logits / T, -1);
  auto lt = torch::log_softmax(teacher_logits.detach() / T, -1);
  // sum p_t (log p_t - log p_s) with p_t = exp(lt): kl_div(input=ls, target=lt, log_target=true).
  auto kl = torch::kl_div(ls, lt, at::Reduction::Sum, /*log_target=*/true);
  // T^2 keeps the gradient scale of the soft targets comparable to the hard-label loss (Hinton et al., 2015).
  return kl / static_cast<double>(rows) * (T * T);
}

torch::Tensor cosine_rows_loss(const torch::Tensor& s, const torch::Tensor& t) {
  auto target = torch::ones({s.size(0)}, s.options());
  return F::cosine_embedding_loss(s, t, target, F::CosineEmbeddingLossFuncOptions().reduction(torch::kMean));
}

DistillLossParts distillation_loss(const DistillLossInputs& in, const DistillLossWeights& w, bool compute_all) {
  DistillLossParts out;
  const auto& s = in.student_logits;
  const auto& t = in.teacher_logits;
  check(s.dim() == 2 && t.sizes() == s.sizes(), "distillation_loss: student logits ", s.sizes(),
        " and teacher logits ", t.sizes(), " must both be (rows, V)");
  check(w.temperature > 0, "distillation_loss: temperature must be > 0, found ", w.temperature);
  out.rows = s.size(0);
  out.ce = soft_target_kl(s, t, w.temperature);
  // Reliability tests (core/fault.h): DISTILBERT_FAULT=train.loss:nan@N poisons the N-th call's KL term.
  if (fault::point("train.loss")) out.ce = out.ce + std::numeric_limits<double>::quiet_NaN();
  out.total = w.alpha_ce * out.ce;
  if (w.alpha_mlm > 0 || compute_all) {
    out.targets = in.mlm_labels.ne(-100).sum().item<int64_t>();
    // With no target in the batch the reference's mean is NaN; a zero keeps the step usable.
    out.mlm = out.targets > 0 ? F::cross_entropy(s, in.mlm_labels, F::CrossEntropyFuncOptions().ignore_index(-100))
                              : torch::zeros({}, s.options());
    if (w.alpha_mlm > 0) out.total = out.total + w.alpha_mlm * out.mlm;
  }
  if (w.alpha_mse > 0 || compute_all) {
    out.mse = F::mse_loss(s, t.detach(), F::MSELossFuncOptions().reduction(torch::kSum)) / static_cast<double>(out.rows);
    if (w.alpha_mse > 0) out.total = out.total + w.alpha_mse * out.mse;
  }
  const bool need_hidden = w.alpha_cos > 0 || !w.layer_pairs.empty() || (compute_all && in.student_hidden);
  if (!need_hidden) return out;
  check(in.student_hidden && in.teacher_hidden && !in.student_hidden->empty() && !in.teacher_hidden->empty(),
        "distillation_loss: the cosine terms need the hidden states of both models");
  const auto pad_rows = in.attention_mask.reshape({-1}).ne(0).nonzero().squeeze(1);
  const auto& sh = *in.student_hidden;
  const auto& th = *in.teacher_hidden;
  if (w.alpha_cos > 0 || compute_all) {
    check(sh.back().size(-1) == th.back().size(-1), "distillation_loss: cosine needs equal hidden sizes, student ",
          sh.back().size(-1), " vs teacher ", th.back().size(-1));
    out.cos = cosine_rows_loss(non_pad_rows(sh.back(), pad_rows), non_pad_rows(th.back().detach(), pad_rows));
    if (w.alpha_cos > 0) out.total = out.total + w.alpha_cos * out.cos;
  }
  if (!w.layer_pairs.empty()) {
    std::vector<torch::Tensor> cos, mse;
    for (const auto& [i, j] : w.layer_pairs) {
      check(i >= 0 && i < static_cast<int64_t>(sh.size()), "layer pair (", i, ", ", j, "): student has hidden states 0..",
            sh.size() - 1);
      check(j >= 0 && j < static_cast<int64_t>(th.size()), "layer pair (", i, ", ", j, "): teacher has hidden states 0..",
            th.size() - 1);
      auto a = non_pad_rows(sh[i], pad_rows), b = non_pad_rows(th[j].detach(), pad_rows);
      if (w.alpha_layer_cos > 0 || compute_all) cos.push_back(cosine_rows_loss(a, b));
      if (w.alpha_layer_mse > 0 || compute_all) mse.push_back(F::mse_loss(a, b));
    }
    if (!cos.empty()) {
      out.layer_cos = torch::stack(cos).mean();
      if (w.alpha_layer_cos > 0) out.total = out.total + w.alpha_layer_cos * out.layer_cos;
    }
    if (!mse.empty()) {
      out.layer_mse = torch::stack(mse).mean();
      if (w.alpha_layer_mse > 0) out.total = out.total + w.alpha_layer_mse * out.layer_mse;
    }
  }
  return out;
}

}  // namespace distilbert
