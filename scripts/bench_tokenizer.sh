#!/usr/bin/env bash
# Tokenizer benchmark: encoding throughput (MB/s and tokens/s) of our C++ BertTokenizer (bert-base-uncased,
# 1 thread and N threads) and of HF tokenizers (the Rust fast tokenizer, through its Python binding: encode on 1
# thread, encode_batch on N) on the same real English text in the same run -- GLUE SST-2 train sentences and
# WikiText-2 valid lines -- and the ratios.
# Each side is timed --repeat times (default 3) and the best run is kept (the machine may be shared).
#   scripts/bench_tokenizer.sh [--data DIR] [--threads N] [--repeat R]
# Needs: a configured build (scripts/setup.sh) and the project's Python environment (scripts/venv.sh); without it
# the C++ numbers are still printed.
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
PY=.venv/bin/python
if "$PY" -c "import tokenizers" 2>/dev/null; then
  echo "[bench_tokenizer] HF tokenizers (encode on 1 thread; encode_batch on $THREADS threads)"
  "$PY" scripts/tokenizer/bench_hf.py --data "$DATA" --repeat "$REPEAT" --threads "$THREADS" | tee -a "$OUT" | grep -v '^RESULT'
else
  echo "[bench_tokenizer] HF tokenizers not found in $PY (scripts/venv.sh installs it); C++ numbers only"
fi

echo
echo "[bench_tokenizer] summary: MB/s of UTF-8 text and million tokens/s (incl. [CLS]/[SEP]) in wall-clock time of the"
echo "  best run; ratio = against HF tokenizers with the same thread count; cpu-ratio = the same per CPU-second (robust on a busy machine)"
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
      for (t = 1; t <= 2; t++) {
        th = t == 1 ? 1 : cppth[ds]
        if (t == 2 && !(ds in cppth)) continue
        k = "hf" SUBSEP ds SUBSEP th
        base = (k in mbs) ? mbs[k] : 0
        cbase = (k in mbs) ? cpumbs[k] : 0
        if (base) row(ds, "HF tokenizers, " th " thread(s)", k, base, cbase)
        row(ds, "C++ BertTokenizer, " th " thread(s)", "cpp" SUBSEP ds SUBSEP th, base, cbase)
      }
      if (("hf" SUBSEP ds) in ntok && ntok["hf" SUBSEP ds] != ntok["cpp" SUBSEP ds])
        printf "%-16s note: token counts differ (C++ %d, HF tokenizers %d)\n", ds, ntok["cpp" SUBSEP ds], ntok["hf" SUBSEP ds]
    }
  }' "$OUT"
