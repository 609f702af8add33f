// Fuzz target: a checkpoint's trainer_state.json (train/trainer_state.h) as both recipe kinds read it when they
// resume: parse_trainer_state (format version, step), then FinetuneState (with check_fits against a run of 2
// processes, 40 steps of 20 batches, 2 micro-batches per step) and DistillState. Only distilbert::Error may come
// out, and UBSan watches the number conversions (nlohmann converts 1e300 to int64 with undefined behaviour; the
// strict readers of core/json_get.h refuse it). An accepted fine-tuning state must survive to_json -> from_json
// unchanged, and a state that fits the run must lie inside it.
#include <string>

#include "distilbert/train/trainer_state.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(trainer_state) {
  using namespace distilbert;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string where = "trainer_state.json";
  fuzz::guarded("parse_trainer_state", [&] {
    const nlohmann::json state = parse_trainer_state(text, where);
    fuzz::guarded("FinetuneState", [&] {
      const FinetuneState s = FinetuneState::from_json(state, where);
      const FinetuneState again = FinetuneState::from_json(nlohmann::json::parse(s.to_json().dump()), where);
      fuzz::require(again.to_json() == s.to_json(), "a fine-tuning state changes through to_json / from_json");
      s.check_fits(2, 40, 20, 2, where);
      fuzz::require(s.step >= 0 && s.step <= 40 && s.batch >= 0 && s.batch <= 20 && s.micro >= 0 && s.micro < 2,
                    "check_fits accepted a position outside the run");
    });
    fuzz::guarded("DistillState", [&] {
      const DistillState s = DistillState::from_json(state, where);
      fuzz::require(s.step >= 0 && s.micro_step >= 0 && s.loader.rank >= 0 && s.loader.rank < s.loader.world_size,
                    "an accepted distillation state has a negative counter or an invalid rank");
      fuzz::require(!s.scaler || s.scaler->scale > 0, "an accepted loss scale is not positive");
    });
  });
  return 0;
}
