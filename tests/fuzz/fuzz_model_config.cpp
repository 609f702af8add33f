// Fuzz target: config.json files through ModelConfig::load (JSON parsing and from_json's key/range checks). Only
// distilbert::Error may come out, and an accepted config must round-trip through save / load.
#include "distilbert/config/model_config.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(model_config) {
  using namespace distilbert;
  const std::string path = fuzz::scratch_dir() + "/config.json";
  fuzz::write_bytes(path, data, size);
  fuzz::guarded("ModelConfig::load", [&] {
    const auto c = ModelConfig::load(path);
    const std::string saved = fuzz::scratch_dir() + "/saved_config.json";
    c.save(saved);
    ModelConfig again;
    try {
      again = ModelConfig::load(saved);
    } catch (const std::exception& e) {
      fuzz::report(std::string("a loaded config's saved config.json does not load: ") + e.what());
    }
    fuzz::require(again.to_json() == c.to_json(), "config round-trips through save/load");
  });
  return 0;
}
