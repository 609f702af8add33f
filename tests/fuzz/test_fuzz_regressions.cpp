// The fuzz targets (tests/fuzz/fuzz_*.cpp) compiled into the regular suite: every input the fuzzers ever found a
// problem with (tests/data/fuzz_regressions/<target>/) is replayed through its target, so the fixes stay fixed
// on machines without clang. In the ASan build (scripts/sanitize.sh) the replays also run under the sanitizers.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "fuzz/fuzz_target.h"
#include "test_paths.h"
#include "support/scratch_files.h"

namespace fs = std::filesystem;
using distilbert::fuzz::registry;

namespace {

using distilbert::testing::read_file;

int replay(const std::string& target, const std::string& bytes) {
  return registry().at(target)(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

TEST_CASE("fuzz regressions: every saved input passes its target", "[fuzz]") {
  const fs::path root = fs::path(DISTILBERT_SOURCE_DIR) / "tests/data/fuzz_regressions";
  REQUIRE(fs::is_directory(root));
  std::size_t n = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    const std::string target = dir.path().filename().string();
    INFO("target " << target);
    REQUIRE(registry().count(target) == 1);  // a folder per registered target, no typos
    for (const auto& f : fs::directory_iterator(dir.path())) {
      if (!f.is_regular_file() || f.path().filename().string()[0] == '.' || f.path().extension() == ".md") continue;
      INFO("input " << f.path().string());
      CHECK_NOTHROW(replay(target, read_file(f.path())));
      ++n;
    }
  }
  CHECK(n > 0);
}

TEST_CASE("fuzz targets: all registered, empty and tiny inputs are refused cleanly", "[fuzz]") {
  for (const char* t : {"tokenizer", "tokenizer_files", "task_data", "task_files", "metrics", "model_config", "safetensors",
                        "torch_pickle", "token_store", "recipe", "trainer_state", "predict_input"}) {
    INFO(t);
    REQUIRE(registry().count(t) == 1);
    for (const std::string& input : {std::string(), std::string(1, '\0'), std::string("\x01\xff{[", 4)})
      CHECK_NOTHROW(replay(t, input));
  }
}

TEST_CASE("fuzz harness: a raw non-distilbert exception is a finding, distilbert::Error is a refusal", "[fuzz]") {
  using distilbert::fuzz::Finding;
  using distilbert::fuzz::guarded;
  CHECK_NOTHROW(guarded("t", [] { throw distilbert::Error("refused"); }));
  CHECK_THROWS_AS(guarded("t", [] { throw std::out_of_range("raw"); }), Finding);
  CHECK_THROWS_AS(distilbert::fuzz::require(false, "x"), Finding);
}
