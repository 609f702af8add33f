// Training checkpoints: one folder per save, `checkpoints/step-<N>`, holding an HF model folder (config.json,
// model.safetensors, tokenizer files) plus optimizer.pt, the gradients accumulated so far (when saved in the middle
// of an accumulation cycle), the RNG state and trainer_state.json. A folder is written under a temporary name and
// renamed when complete, so a crash never leaves a checkpoint that looks valid; the last K are kept. Resuming picks
// the newest checkpoint that loads, and says so when it had to fall back to an older one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include "distilbert/model/pretrained.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert {

struct CheckpointData {
  const PretrainedModel* model = nullptr;
  const tokenizer::Tokenizer* tokenizer = nullptr;
  torch::optim::Optimizer* optimizer = nullptr;
  bool with_grads = false;     // store the accumulated gradients (mid-accumulation save)
  nlohmann::json state;        // trainer state (step, micro_step, loader state, scaler, ...)
};

/// Write `checkpoints/step-<step>` under run_dir atomically and delete all but the newest `keep_last`.
/// Returns the folder written.
std::string save_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& data, int64_t keep_last);

/// Checkpoint folders of a run, oldest first (only complete ones: temporary folders are ignored).
std::vector<std::string> list_checkpoints(const std::string& run_dir);

/// Load a checkpoint into `model` (weights, and gradients when stored), `optimizer` and the CPU RNG; returns its
/// trainer state. Throws an Error naming the folder and the file when anything is missing or corrupt.
nlohmann::json load_checkpoint(const std::string& dir, PretrainedModel& model, torch::optim::Optimizer& optimizer);

/// resume = "auto": the newest loadable checkpoint of run_dir (falling back past corrupt ones, with a warning on
/// stderr), or nullopt when there is none; "never": nullopt; otherwise the given folder (errors if it fails).
std::optional<nlohmann::json> resume_from(const std::string& resume, const std::string& run_dir,
                                          PretrainedModel& model, torch::optim::Optimizer& optimizer,
                                          std::string* loaded_dir = nullptr);

}  // namespace distilbert
