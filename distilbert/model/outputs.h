// Named inputs and outputs of every model in this project (never a vector whose meaning depends on the index).
// Letters: B batch, C choices, T sequence length, H hidden size, V vocabulary, N labels.
#pragma once

#include <vector>

#include <torch/types.h>

namespace distilbert {

struct ModelInputs {
  torch::Tensor input_ids;       // (B, T) int64; multiple choice: (B, C, T)
  torch::Tensor attention_mask;  // same shape as input_ids, 1 = attend, 0 = padding; undefined: all ones
  torch::Tensor token_type_ids;  // BERT only, same shape; undefined: zeros
  torch::Tensor position_ids;    // same shape, or (1, T) shared by the rows; int64 in [0, max_position_embeddings);
                                 // undefined: 0..T-1 (docs/MODELS.md, "Positions")
  torch::Tensor labels;          // MLM/token-cls (B, T) int64 with -100 ignored; seq-cls (B) int64 or (B[, N]) float
  torch::Tensor start_positions; // QA (B) int64
  torch::Tensor end_positions;   // QA (B) int64
  bool output_hidden_states = false;
  bool output_attentions = false;
};

// The inputs without the training targets (labels, start/end positions): what a frozen teacher reads, so that it
// computes no loss of its own.
inline ModelInputs without_targets(ModelInputs in) {
  in.labels = in.start_positions = in.end_positions = torch::Tensor();
  return in;
}

struct EncoderOutput {
  torch::Tensor last_hidden_state;           // (B, T, H)
  std::vector<torch::Tensor> hidden_states;  // embeddings output + one per layer (when requested)
  std::vector<torch::Tensor> attentions;     // (B, heads, T, T) post-softmax, one per layer (when requested)
};

struct ModelOutput {
  torch::Tensor loss;                        // 0-dim, when labels were given
  torch::Tensor logits;                      // MLM (B, T, V); seq-cls (B, N); token-cls (B, T, N); MC (B, C)
  torch::Tensor start_logits, end_logits;    // QA (B, T)
  torch::Tensor last_hidden_state;           // (B, T, H)
  torch::Tensor pooler_output;               // BERT with pooler: (B, H)
  std::vector<torch::Tensor> hidden_states;  // as EncoderOutput
  std::vector<torch::Tensor> attentions;
};

}  // namespace distilbert
