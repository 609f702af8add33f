// Student initialisation from a BERT teacher (scripts/extract_distilbert.py of the original code,
// docs/DISTILLATION.md §4): word and position embeddings and the embedding LayerNorm (token types dropped), the
// chosen teacher layers mapped onto the student's layers in order, the MLM decoder bias (the decoder weight is tied
// to the embeddings), and with vocab_transform also the MLM transform and its LayerNorm.
#pragma once

#include <string>
#include <vector>

#include "distilbert/config/model_config.h"
#include "distilbert/io/model_folder.h"

namespace distilbert {

struct StudentInit {
  NamedTensors weights;                 // DistilBertForMaskedLM keys
  std::vector<std::string> not_copied;  // student keys left to their fresh initialisation
};

/// `teacher` holds a BertForMaskedLM state dict (HF keys; tied decoder keys optional). Throws an Error naming the
/// mismatch when the student is wider or narrower than the teacher, a layer index is out of range, or the layer
/// list does not match the student's n_layers.
StudentInit init_student_from_teacher(const NamedTensors& teacher, const ModelConfig& teacher_config,
                                      const ModelConfig& student_config, const std::vector<int64_t>& layers,
                                      bool vocab_transform);

}  // namespace distilbert
