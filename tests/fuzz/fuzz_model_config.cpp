// Fuzz target: config.json text through ModelConfig::from_json. JSON syntax errors are the JSON library's refusal;
// once the text is JSON, only distilbert::Error may come out, and an accepted config must round-trip through
// to_json / from_json.
#include <nlohmann/json.hpp>

#include "distilbert/config/model_config.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(model_config) {
  using namespace distilbert;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  fuzz::guarded("ModelConfig::from_json", [&] {
    const auto c = ModelConfig::from_json(j, "fuzz/config.json");
    const auto again = ModelConfig::from_json(c.to_json(), "fuzz/round-trip");
    fuzz::require(again.to_json() == c.to_json(), "config round-trips through to_json/from_json");
  });
  return 0;
}
