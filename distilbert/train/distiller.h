// The distillation and MLM-pretraining run (docs/DISTILLATION.md §2): one readable loop, setup -> train -> save,
// built from the components in this folder and in data/. `distill` trains a DistilBERT student against a frozen
// teacher with the triple loss; `pretrain` trains one model with MLM alone (how a user without a teacher makes one).
#pragma once

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

#include "distilbert/train/distill_recipe.h"

namespace distilbert {

struct RunSummary {
  int64_t steps = 0;          // optimizer steps done (in total, including before a resume)
  int64_t micro_steps = 0;
  double last_loss = 0.0;     // mean total loss of the last logging window
  double seconds = 0.0;       // wall time of this process's part of the run
  double tokens_per_second = 0.0;
  int64_t skipped_steps = 0;  // NaN/Inf steps skipped (nan_policy skip) + fp16 overflow skips
  bool interrupted = false;   // stopped by SIGINT/SIGTERM after saving a checkpoint
  std::string final_dir;      // the final model folder (empty when interrupted)
  nlohmann::json eval;        // the last held-out metrics (data.valid), null without
};

/// Run a recipe. `overwrite` allows an existing non-empty output folder that is not this run's.
/// `stop` (optional) is polled between micro-batches: when set, a checkpoint is saved and the run returns.
RunSummary run_distillation(const DistillRecipe& recipe, bool overwrite, const std::atomic<bool>* stop = nullptr);

}  // namespace distilbert
