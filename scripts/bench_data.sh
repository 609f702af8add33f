#!/usr/bin/env bash
# Data pipeline benchmark: binarize throughput (MB/s of raw text, 1 thread and all threads) on WikiText-2 valid+test
# and the GLUE SST-2 train sentences, then masked-batch preparation (collate + dynamic MLM masking) for 8 x 128 and
# 5 x 512 batches. Prints the thread counts it used.
#   scripts/bench_data.sh [--data DIR] [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
THREADS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) echo "usage: scripts/bench_data.sh [--data DIR] [--threads N]" >&2; exit 2 ;;
  esac
done
for f in "$DATA/bert-base-uncased/vocab.txt" "$DATA/text/wikitext-2/valid.txt" "$DATA/glue/SST-2/train.tsv"; do
  [ -f "$f" ] || { echo "error: '$f' not found: pass --data DIR with bert-base-uncased/, text/wikitext-2/ and glue/SST-2/" >&2; exit 1; }
done
BUILD_DIR=${BUILD_DIR:-build}
[ -f "$BUILD_DIR/CMakeCache.txt" ] || scripts/setup.sh
cmake --build "$BUILD_DIR" --target bench_data -j "${JOBS:-$(nproc)}" >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "[bench_data] $(nproc) CPUs, $(lscpu 2>/dev/null | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2}')"
"$BUILD_DIR/bin/bench_data" "$DATA" "$THREADS" "$WORK"
