// Head losses; see head_losses.h.
#include "distilbert/model/head_losses.h"

#include <torch/torch.h>

#include "distilbert/core/error.h"

namespace distilbert {

namespace F = torch::nn::functional;

torch::Tensor sequence_classification_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                                           const ModelConfig& config) {
  std::string problem = config.problem_type;
  if (problem.empty()) {
    if (config.num_labels == 1)
      problem = "regression";
    else if (labels.scalar_type() == torch::kLong || labels.scalar_type() == torch::kInt)
      problem = "single_label_classification";
    else
      problem = "multi_label_classification";
  }
  if (problem == "regression") {
    auto target = labels.to(logits.scalar_type());
    if (config.num_labels == 1) return F::mse_loss(logits.squeeze(), target.squeeze());
    return F::mse_loss(logits, target);
  }
  if (problem == "single_label_classification") {
    DISTILBERT_CHECK(labels.scalar_type() == torch::kLong || labels.scalar_type() == torch::kInt,
                     "single_label_classification needs integer labels, found ", c10::toString(labels.scalar_type()));
    return F::cross_entropy(logits.view({-1, config.num_labels}), labels.view({-1}).to(torch::kLong));
  }
  DISTILBERT_CHECK(labels.sizes() == logits.sizes(), "multi_label_classification needs labels of shape ",
                   logits.sizes(), " (one 0/1 column per label), found ", labels.sizes());
  return F::binary_cross_entropy_with_logits(logits, labels.to(logits.scalar_type()));
}

torch::Tensor token_classification_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  const int64_t n = logits.size(-1);
  return F::cross_entropy(logits.reshape({-1, n}), labels.reshape({-1}).to(torch::kLong),
                          F::CrossEntropyFuncOptions().ignore_index(-100));
}

torch::Tensor question_answering_loss(const torch::Tensor& start_logits, const torch::Tensor& end_logits,
                                      torch::Tensor start_positions, torch::Tensor end_positions) {
  if (start_positions.dim() > 1) start_positions = start_positions.squeeze(-1);
  if (end_positions.dim() > 1) end_positions = end_positions.squeeze(-1);
  // Positions outside the window (answer truncated away) are clamped to T, which the loss ignores.
  const int64_t ignored = start_logits.size(1);
  start_positions = start_positions.to(torch::kLong).clamp(0, ignored);
  end_positions = end_positions.to(torch::kLong).clamp(0, ignored);
  auto opts = F::CrossEntropyFuncOptions().ignore_index(ignored);
  auto start_loss = F::cross_entropy(start_logits, start_positions, opts);
  auto end_loss = F::cross_entropy(end_logits, end_positions, opts);
  return (start_loss + end_loss) / 2;
}

}  // namespace distilbert
