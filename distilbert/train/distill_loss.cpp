// Distillation losses; see distill_loss.h.
#include "distilbert/train/distill_loss.h"

#include <cmath>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fault.h"
#include "distilbert/train/kl_rows.h"

namespace distilbert {

namespace F = torch::nn::functional;

namespace {
// (B, T, H) -> (N, H) rows of the non-pad tokens.
torch::Tensor non_pad_rows(const torch::Tensor& h, const torch::Tensor& pad_rows) {
  return h.reshape({-1, h.size(-1)}).index_select(0, pad_rows);
}

// Row-wise log-sum-exp of fp32 `x` (N, V) from p = softmax(x, 1) and mass = sum p per row (in double), without a
// log_softmax (LibTorch 1.13's CPU kernel runs 4x slower than softmax's): softmax gives a row's largest p as exactly
// 1 / S, S its fp32 sum of exp(x - max), and the row's sum of p as S_exact / S, so lse = max - log(max p) + log(mass).
// (N) in double.
torch::Tensor row_logsumexp(const torch::Tensor& x, const torch::Tensor& p, const torch::Tensor& mass) {
  return x.amax(1).to(torch::kDouble) - p.amax(1).to(torch::kDouble).log() + mass.log();
}

// Per-row sums of a contiguous fp32 (N, V) in double, (N): ATen's sum to a double result copies its whole input to
// double first (LibTorch 1.13), 5 ms per base step's cross-entropy rows. Four running totals break the add chain.
torch::Tensor row_sums_double(const torch::Tensor& p) {
  const int64_t N = p.size(0), V = p.size(1);
  auto out = torch::empty({N}, p.options().dtype(torch::kDouble));
  const float* x = p.data_ptr<float>();
  double* o = out.data_ptr<double>();
  at::parallel_for(0, N, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = x + r * V;
      double acc[4] = {0, 0, 0, 0};
      int64_t j = 0;
      for (; j + 4 <= V; j += 4)
        for (int k = 0; k < 4; ++k) acc[k] += row[j + k];
      for (; j < V; ++j) acc[0] += row[j];
      o[r] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  });
  return out;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// KL(softmax(t/T) || softmax(s/T)) * T^2 / rows and the masked-LM cross-entropy, with their gradient made in the
// forward pass. Per block of rows (about 4 MB of fp32 logits per side: 34 rows at V = 30,522) the KL kernel
// (train/kl_rows.h) makes each row's two softmaxes, its KL and d KL / d s = softmax(s/T) - softmax(t/T) in three
// passes over the row in cache. Autograd's version of the same math makes about ten full passes over the (rows, V)
// logits, and at V = 30,522 those passes, not the matrix products, are what a small model's step spends its time
// on (about 2x the step rate for a 2 x 64 student, measured by scripts/bench_distill.sh). The cross-entropy runs
// over the labelled rows alone (15% of them), gathered first. Backward only scales the saved gradients by the
// upstream ones.
struct FusedKlMlm : public torch::autograd::Function<FusedKlMlm> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& s_in, const torch::Tensor& t_in,
                               const torch::Tensor& labels, double T) {
    torch::NoGradGuard no_grad;
    // bf16/fp16 logits are read as they are and converted block by block, in cache: no fp32 copy of either side.
    const auto s = s_in.contiguous(), t = t_in.contiguous();
    const int64_t N = s.size(0), V = s.size(1);
    const int64_t block = std::max<int64_t>(1, (4 << 20) / (V * 4));  // rows per block: ~4 MB per side
    const int64_t blocks = (N + block - 1) / block;
    auto grad_kl = torch::empty({N, V}, s.options().dtype(torch::kFloat));
    std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
    const auto inv_T = static_cast<float>(1.0 / T);
    at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
      // Grad mode is per thread: the pool's other threads would record these operators on the student's logits.
      torch::NoGradGuard worker_no_grad;
      std::vector<float> work(static_cast<size_t>(V));
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t r0 = b * block, n = std::min(block, N - r0);
        const auto sb = s.narrow(0, r0, n).to(torch::kFloat).contiguous();
        const auto tb = t.narrow(0, r0, n).to(torch::kFloat).contiguous();
        partial[static_cast<size_t>(b)] = kl_rows(sb.data_ptr<float>(), tb.data_ptr<float>(),
                                                  grad_kl.data_ptr<float>() + r0 * V, work.data(), n, V, inv_T);
      }
    });
    double kl = 0.0;
    for (double v : partial) kl += v;
    kl *= T * T / static_cast<double>(N);

    const auto target_rows = labels.ne(-100).nonzero().squeeze(1);
    const int64_t M = target_rows.size(0);
    torch::Tensor ce = torch::zeros({}, grad_kl.options()), grad_ce;
    if (M > 0) {
      const auto tl = labels.index_select(0, target_rows).unsqueeze(1);
      const auto rows = s.index_select(0, target_rows).to(torch::kFloat);
      grad_ce = torch::softmax(rows, 1);  // softmax - one-hot, below
      // -log p[label] = lse - x[label].
      const auto lse = row_logsumexp(rows, grad_ce, row_sums_double(grad_ce));
      ce = ((lse - rows.gather(1, tl).squeeze(1).to(torch::kDouble)).sum() / static_cast<double>(M))
               .to(torch::kFloat);
      grad_ce.scatter_add_(1, tl, torch::full({M, 1}, -1.0, grad_ce.options()));
    }
    ctx->save_for_backward({grad_kl, grad_ce, target_rows});
    ctx->saved_data["kl_scale"] = T / static_cast<double>(N);  // d(KL*T^2/N)/ds = (T/N)(p_s - p_t)
    ctx->saved_data["ce_scale"] = M > 0 ? 1.0 / static_cast<double>(M) : 0.0;
    ctx->saved_data["dtype"] = static_cast<int64_t>(s_in.scalar_type());
    return {torch::full({}, kl, grad_kl.options()), ce};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& grad_kl = saved[0];
    const auto& grad_ce = saved[1];
    const auto& target_rows = saved[2];
    // The saved (rows, V) gradient is scaled in place and handed on: no second logits-sized buffer. A second
    // backward through the same loss (retain_graph) is refused by autograd's version check on saved tensors.
    torch::Tensor out = grad_kl;
    if (grads[0].defined()) out.mul_(grads[0] * ctx->saved_data["kl_scale"].toDouble());
    else out.zero_();
    if (grad_ce.defined() && grads[1].defined())
      out.index_add_(0, target_rows, grad_ce * (grads[1] * ctx->saved_data["ce_scale"].toDouble()));
    const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["dtype"].toInt());
    return {out.to(dtype), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> soft_target_kl_and_mlm(const torch::Tensor& student_logits,
                                                               const torch::Tensor& teacher_logits,
                                                               const torch::Tensor& mlm_labels, double T) {
  DISTILBERT_CHECK(student_logits.dim() == 2 && teacher_logits.sizes() == student_logits.sizes(),
                   "soft_target_kl_and_mlm: student logits ", student_logits.sizes(), " and teacher logits ",
                   teacher_logits.sizes(), " must both be (rows, V)");
  DISTILBERT_CHECK(student_logits.size(0) > 0, "soft_target_kl_and_mlm: no selected tokens");
  DISTILBERT_CHECK(mlm_labels.dim() == 1 && mlm_labels.size(0) == student_logits.size(0),
                   "soft_target_kl_and_mlm: labels ", mlm_labels.sizes(), " must be (", student_logits.size(0), ")");
  DISTILBERT_CHECK(T > 0, "soft_target_kl_and_mlm: temperature must be > 0, found ", T);
  auto r = FusedKlMlm::apply(student_logits, teacher_logits.detach(), mlm_labels, T);
  return {r[0], r[1]};
}

torch::Tensor distill_rows(const torch::Tensor& attention_mask, const torch::Tensor& mlm_labels,
                           bool restrict_ce_to_mask) {
  auto sel = restrict_ce_to_mask ? mlm_labels.reshape({-1}).ne(-100) : attention_mask.reshape({-1}).ne(0);
  return sel.nonzero().squeeze(1);
}

torch::Tensor soft_target_kl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits, double T) {
  const int64_t rows = student_logits.size(0);
  DISTILBERT_CHECK(rows > 0, "soft_target_kl: no selected tokens");
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

namespace {

// The terms on logits: soft-target KL, MLM cross-entropy and logit MSE, into out.
void logit_terms(const DistillLossInputs& in, const DistillLossWeights& w, bool compute_all, DistillLossParts& out) {
  const auto& s = in.student_logits;
  const auto& t = in.teacher_logits;
  DISTILBERT_CHECK(s.dim() == 2 && t.sizes() == s.sizes(), "distillation_loss: student logits ", s.sizes(),
                   " and teacher logits ", t.sizes(), " must both be (rows, V)");
  DISTILBERT_CHECK(w.temperature > 0, "distillation_loss: temperature must be > 0, found ", w.temperature);
  out.rows = s.size(0);
  const bool want_mlm = w.alpha_mlm > 0 || compute_all;
  torch::Tensor fused_mlm;
  std::tie(out.ce, fused_mlm) = soft_target_kl_and_mlm(s, t, in.mlm_labels, w.temperature);
  // Reliability tests (core/fault.h): DISTILBERT_FAULT=train.loss:nan@N poisons the N-th call's KL term.
  if (fault::point("train.loss")) out.ce = out.ce + std::numeric_limits<double>::quiet_NaN();
  out.total = w.alpha_ce * out.ce;
  if (want_mlm) {
    out.targets = in.mlm_labels.ne(-100).sum().item<int64_t>();
    // With no target in the batch the reference's mean is NaN; a zero keeps the step usable.
    out.mlm = fused_mlm;
    if (w.alpha_mlm > 0) out.total = out.total + w.alpha_mlm * out.mlm;
  }
  if (w.alpha_mse > 0 || compute_all) {
    out.mse =
        F::mse_loss(s.to(torch::kFloat), t.detach().to(torch::kFloat), F::MSELossFuncOptions().reduction(torch::kSum)) /
        static_cast<double>(out.rows);
    if (w.alpha_mse > 0) out.total = out.total + w.alpha_mse * out.mse;
  }
}

}  // namespace

DistillLossParts distillation_loss(const DistillLossInputs& in, const DistillLossWeights& w, bool compute_all) {
  DistillLossParts out;
  if (in.student_logits.defined()) {
    logit_terms(in, w, compute_all, out);
  } else {  // hidden-state terms alone (a teacher without an MLM head): no vocabulary projection at all
    DISTILBERT_CHECK(w.alpha_ce == 0 && w.alpha_mlm == 0 && w.alpha_mse == 0 && !compute_all,
                     "distillation_loss: no logits given, so alpha_ce, alpha_mlm and alpha_mse must be 0; found ",
                     w.alpha_ce, ", ", w.alpha_mlm, " and ", w.alpha_mse);
    out.rows = in.attention_mask.ne(0).sum().item<int64_t>();
    out.total = torch::zeros({}, in.attention_mask.options().dtype(torch::kFloat));
  }
  const bool need_hidden = w.alpha_cos > 0 || !w.layer_pairs.empty() || (compute_all && in.student_hidden);
  if (!need_hidden) return out;
  DISTILBERT_CHECK(in.student_hidden && in.teacher_hidden && !in.student_hidden->empty() && !in.teacher_hidden->empty(),
                   "distillation_loss: the cosine terms need the hidden states of both models");
  const auto pad_rows = in.attention_mask.reshape({-1}).ne(0).nonzero().squeeze(1);
  const auto& sh = *in.student_hidden;
  const auto& th = *in.teacher_hidden;
  // The non-pad rows of a layer's states in fp32, once per layer used: the terms compare in fp32 whatever the
  // autocast dtype, and converting the selected rows alone (not every layer's (B, T, H)) gives the same values and
  // gradients. A layer used by two terms is converted once, so their gradients still add up in fp32.
  std::map<size_t, torch::Tensor> s_rows, t_rows;
  auto fp32_rows = [&](std::map<size_t, torch::Tensor>& cache, const torch::Tensor& states, size_t i) {
    auto& r = cache[i];
    if (!r.defined()) r = non_pad_rows(states, pad_rows).to(torch::kFloat);
    return r;
  };
  auto student_rows = [&](size_t i) { return fp32_rows(s_rows, sh[i], i); };
  auto teacher_rows = [&](size_t j) { return fp32_rows(t_rows, th[j].detach(), j); };
  if (w.alpha_cos > 0 || compute_all) {
    DISTILBERT_CHECK(sh.back().size(-1) == th.back().size(-1),
                     "distillation_loss: cosine needs equal hidden sizes, student ", sh.back().size(-1), " vs teacher ",
                     th.back().size(-1));
    out.cos = cosine_rows_loss(student_rows(sh.size() - 1), teacher_rows(th.size() - 1));
    if (w.alpha_cos > 0) out.total = out.total + w.alpha_cos * out.cos;
  }
  if (!w.layer_pairs.empty()) {
    std::vector<torch::Tensor> cos, mse;
    for (const auto& [i, j] : w.layer_pairs) {
      DISTILBERT_CHECK(i >= 0 && i < static_cast<int64_t>(sh.size()), "layer pair (", i, ", ", j,
                       "): student has hidden states 0..", sh.size() - 1);
      DISTILBERT_CHECK(j >= 0 && j < static_cast<int64_t>(th.size()), "layer pair (", i, ", ", j,
                       "): teacher has hidden states 0..", th.size() - 1);
      const auto &a = student_rows(static_cast<size_t>(i)), &b = teacher_rows(static_cast<size_t>(j));
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
