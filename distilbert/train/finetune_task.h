// What the fine-tuning loop (finetune.cpp: optimiser, schedule, data-parallel sync, evaluation every N steps,
// best-keeping, early stopping, task-specific distillation) needs from a task family, so that one loop trains
// every head: sentence(-pair) classification and regression (GLUE and custom files, finetune.cpp), extractive
// question answering, token classification and multiple choice (finetune_heads.cpp).
// A task reads its data when made, tokenises it once the model (and so the need for segment ids) is known, hands
// out training batches with their labels, scores the student against a teacher's outputs, and evaluates on dev.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "distilbert/model/pretrained.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/finetune_recipe.h"

namespace distilbert {

class FinetuneTask {
 public:
  virtual ~FinetuneTask() = default;
  /// The head to build on the model folder's encoder, and its number of outputs (num_labels).
  virtual Head head() const = 0;
  virtual int64_t num_labels() const = 0;
  /// Record what the saved config.json should say (id2label, problem_type, finetuning_task).
  virtual void configure(ModelConfig& config) const = 0;
  /// Tokenise; `train_types` / `eval_types`: produce token_type_ids (a BERT student, or a BERT teacher in training).
  virtual void encode(const tokenizer::Tokenizer& tok, bool train_types, bool eval_types) = 0;
  /// Training units after encode() (examples; question-answering windows).
  virtual int64_t train_size() const = 0;
  /// The training batch of units `idx`, labels included.
  virtual ModelInputs train_batch(const std::vector<size_t>& idx, int64_t pad_id, torch::Device device) const = 0;
  /// The soft-target term of task-specific distillation: student against teacher outputs of the same batch.
  virtual torch::Tensor distill_loss(const ModelOutput& student, const ModelOutput& teacher, const ModelInputs& batch,
                                     double temperature) const = 0;
  /// For the log line: what distill_loss computes.
  virtual std::string distill_description(double temperature) const = 0;
  /// Dev metrics (every dev set, suffixed); leaves the model in train mode.
  virtual std::map<std::string, double> evaluate(PretrainedModel& model, const FinetuneRecipe& r, torch::Device device,
                                                 int64_t pad_id) const = 0;
  /// The metric the best model is kept by (greater is better).
  virtual std::string main_metric() const = 0;
};

/// The task of a recipe whose task.name is_heads_task(); reads train (when need_train) and dev data.
std::unique_ptr<FinetuneTask> make_heads_task(const FinetuneRecipe& r, bool need_train);

/// Batches of `n` units in order, `size` at a time (evaluation, and the teacher cache's pass over the training set).
std::vector<std::vector<size_t>> eval_batches(size_t n, int64_t size);

/// Rows of token ids right-padded with pad_id to the longest: input_ids and attention_mask (B, T), and
/// token_type_ids when `types` is non-empty (one row per id row). Dynamic padding; the mask makes it equal to
/// max_length padding.
ModelInputs pad_batch(const std::vector<const std::vector<int64_t>*>& ids,
                      const std::vector<const std::vector<int64_t>*>& types, int64_t pad_id, torch::Device device);

}  // namespace distilbert
