// What the fine-tuning recipe (finetune_run.cpp), evaluation and prediction (finetune.cpp) share: the task chosen by
// the recipe, and a model folder loaded with that task's head on the run's device.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "distilbert/model/pretrained.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/finetune_recipe.h"
#include "distilbert/train/finetune_task.h"

namespace distilbert {

struct RunContext;

/// The recipe's task family: sentence(-pair) classification / regression, or a heads task (SQuAD, NER, SWAG).
/// `need_train` false: only what scoring needs is read.
std::unique_ptr<FinetuneTask> make_task(const FinetuneRecipe& r, bool need_train);

struct Setup {
  std::shared_ptr<tokenizer::Tokenizer> tok;
  ModelPtr model;
  std::vector<std::string> newly_initialized;  // head weights the folder lacked (random until trained)
  torch::Device device = torch::kCPU;
  int threads = 1;
};

/// The recipe's tokenizer (default: the folder's) and `model_dir` with the task's head (a new head is initialised
/// with the recipe's seed), configured for the task, on the device. Without `ctx` this process sets its threads and
/// device from the recipe; in a run, `ctx` has done that for the rank (train_core.h).
Setup setup(const FinetuneRecipe& r, const std::string& model_dir, const FinetuneTask& task, bool quiet,
            const RunContext* ctx = nullptr);

}  // namespace distilbert
