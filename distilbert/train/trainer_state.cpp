// trainer_state.json; see trainer_state.h.
#include "distilbert/train/trainer_state.h"

#include <cmath>

#include "distilbert/core/error.h"
#include "distilbert/core/json_error.h"
#include "distilbert/core/json_get.h"

namespace distilbert {

using json = nlohmann::json;

json parse_trainer_state(const std::string& text, const std::string& where) {
  json state;
  try {
    state = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e99999
    fail(where, " is not valid JSON: ", json_error_text(e));
  }
  DISTILBERT_CHECK(state.is_object(), where, ": expected a JSON object, found ", state.type_name());
  const std::int64_t version = json_int(state, "format_version", where);
  DISTILBERT_CHECK(version == kTrainerStateVersion, where, ": format_version ", version, ", expected ", kTrainerStateVersion);
  json_int(state, "step", where);  // every checkpoint has its step
  return state;
}

json FinetuneState::to_json() const {
  return json{{"step", step},
              {"epoch", epoch},
              {"batch", batch},
              {"micro", micro},
              {"skipped", skipped},
              {"epoch_rng", epoch_rng},
              {"best", best ? json(*best) : json()},
              {"since_best", since_best},
              {"best_step", best_step},
              {"best_metrics", best_metrics},
              {"loss_sum", loss_sum},
              {"kd_sum", kd_sum},
              {"loss_n", loss_n},
              {"world_size", world_size},
              {"total_steps", total_steps}};
}

FinetuneState FinetuneState::from_json(const json& j, const std::string& where) {
  FinetuneState s;
  s.step = json_int(j, "step", where);
  s.epoch = json_int(j, "epoch", where);
  s.batch = json_int(j, "batch", where);
  s.micro = json_int(j, "micro", where);
  s.skipped = json_int(j, "skipped", where);
  s.epoch_rng = json_string(j, "epoch_rng", where);
  if (!json_field(j, "best", where).is_null()) s.best = json_number(j, "best", where);
  s.since_best = json_int(j, "since_best", where);
  s.best_step = json_int(j, "best_step", where);
  const json& metrics = json_field(j, "best_metrics", where);
  DISTILBERT_CHECK(metrics.is_object(), where, ": 'best_metrics' must be an object, found ", metrics.dump());
  for (const auto& [name, value] : metrics.items()) s.best_metrics[name] = json_number(metrics, name.c_str(), where);
  s.loss_sum = json_number(j, "loss_sum", where);
  s.kd_sum = json_number(j, "kd_sum", where);
  s.loss_n = json_int(j, "loss_n", where);
  s.world_size = json_int(j, "world_size", where);
  s.total_steps = json_int(j, "total_steps", where);
  DISTILBERT_CHECK(s.skipped >= 0 && s.since_best >= 0 && s.loss_n >= 0 && s.best_step >= -1, where,
                   ": negative counters (skipped ", s.skipped, ", since_best ", s.since_best, ", loss_n ", s.loss_n,
                   ", best_step ", s.best_step, ")");
  return s;
}

void FinetuneState::check_fits(std::int64_t world, std::int64_t total, std::int64_t batches_per_epoch,
                               std::int64_t accum, const std::string& where) const {
  DISTILBERT_CHECK(world_size == world, where, ": written by a run of ", world_size, " process(es); this run has ",
                   world, ": resume with the same number");
  DISTILBERT_CHECK(total_steps == total, where, ": belongs to a run of ", total_steps, " steps; this recipe makes ",
                   total, " (batch_size, epochs, max_steps, grad_accum_steps or the data changed): resume needs the same");
  DISTILBERT_CHECK(epoch >= 0 && batch >= 0 && batch <= batches_per_epoch && micro >= 0 && micro < accum &&
                       step >= 0 && step <= total,
                   where, ": position epoch ", epoch, ", step ", step, ", batch ", batch, ", micro ", micro,
                   " is outside this run's ", total, " steps of ", batches_per_epoch, " batches (", accum,
                   " micro-batches per step)");
}

DistillState DistillState::from_json(const json& j, const std::string& where) {
  DistillState s;
  s.step = json_int(j, "step", where);
  s.micro_step = json_int(j, "micro_step", where);
  s.loader = data::LoaderState::from_json(json_field(j, "loader", where), where + ", 'loader'");
  if (j.contains("skipped_steps")) s.skipped_steps = json_int(j, "skipped_steps", where);
  DISTILBERT_CHECK(s.step >= 0 && s.micro_step >= 0 && s.skipped_steps >= 0, where, ": step ", s.step,
                   ", micro_step ", s.micro_step, " and skipped_steps ", s.skipped_steps, " must be >= 0");
  if (j.contains("scaler")) {
    const json& sc = j.at("scaler");
    const std::string at = where + ", 'scaler'";
    ScalerState scaler{json_number(sc, "scale", at), json_int(sc, "growth_tracker", at), json_int(sc, "skipped", at)};
    DISTILBERT_CHECK(scaler.scale > 0 && std::isfinite(scaler.scale) && scaler.growth_tracker >= 0 &&
                         scaler.skipped >= 0,
                     at, ": scale ", scaler.scale, " must be > 0, growth_tracker ", scaler.growth_tracker,
                     " and skipped ", scaler.skipped, " >= 0");
    s.scaler = scaler;
  }
  return s;
}

}  // namespace distilbert
