#!/usr/bin/env bash
# Install what the build needs from Debian's packages (only what is missing), the project's Python environment from
# PyPI (scripts/venv.sh: ONNX Runtime and HF's libraries, pinned in requirements.txt), then configure and build a
# Release build in build/. Idempotent: with everything present it only runs an incremental build.
#   scripts/setup.sh                 # packages + build
#   BUILD_DIR=build-asan CMAKE_ARGS="-DDISTILBERT_SANITIZE=ON" scripts/setup.sh
# A CUDA LibTorch 2.x: CMAKE_ARGS="-DCMAKE_PREFIX_PATH=/path/to/libtorch" scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libopenblas0-openmp     # fp32 matmuls ~13x faster than Debian's default reference BLAS
  nlohmann-json3-dev libcli11-dev catch2 libyaml-cpp-dev libsentencepiece-dev libutf8proc-dev zlib1g-dev
  libonnx-dev libprotobuf-dev   # ONNX export built with the real ONNX library
  curl unzip                    # scripts/download_model.sh and scripts/download_glue.sh
  libgloo-dev                   # headers of the Gloo library that LibTorch's c10d ProcessGroupGloo uses (data parallel)
  python3-torch python3-numpy   # the Python reference that cross-checks our numbers in the tests
  python3-venv                  # scripts/venv.sh
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch calls whatever libblas.so.3 the alternatives system selects; make sure it is OpenBLAS.
blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/{print $2}')
case "$blas" in
  *openblas*) ;;
  *) echo "[setup] warning: libblas.so.3 points to '${blas:-unknown}', not OpenBLAS: fp32 will be slow" >&2 ;;
esac

# The Python environment; without PyPI the checks that need it skip and say why.
scripts/venv.sh || echo "[setup] warning: no Python environment (.venv): the ONNX Runtime checks will be skipped" >&2

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
fi
echo "[setup] building in $BUILD_DIR with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS" 2>&1 | grep -E "error|warning:|Built target distilbert$" || true
test -x "$BUILD_DIR/bin/distilbert" || { echo "[setup] build failed" >&2; exit 1; }
echo "[setup] ready: $BUILD_DIR/bin/distilbert"
