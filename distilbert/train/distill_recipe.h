// DistillRecipe: everything a `distilbert distill` (triple loss) or `distilbert pretrain` (MLM only) run needs,
// as typed fields with the reference defaults (docs/DISTILLATION.md §1), read strictly from a YAML/JSON recipe plus
// `key=value` overrides. The resolved tree is saved into the run folder.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "distilbert/dist/env.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/optim.h"

namespace distilbert {

struct MlmSettings {
  double mask_prob = 0.15;
  double word_mask = 0.8, word_keep = 0.1, word_rand = 0.1;
  double smoothing = 0.7;  // token probability = max(count, 1)^-smoothing; 0 = uniform over non-special tokens
};

struct DataSettings {
  std::string train;             // token store prefix (distilbert binarize)
  std::string valid;             // optional held-out store
  std::string token_counts;      // optional; computed from `train` when empty
  int64_t max_seq_len = 512;
  int64_t batch_size = 5;        // sequences per micro-batch (per process)
  std::string batching = "grouped";  // grouped (reference) | random | tokens
  int64_t max_tokens = 0;        // batching: tokens -> padded tokens per micro-batch
  int64_t prefetch = 4;          // batches prepared ahead on a background thread
  MlmSettings mlm;
};


struct TrainerSettings {
  int64_t epochs = 3;
  int64_t max_steps = 0;         // optimizer steps; 0 = as many as `epochs` take
  int64_t grad_accum_steps = 50;
  double warmup_prop = 0.05;
  int64_t log_every = 10;        // optimizer steps
  int64_t eval_every = 0;        // optimizer steps; 0 = at the end of each epoch only when data.valid is set
  int64_t eval_batches = 50;
  int64_t save_every = 500;      // optimizer steps; 0 = only at the end
  int64_t keep_last = 3;
  std::string resume = "auto";   // auto | never | <checkpoint folder>
  std::string nan_policy = "skip";  // skip | stop
  bool progress = true;          // live progress line on stderr
  bool tensorboard = true;
  int64_t profile_steps = 0;     // > 0: operator profile of that many optimizer steps (profile.json, profile.txt)
  int64_t profile_start = 1;     // optimizer steps done before profiling starts (1 skips the warm-up step)
};

struct DistillRecipe {
  std::string mode = "distill";  // distill (teacher + student) | pretrain (one model, MLM only)
  std::string origin;            // recipe file
  std::string output_dir = "runs/distill";
  uint64_t seed = 56;
  std::string device = "cpu";
  int threads = 0;
  std::string precision = "fp32";  // fp32 | bf16 | fp16 (fp16: CUDA only)

  std::string teacher;           // teacher model folder (distill)
  std::string student;           // student model folder (init-student output) ...
  std::string student_config;    // ... or a config.json for a random init
  bool freeze_position_embeddings = false;
  std::string tokenizer;         // default: the teacher's (distill) / the model's (pretrain) folder

  DataSettings data;
  DistillLossWeights loss;
  OptimizerSettings optimizer;
  TrainerSettings trainer;
  dist::DistSettings distributed;  // data parallel (launch with torchrun-style variables or `distilbert launch`)

  nlohmann::json resolved;       // the tree after overrides (saved as recipe.yaml/json in the run folder)

  /// Load, override and validate. `mode` is "distill" or "pretrain" (the command that reads it).
  static DistillRecipe load(const std::string& path, const std::vector<std::string>& overrides,
                            const std::string& mode);
  static DistillRecipe from_tree(const nlohmann::json& tree, const std::string& origin, const std::string& mode);
};

}  // namespace distilbert
