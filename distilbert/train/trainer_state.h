// trainer_state.json: what a checkpoint folder (checkpoint.h) holds besides weights, optimiser and RNG, namely where
// the run stands. Each recipe kind has its own fields; both are parsed here, strictly (every field present, integers
// that are integers), and checked against the run that resumes them before anything continues. A hand-edited or
// damaged file is refused with the file and the key, never read with a wrong value (docs/FINETUNING.md §4, "Resuming").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "distilbert/data/loader_state.h"

namespace distilbert {

/// The format save_checkpoint writes into "format_version".
constexpr std::int64_t kTrainerStateVersion = 1;

/// The file's text parsed, checked to be an object of format version kTrainerStateVersion with an integer "step".
/// `where` names the file in errors.
nlohmann::json parse_trainer_state(const std::string& text, const std::string& where);

/// A fine-tuning run's position: epoch, next batch of the epoch, micro-batches of the open accumulation cycle,
/// optimizer steps; the shuffle generator's state at the epoch's start; early-stopping and log-window counters.
struct FinetuneState {
  std::int64_t step = 0, epoch = 0, batch = 0, micro = 0, skipped = 0;
  std::string epoch_rng;
  std::optional<double> best;  // none before the first evaluation
  std::int64_t since_best = 0, best_step = -1;
  std::map<std::string, double> best_metrics;
  double loss_sum = 0, kd_sum = 0;
  std::int64_t loss_n = 0;
  std::int64_t world_size = 1, total_steps = 0;

  nlohmann::json to_json() const;
  static FinetuneState from_json(const nlohmann::json& j, const std::string& where);
  /// Refuses a state that this run (its process count, schedule and data) cannot continue.
  void check_fits(std::int64_t world, std::int64_t total, std::int64_t batches_per_epoch, std::int64_t accum,
                  const std::string& where) const;
};

/// The dynamic loss scaler of an fp16 run (precision.h).
struct ScalerState {
  double scale = 1;
  std::int64_t growth_tracker = 0, skipped = 0;
};

/// A distillation run's position: optimizer steps, micro-batches seen, the loader's position, skipped steps, and
/// the loss scaler (absent in checkpoints of runs older than the scaler).
struct DistillState {
  std::int64_t step = 0, micro_step = 0, skipped_steps = 0;
  data::LoaderState loader;
  std::optional<ScalerState> scaler;

  static DistillState from_json(const nlohmann::json& j, const std::string& where);
};

}  // namespace distilbert
