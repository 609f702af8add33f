// A fine-tuned sentence(-pair) classification or regression model folder, loaded and run on examples as fine-tuning
// evaluates it: what GLUE test-set predictions (predict/glue_test.h) need from fine-tuning. Defined in finetune.cpp,
// which shares the model setup, the trained-head check, tokenisation and dynamic padding with evaluate_model.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "distilbert/model/pretrained.h"
#include "distilbert/tasks/example.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/finetune_recipe.h"

namespace distilbert {

struct FinetunedClassifier {
  std::shared_ptr<tokenizer::Tokenizer> tok;
  ModelPtr model;  // in eval mode, on `device`
  torch::Device device = torch::kCPU;
};

/// The folder with the head, labels and config that fine-tuning gives it for the recipe's GLUE task (no data file is
/// read), the recipe's tokenizer (default: the folder's), device and threads. A folder without the trained head is
/// refused as in evaluate_model, unless `fresh_head` (then the head is random).
FinetunedClassifier load_finetuned_classifier(const FinetuneRecipe& recipe, const std::string& model_dir,
                                              bool fresh_head);

/// Run the classifier on `examples`, tokenised as fine-tuning does (max_seq_len, longest_first truncation), in
/// batches of eval_batch_size under the recipe's precision, without gradients. on_batch(begin, logits) gets each
/// batch's float32 CPU logits, row i for example begin + i, while the batch's autocast scope is open.
void classify_examples(const FinetunedClassifier& classifier, const FinetuneRecipe& recipe,
                       const std::vector<tasks::Example>& examples,
                       const std::function<void(std::size_t begin, const torch::Tensor& logits)>& on_batch);

}  // namespace distilbert
