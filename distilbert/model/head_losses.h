// The losses HF attaches to each head (docs/MODELS.md §2.3), shared by the BERT and DistilBERT heads.
#pragma once

#include <torch/types.h>

#include "distilbert/config/model_config.h"

namespace distilbert {

/// problem_type from config, else regression (num_labels 1), single-label (integer labels) or multi-label.
/// regression: MSE(logits.squeeze(), labels.squeeze()) (or MSE(logits, labels) when num_labels > 1);
/// single-label: CE(logits (B, N), labels (B)); multi-label: BCE-with-logits(logits, labels).
torch::Tensor sequence_classification_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                                           const ModelConfig& config);

/// Mean CE over positions whose label is not -100. logits (.., N), labels (..).
torch::Tensor token_classification_loss(const torch::Tensor& logits, const torch::Tensor& labels);

/// (CE(start) + CE(end)) / 2, positions clamped to [0, T] and T ignored. start/end logits (B, T), positions (B[,1]).
torch::Tensor question_answering_loss(const torch::Tensor& start_logits, const torch::Tensor& end_logits,
                                      torch::Tensor start_positions, torch::Tensor end_positions);

}  // namespace distilbert
