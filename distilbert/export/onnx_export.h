// ONNX export of every BERT/DistilBERT model and head: an onnx::ModelProto built node by node with the ONNX library,
// weights as initializers, with the inputs and outputs HF's optimum exports use:
//   inputs  input_ids, attention_mask (+ token_type_ids for BERT), int64, dims (batch_size, sequence_length);
//           multiple choice: (batch_size, num_choices, sequence_length)
//   outputs logits (MLM, seq-cls, token-cls, multiple choice), last_hidden_state (base models),
//           start_logits + end_logits (QA)
// Numerics are those of our LibTorch forward (docs/MODELS.md §2-§3): exact erf GELU, padded keys get the compute
// dtype's lowest value added to the scores, DistilBERT divides q by sqrt(head_dim) before q k^T, BERT divides the
// scores.
// Opsets 14-17: LayerNormalization at 17, decomposed (ReduceMean/Sub/Mul/Sqrt/Div) below.
#pragma once

#include <string>

#include <onnx/onnx_pb.h>

#include "distilbert/model/pretrained.h"

namespace distilbert::onnx_export {

constexpr int kMinOpset = 14;
constexpr int kMaxOpset = 17;  // the newest opset libonnx 1.12 knows
constexpr int kDefaultOpset = 17;

struct OnnxExportOptions {
  int opset = kDefaultOpset;
  /// Compute dtype: false = float32; true = float16 weights and arithmetic (LayerNorm statistics in float32),
  /// with float32 outputs (keep_io_types, as transformers.js' fp16 conversion).
  bool fp16 = false;
};

/// The model's graph. Throws distilbert::Error for unsupported options (opset, activation) naming them.
onnx::ModelProto build_onnx_model(const PretrainedModel& model, const OnnxExportOptions& options = {});

/// Names of the graph inputs/outputs our export gives a model (in order).
std::vector<std::string> onnx_input_names(const PretrainedModel& model);
std::vector<std::string> onnx_output_names(const PretrainedModel& model);

}  // namespace distilbert::onnx_export
