// Where an MlmLoader (loader.h) is: the next batch it delivers is `batch` of `epoch`. seed / rank / world_size are
// recorded so a restore into a differently configured loader is refused. Saved in a distillation checkpoint's
// trainer_state.json under "loader" (train/trainer_state.h).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace distilbert::data {

struct LoaderState {
  std::int64_t epoch = 0;
  std::int64_t batch = 0;
  std::uint64_t seed = 0;
  std::int64_t rank = 0;
  std::int64_t world_size = 1;
  nlohmann::json to_json() const;
  /// Every field present and an integer; epoch and batch >= 0, 0 <= rank < world_size. `where` names the file.
  static LoaderState from_json(const nlohmann::json& j, const std::string& where = "loader state");
  bool operator==(const LoaderState& o) const {
    return epoch == o.epoch && batch == o.batch && seed == o.seed && rank == o.rank && world_size == o.world_size;
  }
};

}  // namespace distilbert::data
