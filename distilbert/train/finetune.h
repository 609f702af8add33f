// Fine-tuning and evaluation on sentence(-pair) classification and regression: the nine GLUE tasks from their
// TSV files, or a user's CSV/TSV/JSONL with named columns. One readable recipe: read and tokenise the data, load
// any of our (or HF's) model folders with a fresh classification head, train with AdamW and a linear schedule,
// evaluate every N steps with the task's metrics (SPEC.md §7), keep the best model by the task's main metric, stop
// early when asked.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "distilbert/dist/env.h"

namespace distilbert {

struct FinetuneRecipe {
  std::string origin;
  std::string output_dir = "runs/finetune";
  uint64_t seed = 42;
  std::string device = "cpu";
  int threads = 0;
  std::string precision = "fp32";

  std::string model;      // model folder (any head: a classification head is created when needed)
  std::string tokenizer;  // default: the model folder's

  // Data: a GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli) from data_dir, or "custom" files.
  std::string task = "sst2";
  std::string data_dir;
  std::string train_file, dev_file;  // custom
  std::string text_column = "text", text_pair_column, label_column = "label";
  std::vector<std::string> label_names;  // custom classification labels (default: discovered in the train file)
  bool regression = false;               // custom regression
  std::string bad_rows = "fail";         // fail | skip
  int64_t max_seq_len = 128;
  int64_t limit_train = 0, limit_eval = 0;  // use only the first N examples (0 = all)

  // Optimiser (HF Trainer defaults).
  double lr = 2e-5, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0, max_grad_norm = 1.0;
  double warmup_prop = 0.0;

  int64_t epochs = 3, max_steps = 0, batch_size = 32, eval_batch_size = 128;
  int64_t eval_every = 0;  // optimizer steps; 0 = at the end of each epoch
  int64_t early_stopping_patience = 0;  // evaluations without improvement before stopping; 0 = never
  int64_t log_every = 50;
  bool progress = true;
  // Task-specific distillation (DistilBERT paper §4.2, HF run_*_w_distillation.py): a fine-tuned teacher's outputs
  // as soft targets. loss = alpha_task * task loss + alpha_ce * (KL(T) * T^2 for classification, MSE for regression).
  std::string kd_teacher;  // fine-tuned teacher folder (same task and labels); empty = plain fine-tuning
  double kd_temperature = 2.0, kd_alpha_ce = 0.5, kd_alpha_task = 0.5;

  // Data parallel: batch_size is per process (global batch = batch_size x processes), as in HF Trainer.
  dist::DistSettings distributed;

  nlohmann::json resolved;

  static FinetuneRecipe load(const std::string& path, const std::vector<std::string>& overrides);
  static FinetuneRecipe from_tree(const nlohmann::json& tree, const std::string& origin);
};

struct FinetuneSummary {
  int64_t steps = 0;
  double seconds = 0.0;
  std::map<std::string, double> best_metrics;  // dev metrics of the kept model
  int64_t best_step = 0;
  std::string best_dir;
};

/// Train and evaluate; writes <output_dir>/best (HF folder + tokenizer), eval_results.json and metrics.jsonl.
FinetuneSummary run_finetune(const FinetuneRecipe& recipe, bool overwrite);

/// Evaluate a model folder on a recipe's dev data; returns the metrics (also MNLI's mismatched set, with "_mm").
std::map<std::string, double> evaluate_model(const FinetuneRecipe& recipe, const std::string& model_dir);

}  // namespace distilbert
