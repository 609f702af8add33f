#!/usr/bin/env bash
# The whole C++ suite built with AddressSanitizer + UndefinedBehaviorSanitizer (DISTILBERT_SANITIZE=ON, gcc,
# RelWithDebInfo) in build-asan, then run through ctest: every test, the CLI subprocesses they start included, runs
# under the sanitizers; any report fails its test. LibTorch itself is not instrumented (Debian's build).
#   scripts/sanitize.sh                 # configure + build + run everything (long: a clean build is ~2x the normal one)
#   scripts/sanitize.sh -R tokenizer    # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDISTILBERT_SANITIZE=ON >/dev/null
fi
echo "[sanitize] building in $BUILD_DIR"
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target distilbert test_tokenizer test_tasks test_core 2>&1 |
  grep -E "error|Built target (distilbert|test_)" || true
# halt_on_error + abort: a report fails the test instead of scrolling by. Leak checking stays on; the suppressions
# name only allocations LibTorch / OpenMP keep for the life of the process.
export ASAN_OPTIONS="abort_on_error=1:halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/sanitize/ubsan.supp"
cd "$BUILD_DIR"
start=$(date +%s)
set +e
ctest --output-on-failure -j "${CTEST_JOBS:-2}" --timeout 1500 "$@" 2>&1 | tee sanitize-ctest.log | tail -40
rc=${PIPESTATUS[0]}
set -e
summary=$(grep -E "tests passed|tests failed" sanitize-ctest.log | tail -1)
echo "[sanitize] $(date -u +%F) ${summary:-no summary} in $(( $(date +%s) - start )) s (rc $rc)" | tee sanitize-summary.txt
exit "$rc"
