// Counted skips (tests/support/catch_main.cpp): under ctest a test case that reports "SKIPPED: ..." and fails nothing
// exits with DISTILBERT_TEST_SKIP_CODE, which ctest counts as Skipped; a failure wins over a skip; by hand (no
// variable) the exit code is the usual one. Checked by running this binary on hidden test cases ([.] tags: never
// run by default, not listed for ctest).
#include <catch2/catch.hpp>

#include <filesystem>

#include "support/run_command.h"

TEST_CASE("skip report self-check: a test that skips", "[.skip_selftest]") { WARN("SKIPPED: the self-check skips"); }

TEST_CASE("skip report self-check: a test that skips and fails", "[.skip_selftest_fail]") {
  WARN("SKIPPED: the self-check skips");
  CHECK(1 == 2);
}

TEST_CASE("skip report: a skipped test case exits with ctest's skip code, a failure still fails", "[unit][skip]") {
  const std::string self = "'" + std::filesystem::read_symlink("/proc/self/exe").string() + "' ";
  using distilbert::testing::run_command;
  CHECK(run_command("DISTILBERT_TEST_SKIP_CODE=77 " + self + "'[.skip_selftest]'").exit_code == 77);
  CHECK(run_command("env -u DISTILBERT_TEST_SKIP_CODE " + self + "'[.skip_selftest]'").exit_code == 0);
  CHECK(run_command("DISTILBERT_TEST_SKIP_CODE=77 " + self + "'[.skip_selftest_fail]'").exit_code == 1);
  CHECK(run_command("DISTILBERT_TEST_SKIP_CODE=77 " + self + "'[.skip_selftest],[.skip_selftest_fail]'").exit_code == 1);
  CHECK(run_command("DISTILBERT_TEST_SKIP_CODE=77 " + self + "'DISTILBERT_CHECK: the message*'").exit_code == 0);
}
