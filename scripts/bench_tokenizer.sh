#!/usr/bin/env bash
# Tokenizer benchmark: encoding throughput (MB/s and tokens/s) of our C++ BertTokenizer (bert-base-uncased,
# 1 thread and N threads) and of transformers.js's BertTokenizer (JavaScript, 1 thread) on the same real
# English text in the same run -- GLUE SST-2 train sentences and WikiText-2 valid lines -- and the ratios.
# Each side is timed --repeat times (default 3) and the best run is kept (the machine may be shared).
#   scripts/bench_tokenizer.sh [--data DIR] [--threads N] [--repeat R]
# Needs: a configured build (scripts/setup.sh), node >= 18 and scripts/tokenizer/node_modules
# (cd scripts/tokenizer && npm install --ignore-scripts); without node the C++ numbers are still printed.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
THREADS=0
REPEAT=3
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    *) echo "usage: scripts/bench_tokenizer.sh [--data DIR] [--threads N] [--repeat R]" >&2; exit 2 ;;
  esac
done
for f in "$DATA/bert-base-uncased/tokenizer.json" "$DATA/text/wikitext-2/valid.txt" "$DATA/glue/SST-2/train.tsv"; do
  [ -f "$f" ] || { echo "error: '$f' not found: pass --data DIR with bert-base-uncased/, text/wikitext-2/ and glue/SST-2/" >&2; exit 1; }
done
[ "$THREADS" = 0 ] && THREADS=$(nproc)
BUILD_DIR=${BUILD_DIR:-build}
[ -f "$BUILD_DIR/CMakeCache.txt" ] || scripts/setup.sh
cmake --build "$BUILD_DIR" --target bench_tokenizer -j "${JOBS:-$(nproc)}" >/dev/null

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
cpu=$(lscpu 2>/dev/null | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2}')
echo "[bench_tokenizer] $(nproc) CPUs ($cpu), load average $(cut -d' ' -f1-3 /proc/loadavg); best of $REPEAT runs"
echo "[bench_tokenizer] C++ BertTokenizer (encode on 1 thread; encode_batch on $THREADS threads)"
"$BUILD_DIR/bin/bench_tokenizer" --data "$DATA" --threads "$THREADS" --repeat "$REPEAT" | tee -a "$OUT" | grep -v '^RESULT'
if command -v node >/dev/null && [ -d scripts/tokenizer/node_modules/@huggingface/transformers ]; then
  echo "[bench_tokenizer] transformers.js BertTokenizer (node $(node --version), 1 thread)"
  node scripts/tokenizer/bench_tjs.mjs --data "$DATA" --repeat "$REPEAT" | tee -a "$OUT" | grep -v '^RESULT'
else
  echo "[bench_tokenizer] transformers.js not found (needs node and: cd scripts/tokenizer && npm install --ignore-scripts);" \
       "C++ numbers only"
fi

echo
echo "[bench_tokenizer] summary: MB/s of UTF-8 text and million tokens/s (incl. [CLS]/[SEP]) in wall-clock time of the"
echo "  best run; ratio = C++ / transformers.js (1 thread); cpu-ratio = the same per CPU-second (robust on a busy machine)"
awk '
  function ratio(x, base) { return base > 0 ? sprintf("%.1fx", x / base) : "-" }
  $1 == "RESULT" {
    impl = $2; ds = $3; th = $4; key = impl SUBSEP ds SUBSEP th
    mbs[key] = $6 / 1e6 / $8; tok[key] = $7 / 1e6 / $8; ntok[impl SUBSEP ds] = $7
    cpumbs[key] = $9 > 0 ? $6 / 1e6 / $9 : 0
    if (!(ds in seen)) { seen[ds] = 1; order[++n] = ds }
    if (impl == "cpp" && th > 1) cppth[ds] = th
  }
  function row(ds, label, k, base, cbase) {
    printf "%-16s %-34s %8.2f %8.3f %7s %10.2f %9s\n", ds, label, mbs[k], tok[k], ratio(mbs[k], base), cpumbs[k], ratio(cpumbs[k], cbase)
  }
  END {
    printf "%-16s %-34s %8s %8s %7s %10s %9s\n", "data", "implementation", "MB/s", "Mtok/s", "ratio", "MB/CPU-s", "cpu-ratio"
    for (i = 1; i <= n; i++) {
      ds = order[i]
      k = "tjs" SUBSEP ds SUBSEP 1
      base = (k in mbs) ? mbs[k] : 0
      cbase = (k in mbs) ? cpumbs[k] : 0
      if (base) row(ds, "transformers.js, 1 thread", k, base, cbase)
      row(ds, "C++ BertTokenizer, 1 thread", "cpp" SUBSEP ds SUBSEP 1, base, cbase)
      if (ds in cppth) row(ds, "C++ BertTokenizer, " cppth[ds] " threads", "cpp" SUBSEP ds SUBSEP cppth[ds], base, cbase)
      if (base && ntok["tjs" SUBSEP ds] != ntok["cpp" SUBSEP ds])
        printf "%-16s note: token counts differ (C++ %d, transformers.js %d; see scripts/tokenizer/README.md)\n", ds, ntok["cpp" SUBSEP ds], ntok["tjs" SUBSEP ds]
    }
  }' "$OUT"
