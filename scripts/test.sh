#!/usr/bin/env bash
# The README's test command: set up (packages + build), then run the whole suite: the Python reference's own
# self-test and every C++ test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
echo "[test] Python reference self-test"
(cd scripts && /usr/bin/python3 test_reference.py && /usr/bin/python3 test_distill_reference.py)
echo "[test] C++ suite"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 600
