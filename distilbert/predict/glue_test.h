// GLUE test-set predictions: a fine-tuned model folder run on the recipe task's unlabelled test split(s), written as
// gluebenchmark.com submission files (tasks/submission.h) with per-example predictions beside them
// (docs/FINETUNING.md §1). The CLI's `predict --recipe R --submission DIR`.
#pragma once

#include <string>
#include <vector>

#include "distilbert/train/finetune_recipe.h"

namespace distilbert {

/// GLUE test-set predictions of a fine-tuned model folder, for the recipe's task and data_dir: the gluebenchmark.com
/// submission file(s) in `out_dir` (SST-2.tsv, ...; MNLI: MNLI-m.tsv and MNLI-mm.tsv) and, beside each,
/// predictions-<split>.jsonl with every test example's index, label and class probabilities (STS-B: score).
/// Returns the paths written. A task other than the nine GLUE tasks is an error naming the recipe's task; a folder
/// without the trained head is refused as in evaluate_model.
std::vector<std::string> predict_glue_test(const FinetuneRecipe& recipe, const std::string& model_dir,
                                           const std::string& out_dir, bool fresh_head = false);

}  // namespace distilbert
