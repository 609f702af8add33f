#!/usr/bin/env bash
# The carry kit for scripts/gpu_check.sh: the Debian packages the build needs beside LibTorch (headers, CMake and
# pkg-config files, shared libraries), downloaded as .deb files into .gpu-kit/ (git-ignored, about 6 MB). A lent GPU
# machine reaches no package registry; the device tool carries this folder there (carry: [".gpu-kit"]) and
# gpu_check.sh unpacks it into a private prefix. Run here, once, before the device call.
#   scripts/gpu_kit.sh [--dir .gpu-kit]
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.gpu-kit
[ "${1:-}" = "--dir" ] && DIR=$2
PACKAGES=(
  nlohmann-json3-dev libcli11-dev catch2                        # header-only
  libyaml-cpp-dev libyaml-cpp0.7 libutf8proc-dev libutf8proc2 zlib1g-dev
  libsentencepiece-dev libsentencepiece0                       # loaded at run time by the tokenizer
  libonnx-dev libonnx1 libonnxifi libprotobuf-dev libprotobuf32 # ONNX export (its CMake targets name libonnxifi)
  libgloo-dev                                                   # headers for c10d's ProcessGroupGloo
  pkgconf pkgconf-bin libpkgconf3                               # where the machine has no pkg-config
)
rm -rf "$DIR"
mkdir -p "$DIR"
# apt-get download runs as the _apt user where it can; a folder it cannot write makes it warn and go on as root.
(cd "$DIR" && apt-get download "${PACKAGES[@]}" 2>&1 | grep -vE "^(Get|Fetched)|unsandboxed" || true)
n=$(ls "$DIR"/*.deb 2>/dev/null | wc -l)
[ "$n" -eq "${#PACKAGES[@]}" ] || { echo "gpu_kit: expected ${#PACKAGES[@]} .deb files in $DIR, found $n" >&2; exit 1; }
echo "[gpu_kit] $n packages, $(du -sh "$DIR" | cut -f1) in $DIR"
