// The Catch2 main of the test binaries, with counted skips. Catch2 2.x has no SKIP(): a test that cannot run (shared
// data, a Python package, a GPU missing) says WARN("SKIPPED: <what> did not run: <why>") and returns. Under ctest
// (tests/CMakeLists.txt sets DISTILBERT_TEST_SKIP_CODE) such a test case, when nothing in it failed, exits with that
// code, which ctest's SKIP_RETURN_CODE reports as "Skipped" and counts apart from the passed tests; a test that
// skipped only a part of its checks is reported skipped too, so that the missing part is visible. Run by hand, the
// binaries exit 0 as usual and print the warnings.
#define CATCH_CONFIG_RUNNER
// Messages on one line (Catch2 wraps at 80 columns by default), so that a skip's reason or a failure's context is
// one grep-able line in ctest's logs (scripts/test.sh lists the skip reasons from them).
#define CATCH_CONFIG_CONSOLE_WIDTH 400
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace {

bool g_skipped = false;

struct SkipListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    const auto& result = stats.assertionResult;
    if (result.getResultType() == Catch::ResultWas::Warning && result.getMessage().rfind("SKIPPED:", 0) == 0)
      g_skipped = true;
    return true;
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(SkipListener)

int main(int argc, char* argv[]) {
  const int result = Catch::Session().run(argc, argv);
  const char* skip_code = std::getenv("DISTILBERT_TEST_SKIP_CODE");
  if (result == 0 && g_skipped && skip_code && *skip_code) return std::atoi(skip_code);
  return result;
}
