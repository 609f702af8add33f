// Fine-tuning and evaluation on sentence(-pair) classification and regression (the nine GLUE tasks from their
// TSV files, or a user's CSV/TSV/JSONL with named columns), extractive question answering (SQuAD v1.1 / v2.0),
// token classification (CoNLL-2003 NER) and multiple choice (SWAG). One readable recipe: read and tokenise the
// data, load any of our (or HF's) model folders with a fresh head for the task, train with AdamW and a linear
// schedule, evaluate every N steps with the task's metrics (docs/FINETUNING.md; EM/F1, seqeval, accuracy), keep the
// best model by the task's main metric, stop early when asked. The per-family parts are in finetune_task.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "distilbert/train/finetune_recipe.h"

namespace distilbert {

struct FinetuneSummary {
  int64_t steps = 0;
  double seconds = 0.0;
  std::map<std::string, double> best_metrics;  // dev metrics of the kept model
  int64_t best_step = 0;
  std::string best_dir;
  bool interrupted = false;  // stopped by SIGINT/SIGTERM after saving a checkpoint
};

/// Train and evaluate; writes <output_dir>/best (HF folder + tokenizer), eval_results.json and metrics.jsonl.
/// `stop` (optional) is polled between micro-batches: when set, a checkpoint is saved and the run returns with
/// `interrupted`; trainer.resume auto continues it. A folder holding an interrupted run (checkpoints/, no
/// eval_results.json) continues without --overwrite.
FinetuneSummary run_finetune(const FinetuneRecipe& recipe, bool overwrite, const std::atomic<bool>* stop = nullptr);

/// Evaluate a model folder on a recipe's dev data; returns the metrics (also MNLI's mismatched set, with "_mm";
/// exact_match / f1 for SQuAD, precision / recall / f1 / accuracy for NER, accuracy for SWAG). A folder without the
/// task's trained head is an error naming the missing weights unless `fresh_head` (then the head is random).
std::map<std::string, double> evaluate_model(const FinetuneRecipe& recipe, const std::string& model_dir,
                                             bool fresh_head = false);

}  // namespace distilbert
