// resolve_precision (train/precision.h) and the CPU probe behind it (core/cpu_caps.h): fp16 on a CPU is refused
// naming the recipe; bf16 stays bf16 only where this CPU's bf16 matrix products are fast, else the run uses fp32 and
// the saved recipe says so. The CLI's `info --cpu` run with LibTorch's and oneDNN's AVX2 kernels (the emulation of
// a CPU without AVX-512, docs/PRECISION.md) reports bf16 as slow; with --json-out it prints and writes one reading.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "distilbert/core/cpu_caps.h"
#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"
#include "distilbert/train/precision.h"
#include "support/run_command.h"
#include "support/scratch_files.h"
#include "test_paths.h"

using namespace distilbert;
using Catch::Matchers::Contains;

TEST_CASE("resolve_precision: fp16 needs CUDA, bf16 only where bf16 products are fast", "[unit][precision]") {
  nlohmann::json tree = {{"precision", "fp16"}};
  CHECK_THROWS_WITH(resolve_precision("fp16", "cpu", "my.yaml", tree),
                    Contains("recipe 'my.yaml'") && Contains("fp16 needs a CUDA device"));
  CHECK(resolve_precision("fp16", "cuda:1", "my.yaml", tree) == "fp16");
  CHECK(resolve_precision("bf16", "cuda", "my.yaml", tree) == "bf16");
  CHECK(resolve_precision("fp32", "cpu", "my.yaml", tree) == "fp32");

  tree = {{"precision", "bf16"}};
  const std::string want = cpu_bf16_is_fast() ? "bf16" : "fp32";
  CHECK(resolve_precision("bf16", "cpu", "my.yaml", tree) == want);
  CHECK(tree["precision"] == want);
}

TEST_CASE("measure_matmul_rates: both products run and are timed", "[unit][precision]") {
  const MatmulRates r = measure_matmul_rates(128, 2);
  CHECK(r.n == 128);
  CHECK(r.threads >= 1);
  CHECK(r.fp32_gflops > 0.1);  // even a reference BLAS does 128^3 in well under 40 ms
  CHECK(r.bf16_gflops >= 0);
  // The cached verdict agrees with a fresh measurement wherever the ratio is clearly on one side of the 0.5 threshold
  // (timings of a shared machine wander near it).
  const MatmulRates fresh = measure_matmul_rates(256);
  const double ratio = fresh.bf16_gflops / fresh.fp32_gflops;
  INFO("bf16 / fp32 rate " << ratio);
  if (ratio > 1.0) CHECK(cpu_bf16_is_fast());
  if (ratio < 0.25) CHECK_FALSE(cpu_bf16_is_fast());
}

TEST_CASE("info --cpu: under the AVX2 emulation bf16 is reported slow", "[unit][precision][cli]") {
  const auto native = testing::run_command(kCli + " info --cpu --json --threads 1");
  INFO(native.output);
  REQUIRE(native.exit_code == 0);
  const auto n = nlohmann::json::parse(native.output.substr(native.output.find('{')));
  CHECK(n["fp32_gflops"].get<double>() > 0);
  CHECK(n["cpu"].get<std::string>() == cpu_info().model);
  // The BLAS: the CLI's process loads the same libraries as this one.
  CHECK(n["openblas"].get<std::string>() == openblas_info().config);
  CHECK(n["openblas_threading"].get<std::string>() == openblas_info().threading);

  const auto avx2 =
      testing::run_command("ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 " + kCli + " info --cpu --json --threads 1");
  INFO(avx2.output);
  REQUIRE(avx2.exit_code == 0);
  const auto a = nlohmann::json::parse(avx2.output.substr(avx2.output.find('{')));
  CHECK(a["bf16_fast"] == false);
  CHECK(a["bf16_gflops"].get<double>() < 0.5 * a["fp32_gflops"].get<double>());

  const auto refused = testing::run_command(kCli + " info");
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.output, Contains("--model DIR") && Contains("--cpu"));
}

TEST_CASE("info --cpu --json-out: the printed rates and the written JSON are one reading", "[unit][precision][cli]") {
  const auto path = (testing::scratch_dir("info_cpu") / "cpu.json").string();
  const auto r = testing::run_command(kCli + " info --cpu --threads 1 --json-out " + path);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(testing::read_file(path));
  // The text truncates each rate to whole GFLOP/s; a second measurement would rarely land on both same integers.
  const auto whole = [&](const char* key) { return std::to_string(static_cast<int>(j[key].get<double>())); };
  CHECK_THAT(r.output, Contains("products: fp32 " + whole("fp32_gflops") + " GFLOP/s, bf16 " + whole("bf16_gflops") +
                                " GFLOP/s"));
  CHECK(j["cpu"].get<std::string>() == cpu_info().model);
  CHECK(j["threads"].get<int>() == 1);

  const auto refused = testing::run_command(kCli + " info --json-out " + path);
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.output, Contains("--json-out") && Contains("--cpu"));
}
