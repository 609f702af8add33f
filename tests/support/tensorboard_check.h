// A run's TensorBoard event files read by the tensorboard package's own reader (EventAccumulator, through
// tests/py/tb_scalars.py) against its metrics.jsonl.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/python_env.h"

namespace distilbert::testing {

/// Every number of every metrics.jsonl record is the scalar "<split>/<key>" at the record's step, to float32
/// rounding (event files hold float32). A visible skip where the project's environment has no tensorboard.
inline void check_tensorboard_matches_metrics(const std::filesystem::path& run,
                                              const std::vector<nlohmann::json>& metrics) {
  if (!require_python("tensorboard", "the TensorBoard reader check")) return;
  const auto r = run_python("tb_scalars.py", "'" + (run / "tensorboard").string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto tb = nlohmann::json::parse(r.output.substr(r.output.rfind("{\"tensorboard\"")))["scalars"];
  size_t compared = 0;
  for (const auto& rec : metrics) {
    const int64_t step = rec["step"].get<int64_t>();
    for (const auto& [key, value] : rec.items()) {
      if (key == "step" || !value.is_number()) continue;
      const std::string tag = rec["split"].get<std::string>() + "/" + key;
      INFO("tag " << tag << " step " << step);
      REQUIRE(tb.contains(tag));
      bool found = false;
      for (const auto& e : tb[tag])
        if (e[0].get<int64_t>() == step) {
          found = true;
          CHECK(e[1].get<double>() == Approx(static_cast<float>(value.get<double>())).epsilon(1e-7).margin(1e-30));
        }
      CHECK(found);
      ++compared;
    }
  }
  CHECK(compared >= metrics.size());
}

}  // namespace distilbert::testing
