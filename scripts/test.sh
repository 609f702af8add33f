#!/usr/bin/env bash
# The README's test command: set up (packages, the Python environment, the build), then run the whole suite:
#   1. the Python reference's own self-tests (Debian's python3-torch 1.13),
#   2. the CPU-portability pass: the numerics, the ONNX Runtime checks and the reference self-tests again with
#      LibTorch's and oneDNN's AVX2 kernels and numpy's without AVX-512, which is what a CPU without AVX-512 runs
#      (docs/PRECISION.md), so that a test that holds on one kind of CPU only fails on every machine,
#   3. every C++ test through ctest against Debian's LibTorch 1.13 (build/),
#   4. the same suite against LibTorch 2.11 from the torch wheel in .venv (build-torch2/; skipped, saying so, where the
#      environment has no torch).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# ctest in a build folder; then the reason of every test case ctest reports as Skipped (tests/support/catch_main.cpp).
run_ctest() {
  local status=0
  (cd "$1" && ctest --output-on-failure -j "$(nproc)" --timeout 600) || status=$?
  if grep -q "SKIPPED:" "$1/Testing/Temporary/LastTest.log" 2>/dev/null; then
    echo "[test] skipped checks, with their reasons:"
    grep -h "SKIPPED:" "$1/Testing/Temporary/LastTest.log" | sed 's/^ */  /' | sort | uniq -c
  fi
  return "$status"
}
BUILD_DIR=${BUILD_DIR:-build}
echo "[test] Python reference self-test"
(cd scripts && /usr/bin/python3 test_reference.py && /usr/bin/python3 test_distill_reference.py)

echo "[test] AVX2 emulation: reference self-tests and the numerics/ONNX Runtime tests on AVX2 kernels"
AVX2_ENV=(ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2
          NPY_DISABLE_CPU_FEATURES="AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL")
(cd scripts && env "${AVX2_ENV[@]}" /usr/bin/python3 test_reference.py > /dev/null &&
  env "${AVX2_ENV[@]}" /usr/bin/python3 test_distill_reference.py > /dev/null)
log=$BUILD_DIR/test-avx2.log
if ! env "${AVX2_ENV[@]}" "$BUILD_DIR/bin/test_core" "[golden],[loss],[dropout],[optim],[precision],[export],[loading]" \
    > "$log" 2>&1; then
  cat "$log"
  echo "[test] the AVX2 emulation pass failed (full output above, also in $log)" >&2
  exit 1
fi
grep -E "SKIPPED|All tests passed|test cases" "$log" || true

echo "[test] C++ suite against LibTorch 1.13 ($BUILD_DIR)"
run_ctest "$BUILD_DIR"

if ! prefix=$(.venv/bin/python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null); then
  echo "[test] SKIPPED: the LibTorch 2.x build: .venv has no torch (scripts/venv.sh installs it from PyPI)"
  exit 0
fi
echo "[test] C++ suite against LibTorch $(.venv/bin/python -c 'import torch; print(torch.__version__)') from the torch wheel (build-torch2)"
BUILD_DIR=build-torch2 CMAKE_ARGS="-DCMAKE_PREFIX_PATH=$prefix" scripts/setup.sh
run_ctest build-torch2
