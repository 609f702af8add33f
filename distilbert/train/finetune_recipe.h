// FinetuneRecipe: everything a `distilbert finetune` / `evaluate` run (and `predict --recipe`) needs, as typed
// fields with HF Trainer's defaults (docs/FINETUNING.md), read strictly from a YAML/JSON recipe plus `key=value`
// overrides. The resolved tree is saved into the run folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "distilbert/dist/env.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/optim.h"

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

  // Data: a GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli) from data_dir, or "custom" files;
  // squad / squad_v2 (SQuAD JSON), conll2003 (CoNLL-2003 NER), ner (CoNLL-format files with their own tags) and swag
  // (SWAG CSV) from data_dir or train_file + dev_file.
  std::string task = "sst2";
  std::string data_dir;
  std::string train_file, dev_file;  // custom; for the other families they replace data_dir's files
  std::string text_column = "text", text_pair_column, label_column = "label";
  std::vector<std::string> label_names;  // custom / ner labels (default: discovered in the train file)
  bool regression = false;               // custom regression
  std::string bad_rows = "fail";         // fail | skip
  int64_t max_seq_len = 128;
  int64_t limit_train = 0, limit_eval = 0;  // use only the first N examples (0 = all)
  // Question answering (run_qa.py / utils_qa.py): windows overlap by doc_stride tokens, questions are cut to
  // max_query_len tokens, answers are the best of n_best_size starts x ends spanning at most max_answer_len tokens;
  // squad_v2 answers "" when the null score beats the best span by more than null_score_diff_threshold.
  int64_t doc_stride = 128, max_query_len = 64, max_answer_len = 30, n_best_size = 20;
  double null_score_diff_threshold = 0.0;

  // Optimiser (HF Trainer defaults: lr 2e-5, betas 0.9 / 0.999, eps 1e-8, no weight decay, clipping at 1).
  OptimizerSettings optimizer = trainer_defaults();
  double warmup_prop = 0.0;

  // batch_size is per micro-batch; an optimizer step takes grad_accum_steps of them (fewer at an epoch's end, as
  // HF Trainer does), averaging their gradients.
  int64_t epochs = 3, max_steps = 0, batch_size = 32, eval_batch_size = 128, grad_accum_steps = 1;
  int64_t eval_every = 0;  // optimizer steps; 0 = at the end of each epoch
  int64_t early_stopping_patience = 0;  // evaluations without improvement before stopping; 0 = never
  int64_t log_every = 50;
  int64_t save_every = 0;  // optimizer steps between checkpoints (checkpoints/step-N, and one at the end); 0 = none
                           // but on SIGTERM
  int64_t keep_last = 2;   // checkpoints kept
  std::string resume = "auto";       // auto | never | <checkpoint folder>, as distillation's
  std::string nan_policy = "stop";   // stop | skip (the micro-batch)
  bool tensorboard = true;  // trainer.tensorboard: <output_dir>/tensorboard/ beside metrics.jsonl
  bool progress = true;
  // Task-specific distillation (DistilBERT paper §4.2, HF run_*_w_distillation.py): a fine-tuned teacher's outputs
  // as soft targets. loss = alpha_task * task loss + alpha_ce * (KL(T) * T^2 for classification, MSE for regression;
  // for question answering the mean of the start and end KLs, run_squad_w_distillation.py).
  std::string kd_teacher;  // fine-tuned teacher folder (same task and labels); empty = plain fine-tuning
  double kd_temperature = 2.0, kd_alpha_ce = 0.5, kd_alpha_task = 0.5;
  // The hidden-state terms (distill_loss.h, docs/DISTILLATION.md §7): alpha_cos, the paper's L_cos on the last
  // hidden states, and TinyBERT-style layer_pairs weighted by alpha_layer_cos / alpha_layer_mse. Logit alphas stay 0.
  DistillLossWeights kd_hidden = [] {
    DistillLossWeights w;
    w.alpha_ce = 0.0;
    return w;
  }();
  bool kd_hidden_terms() const { return kd_hidden.alpha_cos > 0 || !kd_hidden.layer_pairs.empty(); }
  // The teacher's outputs computed once over the training set instead of at every batch (train/teacher_cache.h);
  // the hidden-state terms need its states at every step and turn it off. cache_file keeps them for later runs.
  bool kd_cache = true;
  std::string kd_cache_file;
  bool kd_cached() const { return !kd_teacher.empty() && kd_cache && !kd_hidden_terms(); }

  // Data parallel: batch_size is per process (global batch = batch_size x processes), as in HF Trainer.
  dist::DistSettings distributed;

  nlohmann::json resolved;

  static OptimizerSettings trainer_defaults() {
    OptimizerSettings o;
    o.lr = 2e-5, o.beta2 = 0.999, o.eps = 1e-8, o.max_grad_norm = 1.0;
    return o;
  }
  static FinetuneRecipe load(const std::string& path, const std::vector<std::string>& overrides);
  static FinetuneRecipe from_tree(const nlohmann::json& tree, const std::string& origin);
};

/// True for the task names finetune_heads.cpp serves: squad, squad_v2, conll2003, ner, swag.
bool is_heads_task(const std::string& name);

}  // namespace distilbert
