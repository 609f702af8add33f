// trainer_state.json readers (train/trainer_state.h): the fields a fine-tuning and a distillation checkpoint
// record come back unchanged, and a damaged or foreign state is refused naming the file, the key and the value.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "distilbert/train/trainer_state.h"

using namespace distilbert;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {

FinetuneState some_position() {
  FinetuneState s;
  s.step = 7, s.epoch = 1, s.batch = 3, s.micro = 1, s.skipped = 2, s.epoch_rng = "5489 1 2";
  s.best = 0.75, s.since_best = 1, s.best_step = 5, s.best_metrics = {{"accuracy", 0.75}, {"f1", 0.5}};
  s.loss_sum = 1.25, s.kd_sum = 0.5, s.loss_n = 3, s.world_size = 2, s.total_steps = 40;
  return s;
}

json with_header(json state) {
  state["format_version"] = kTrainerStateVersion;
  return state;
}

}  // namespace

TEST_CASE("trainer state: a fine-tuning position survives the file and fits its own run") {
  const FinetuneState s = some_position();
  const json file = parse_trainer_state(with_header(s.to_json()).dump(2), "ts.json");
  const FinetuneState back = FinetuneState::from_json(file, "ts.json");
  CHECK(back.to_json() == s.to_json());
  CHECK(back.best == std::optional<double>(0.75));
  CHECK(back.best_metrics.at("f1") == 0.5);
  CHECK_NOTHROW(back.check_fits(2, 40, 20, 2, "ts.json"));
  FinetuneState none = s;
  none.best.reset();
  CHECK_FALSE(FinetuneState::from_json(none.to_json(), "ts.json").best.has_value());
}

TEST_CASE("trainer state: another run's or an impossible position is refused") {
  const FinetuneState s = some_position();
  CHECK_THROWS_WITH(s.check_fits(1, 40, 20, 2, "ts.json"), Contains("ts.json: written by a run of 2 process(es)"));
  CHECK_THROWS_WITH(s.check_fits(2, 80, 20, 2, "ts.json"), Contains("belongs to a run of 40 steps; this recipe makes 80"));
  CHECK_THROWS_WITH(s.check_fits(2, 40, 2, 2, "ts.json"), Contains("batch 3, micro 1 is outside"));
  CHECK_THROWS_WITH(s.check_fits(2, 40, 20, 1, "ts.json"), Contains("(1 micro-batches per step)"));
}

TEST_CASE("trainer state: fields of the wrong type are refused naming the key and the value") {
  const json good = with_header(some_position().to_json());
  const std::tuple<const char*, json, const char*> cases[] = {
      {"step", 1e300, "'step' must be an integer, found 1e+300"},
      {"batch", 2.5, "'batch' must be an integer, found 2.5"},
      {"micro", true, "'micro' must be an integer, found true"},
      {"epoch", "zero", "'epoch' must be an integer, found \"zero\""},
      {"world_size", json::array(), "'world_size' must be an integer, found []"},
      {"loss_sum", "x", "'loss_sum' must be a number, found \"x\""},
      {"epoch_rng", 5, "'epoch_rng' must be a string, found 5"},
      {"skipped", -1, "negative counters (skipped -1"},
      {"step", json(18446744073709551615ull), "'step' is 18446744073709551615, more than an int64 holds"},
  };
  for (const auto& [key, value, message] : cases) {
    INFO(key << " = " << value.dump());
    json bad = good;
    bad[key] = value;
    CHECK_THROWS_WITH(FinetuneState::from_json(parse_trainer_state(bad.dump(), "ts.json"), "ts.json"),
                      Contains(std::string("ts.json: ") + message));
  }
  json missing = good;
  missing.erase("loss_n");
  CHECK_THROWS_WITH(FinetuneState::from_json(missing, "ts.json"), Contains("ts.json: no 'loss_n'"));
  CHECK_THROWS_WITH(parse_trainer_state("[1]", "ts.json"), Contains("ts.json: expected a JSON object, found array"));
  CHECK_THROWS_WITH(parse_trainer_state("{\"format_version\": 2, \"step\": 1}", "ts.json"),
                    Contains("format_version 2, expected 1"));
  CHECK_THROWS_WITH(parse_trainer_state("{\"format_version\": 1", "ts.json"), Contains("ts.json is not valid JSON"));
}

TEST_CASE("trainer state: a distillation state with its loader and loss scaler") {
  json st = {{"format_version", 1}, {"step", 12}, {"micro_step", 24}, {"skipped_steps", 1},
             {"loader", {{"epoch", 1}, {"batch", 3}, {"seed", 56}, {"rank", 0}, {"world_size", 2}}},
             {"scaler", {{"scale", 65536.0}, {"growth_tracker", 12}, {"skipped", 1}}}};
  const DistillState s = DistillState::from_json(st, "ts.json");
  CHECK(s.step == 12);
  CHECK(s.micro_step == 24);
  CHECK(s.skipped_steps == 1);
  CHECK(s.loader == data::LoaderState{1, 3, 56, 0, 2});
  REQUIRE(s.scaler);
  CHECK(s.scaler->scale == 65536.0);
  CHECK(s.scaler->growth_tracker == 12);
  json no_scaler = st;
  no_scaler.erase("scaler");
  CHECK_FALSE(DistillState::from_json(no_scaler, "ts.json").scaler);
  json bad = st;
  bad["scaler"]["scale"] = -1.0;
  CHECK_THROWS_WITH(DistillState::from_json(bad, "ts.json"), Contains("ts.json, 'scaler': scale -1 must be > 0"));
  bad = st;
  bad["loader"]["rank"] = 2;
  CHECK_THROWS_WITH(DistillState::from_json(bad, "ts.json"),
                    Contains("ts.json, 'loader': rank 2 of 2 process(es) is not a valid rank"));
  bad = st;
  bad["loader"]["seed"] = -5;
  CHECK_THROWS_WITH(DistillState::from_json(bad, "ts.json"), Contains("'seed' must be a non-negative integer, found -5"));
}
