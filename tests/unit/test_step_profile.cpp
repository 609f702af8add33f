// Step profiles (train/step_profile.h): self times from a hand-made Chrome trace with nested events, computed by
// hand; bad traces are clear errors; a real recording of a few LibTorch operators summarises them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/train/step_profile.h"

using namespace distilbert;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
fs::path scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / "distilbert_step_profile";
  fs::create_directories(dir);
  return dir / name;
}

// The row of `op` in a summary table: {ms, calls, share %}.
std::vector<double> row_of(const std::string& table, const std::string& op) {
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(op + " ", 0) != 0) continue;
    std::istringstream f(line.substr(op.size()));
    double ms, calls, share;
    f >> ms >> calls >> share;
    return {ms, calls, share};
  }
  return {};
}
}  // namespace

TEST_CASE("summarize_trace: self time is an event's duration minus its children's", "[unit][profile]") {
  // Thread 1: linear [0, 1000) us calls addmm [100, 900), which calls copy_ [100, 300); then copy_ [1000, 1500)
  // at top level. Thread 2: addmm [0, 500) alone. Times in microseconds.
  const auto path = scratch("hand.json");
  std::ofstream(path) << R"([
    {"name": "linear", "ph": "X", "ts": 0, "dur": 1000, "tid": 1},
    {"name": "addmm", "ph": "X", "ts": 100, "dur": 800, "tid": 1},
    {"name": "copy_", "ph": "X", "ts": 100, "dur": 200, "tid": 1},
    {"name": "copy_", "ph": "X", "ts": 1000, "dur": 500, "tid": 1},
    {"name": "addmm", "ph": "X", "ts": 0, "dur": 500, "tid": 2},
    {"name": "marker", "ph": "i", "ts": 5, "tid": 1}
  ])";
  const auto table = summarize_trace(path.string(), 10);
  INFO(table);
  // Top-level time: 1000 + 500 (thread 1) + 500 (thread 2) = 2000 us = 2 ms.
  // addmm self: (800 - 200) + 500 = 1100 us; copy_: 200 + 500 = 700 us; linear: 1000 - 800 = 200 us.
  CHECK(row_of(table, "addmm") == std::vector<double>{1.1, 2, 55.0});
  CHECK(row_of(table, "copy_") == std::vector<double>{0.7, 2, 35.0});
  CHECK(row_of(table, "linear") == std::vector<double>{0.2, 1, 10.0});
  CHECK(row_of(table, "marker").empty());  // not a complete event
  CHECK_THAT(table, Contains("traced operators, total"));
  CHECK(table.find("addmm") < table.find("copy_"));  // sorted by self time
  CHECK(summarize_trace(path.string(), 1).find("copy_") == std::string::npos);  // top 1 only
}

TEST_CASE("summarize_trace: unreadable or malformed traces are clear errors", "[unit][profile]") {
  CHECK_THROWS_WITH(summarize_trace(scratch("missing.json").string(), 5), Contains("cannot be read"));
  const auto bad = scratch("bad.json");
  std::ofstream(bad) << "[{\"name\": ";
  CHECK_THROWS_WITH(summarize_trace(bad.string(), 5), Contains("not valid JSON"));
  const auto obj = scratch("object.json");
  std::ofstream(obj) << "{\"traceEvents\": []}";
  CHECK_THROWS_WITH(summarize_trace(obj.string(), 5), Contains("expected a JSON array"));
}

TEST_CASE("StepProfiler records LibTorch's operators, backward included", "[unit][profile]") {
  const auto path = scratch("real.json");
  fs::remove(path);
  auto w = torch::randn({32, 32}, torch::requires_grad());
  StepProfiler p(path.string());
  torch::mm(w, w).relu().sum().backward();
  const auto table = p.finish(50);
  INFO(table);
  CHECK(fs::file_size(path) > 100);
  CHECK(row_of(table, "aten::mm").size() == 3);
  CHECK(row_of(table, "aten::mm")[1] >= 3);  // forward, and the two products of its backward
  CHECK(row_of(table, "aten::relu").size() == 3);
  CHECK_THROWS_WITH(p.finish(), Contains("twice"));
}
