#!/usr/bin/env bash
# Distillation step throughput and peak memory: our `distilbert distill` against the Python/PyTorch eager distiller
# of the reference (scripts/bench_distill_reference.py), side by side on the same LibTorch version (Debian's 1.13
# in both), the same threads, the same models and batch shape, alternating runs.
#   Pairs: base  = BERT-base teacher (12x768) -> DistilBERT-base student (6x768), batch 8 x 128
#          small = configs/tiny-bert.json (4x64) -> configs/tiny-distilbert.json (2x64), batch 8 x 128
#   Both:  bert-base-uncased vocabulary (30,522), random init, dropout 0.1, alphas ce 5 / mlm 2 / cos 1, T 2,
#          KL over every token (restrict_ce_to_mask false), AdamW step every micro-step (grad_accum 1).
#   Ours reads WikiText-2 joined into long lines and chunked to 128 tokens (full sequences, like the reference's
#   random full batches); tokens/s is the median over the timed steps of metrics.jsonl, after the warm-up steps.
#   Peak memory: maximum resident set of each whole process (/usr/bin/time), models and optimizer state included.
#   Heap: our CLI keeps freed memory in the C heap (core/runtime.h keep_freed_memory); Python's default glibc malloc
#   returns every large tensor to the kernel, and its next one comes back as fresh pages to fault in, which costs
#   ~3 ms per MB on some VMs. --ref-heap kept runs the reference again with the same setting through glibc's
#   environment (MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1 GiB), as "python+heap": the ratio to that one is
#   what the compute alone gains. Default: both.
#   The limit: before the runs the script prints `distilbert info --cpu` (this CPU's flags and its measured rate for
#   a lone 1024^3 product in fp32 and bf16; in fp32 the better of LibTorch's BLAS and, in a 2.x build, oneDNN's
#   linear: docs/PRECISION.md, "Linear products") and measures that rate again after each of our runs; after each
#   of our rates a "limit" line gives the tokens/s that the best reading so far allows for the pair's matrix products
#   (teacher forward + 3 x student forward, seq 128) and ours as a % of it. On a shared machine a reading can catch
#   a neighbour's load (one read 104 GFLOP/s where the next read 195): the best one is the hardware's.
#   Where bf16 products are slow (docs/PRECISION.md) the bf16 runs are skipped, naming why.
#   --profile: one more run of ours per pair and precision with the operator profile (trainer.profile_steps) of the
#   steps after the warm-up, which splits the gap to the limit in two. A "products" line gives the tokens/s that the
#   step's own matrix products allow (ATen's mm, addmm and bmm, oneDNN's linear (model/linear.h) and
#   model/head_products.h's threaded loops, their self time per step, at the rate they reached on the step's
#   shapes), and ours as a % of it: what the rest of the step costs. The profile's 12 largest operators follow it,
#   after a line that says how many MiB of fresh pages the profiled run faulted in beyond the timed one (the
#   profiler changes how the heap is reused, and the products' or other operators' times then include zeroing those
#   pages; docs/PRECISION.md, "Reading the operator profile").
#
#   scripts/bench_distill.sh [--data DIR] [--pairs small,base] [--precisions fp32,bf16] [--steps S] [--warmup W]
#                            [--threads N] [--repeat R] [--bin PATH] [--ref-heap default|kept|both] [--python PATH]
#                            [--profile]
#   --bin times an already built CLI (another build, an older commit) instead of building build/bin/distilbert.
#   --python runs the reference with another Python: both sides on LibTorch 2.x is
#     --bin build-torch2/bin/distilbert --python .venv/bin/python (the torch wheel the 2.x build compiles against).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
PAIRS=small,base
PRECISIONS=fp32,bf16
STEPS=4
WARMUP=2
THREADS=$(nproc)
REPEAT=1
REF_HEAP=both
B=
PYREF=/usr/bin/python3
PROFILE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --precisions) PRECISIONS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --bin) B=$2; shift 2 ;;
    --ref-heap) REF_HEAP=$2; shift 2 ;;
    --python) PYREF=$2; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    *) sed -n '2,/^set -e/{/^set -e/!p}' "$0" >&2; exit 2 ;;
  esac
done
case "$REF_HEAP" in
  default|kept|both) ;;
  *) echo "error: --ref-heap must be default, kept or both, got '$REF_HEAP'" >&2; exit 2 ;;
esac
for f in "$DATA/bert-base-uncased/vocab.txt" "$DATA/text/wikitext-2/valid.txt"; do
  [ -f "$f" ] || { echo "error: '$f' not found: pass --data DIR with bert-base-uncased/ and text/wikitext-2/" >&2; exit 1; }
done
"$PYREF" -c "import torch" 2>/dev/null || { echo "error: the reference needs a Python with torch: $PYREF has none (Debian: apt-get install python3-torch)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
if [ -z "$B" ]; then
  BUILD_DIR=${BUILD_DIR:-build}
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || scripts/setup.sh
  cmake --build "$BUILD_DIR" --target distilbert -j "${JOBS:-$(nproc)}" >/dev/null
  B=$BUILD_DIR/bin/distilbert
fi
# OpenMP threads that spin while waiting steal the CPU from the working thread whenever anything else runs (a build,
# our data thread); passive waiting for both sides keeps shared-machine figures meaningful (OMP_WAIT_POLICY to change).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# WikiText-2 with every 40 lines joined: lines of thousands of tokens, so nearly every chunk is a full 128.
awk 'NF { line = line " " $0; if (++n % 40 == 0) { print line; line = "" } } END { if (line != "") print line }' \
  "$DATA/text/wikitext-2/valid.txt" > "$WORK/text.txt"
TOTAL_STEPS=$((WARMUP + STEPS))
echo "[bench_distill] OMP_WAIT_POLICY=$OMP_WAIT_POLICY, $(nproc) CPUs ($(lscpu 2>/dev/null | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2}')), $THREADS threads, reference torch $("$PYREF" -c 'import torch; print(torch.__version__)') ($PYREF), CLI $B, batch 8 x 128, $WARMUP warm-up + $STEPS timed steps"
# The hardware's limit: this CPU's measured rate for a lone 1024^3 product (distilbert info --cpu) against the
# matrix-product work of one distillation token (teacher forward + student forward and backward, seq 128).
# One measurement both printed and kept as JSON; a CLI older than --json-out (--bin) measures twice.
if "$B" info --help 2>/dev/null | grep -q -- --json-out; then
  "$B" info --cpu --threads "$THREADS" --json-out "$WORK/cpu.json" | sed 's/^/[bench_distill] /'
else
  $B info --cpu --json --threads "$THREADS" > "$WORK/cpu.json"
  "$B" info --cpu --threads "$THREADS" | sed 's/^/[bench_distill] /'
fi
# Another reading of the rates into cpu.<n>.json; rate PREC prints the best reading of PREC's so far.
LIMIT_READINGS=0
read_limit() { LIMIT_READINGS=$((LIMIT_READINGS + 1)); $B info --cpu --json --threads "$THREADS" > "$WORK/cpu.$LIMIT_READINGS.json"; }
rate() { sed -nE "s/.*\"$1_gflops\": ([0-9.eE+-]+).*/\1/p" "$WORK"/cpu*.json | sort -g | tail -1; }
if grep -q '"bf16_fast": false' "$WORK/cpu.json" && [[ ",$PRECISIONS," == *,bf16,* ]]; then
  echo "[bench_distill] skipping bf16: this CPU has no fast bf16 matrix products (distill would run fp32, the reference crawls)"
  PRECISIONS=$(echo ",$PRECISIONS," | sed 's/,bf16,/,/g; s/^,//; s/,$//')
fi
# GFLOP of matrix products per token (scripts/distill_gflop.py).
gflop_per_token() { /usr/bin/python3 scripts/distill_gflop.py "$1" "$2"; }
printf "%-6s %-5s %-14s %12s %10s %14s\n" pair prec impl tokens/s step_s peak_RSS_MiB
for pair in ${PAIRS//,/ }; do
  case "$pair" in
    base) TCONF=configs/bert-base-uncased.json; SCONF=configs/distilbert-base-uncased.json; LAYERS=0,2,4,7,9,11 ;;
    small) TCONF=configs/tiny-bert.json; SCONF=configs/tiny-distilbert.json; LAYERS=0,2 ;;
    *) echo "error: unknown pair '$pair' (small | base)" >&2; exit 2 ;;
  esac
  rm -rf "$WORK/teacher" "$WORK/student" "$WORK/wiki"*
  $B init --config "$TCONF" --head mlm --tokenizer "$DATA/bert-base-uncased" --output "$WORK/teacher" >/dev/null 2>&1
  $B init-student --teacher "$WORK/teacher" --config "$SCONF" --layers $LAYERS --output "$WORK/student" >/dev/null 2>&1
  $B binarize --tokenizer "$WORK/teacher" --input "$WORK/text.txt" --output "$WORK/wiki" >/dev/null 2>&1
  cat > "$WORK/recipe.yaml" <<YAML
teacher: {model: $WORK/teacher}
student: {model: $WORK/student}
data: {train: $WORK/wiki, max_seq_len: 128, batch_size: 8, batching: random}
loss: {temperature: 2.0, alpha_ce: 5.0, alpha_mlm: 2.0, alpha_mse: 0.0, alpha_cos: 1.0, restrict_ce_to_mask: false}
trainer: {max_steps: $TOTAL_STEPS, grad_accum_steps: 1, log_every: 1, save_every: 0, progress: false, tensorboard: false}
YAML
  for prec in ${PRECISIONS//,/ }; do
    for r in $(seq "$REPEAT"); do
      rm -rf "$WORK/run"
      /usr/bin/time -f "%R %M" -o "$WORK/ours.rss" $B distill --recipe "$WORK/recipe.yaml" output_dir="$WORK/run" \
        threads="$THREADS" precision="$prec" > "$WORK/ours.log" 2>&1 || { cat "$WORK/ours.log" >&2; exit 1; }
      ours=$(/usr/bin/python3 scripts/metrics_median.py "$WORK/run/metrics.jsonl" tokens_per_s "$WARMUP")
      read -r ours_faults ours_rss < <(tail -1 "$WORK/ours.rss")
      ours_rss=$((ours_rss / 1024))
      read_limit
      printf "%-6s %-5s %-14s %12.0f %10.2f %14d\n" "$pair" "$prec" distilbert "$ours" \
        "$(awk -v a="$ours" 'BEGIN { print 1024 / a }')" "$ours_rss"
      awk -v p="$pair" -v q="$prec" -v a="$ours" -v g="$(gflop_per_token "$TCONF" "$SCONF")" -v r="$(rate "$prec")" \
        -v n=$((LIMIT_READINGS + 1)) 'BEGIN {
        printf "%-6s %-5s %-14s %12.0f %10s %13.0f%%  (%.3f GFLOP/token at %.0f GFLOP/s, the best 1024^3 %s product of %d readings)\n",
          p, q, "limit", r / g, "", 100 * a * g / r, g, r, q, n }'
      for heap in default kept; do
        [ "$REF_HEAP" = both ] || [ "$REF_HEAP" = "$heap" ] || continue
        env_heap=()
        name=python-eager
        [ "$heap" = kept ] && env_heap=(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824) && name=python+heap
        env "${env_heap[@]}" /usr/bin/time -f "%M" -o "$WORK/ref.rss" "$PYREF" \
          scripts/bench_distill_reference.py --teacher-config "$TCONF" --student-config "$SCONF" \
          --threads "$THREADS" --steps "$STEPS" --warmup "$WARMUP" --precision "$prec" \
          > "$WORK/ref.json" 2> "$WORK/ref.log" || { cat "$WORK/ref.log" >&2; exit 1; }
        ref=$(sed -nE 's/.*"tokens_per_s": ([0-9.eE+-]+).*/\1/p' "$WORK/ref.json")
        ref_rss=$(( $(tail -1 "$WORK/ref.rss") / 1024 ))
        awk -v p="$pair" -v q="$prec" -v n="$name" -v a="$ours" -v b="$ref" -v ra="$ours_rss" -v rb="$ref_rss" 'BEGIN {
          printf "%-6s %-5s %-14s %12.0f %10.2f %14d\n", p, q, n, b, 1024 / b, rb
          printf "%-6s %-5s %-14s %11.2fx %10s %13.2fx\n", p, q, "ratio", a / b, "", ra / rb }'
        echo "$pair $prec $ours $ref $ours_rss $ref_rss $heap" >> "$WORK/results.txt"
      done
    done
    if [ "$PROFILE" = 1 ]; then
      rm -rf "$WORK/run"
      /usr/bin/time -f "%R %M" -o "$WORK/prof.rss" $B distill --recipe "$WORK/recipe.yaml" output_dir="$WORK/run" \
        threads="$THREADS" precision="$prec" trainer.profile_steps="$STEPS" trainer.profile_start="$WARMUP" \
        > "$WORK/ours.log" 2>&1 || { cat "$WORK/ours.log" >&2; exit 1; }
      # The products' self time changes less under the profiler than the thousands of short operators around them
      # (a few hundred calls a step, each milliseconds long), so the split is taken against the median step of the
      # timed run above (the last repeat's), not the profiled one. It can still include zeroing fresh pages: the
      # line after it says how many.
      awk -v p="$pair" -v q="$prec" -v n="$STEPS" -v a="$ours" -v g="$(gflop_per_token "$TCONF" "$SCONF")" '
        $1 == "aten::mm" || $1 == "aten::addmm" || $1 == "aten::bmm" || $1 == "distilbert::head_products" ||
        $1 == "mkldnn::_linear_pointwise" { mm += $2 }
        $1 == "traced" { total = $4 }
        END { if (!total || !mm) { print "error: no product times in profile.txt" > "/dev/stderr"; exit 1 }
              step = 1024 / a * 1000; mm /= n
              printf "%-6s %-5s %-14s %12.0f %10s %13.0f%%  (the step'"'"'s own products alone: %.0f ms of its %.0f ms, at %.0f GFLOP/s)\n",
                p, q, "products", 1024 / (mm / 1000), "", 100 * mm / step, mm, step, g * 1024 / (mm / 1000) }' \
        "$WORK/run/profile.txt"
      # Under the profiler the freed heap blocks are not reused as they are without it: the same steps fault in
      # fresh pages, whose cost lands on whichever operator first writes them (docs/PRECISION.md, "Reading the
      # operator profile"). Say how much, from the minor page faults of this run against the timed one's.
      read -r prof_faults prof_rss < <(tail -1 "$WORK/prof.rss")
      awk -v n="$STEPS" -v pg="$(getconf PAGESIZE)" -v fp="$prof_faults" -v fo="$ours_faults" -v rp="$prof_rss" -v ro="$ours_rss" 'BEGIN {
        printf "[bench_distill] the profiled run faulted in %.0f MiB more pages than the timed run (%.0f MiB a step;",
          (fp - fo) * pg / 2^20, (fp - fo) * pg / 2^20 / n
        printf " peak RSS %d against %d MiB): the products line above and the operators below include that cost\n",
          rp / 1024, ro }'
      echo "[bench_distill] $pair $prec: the profiled run's operators by self time, over its $STEPS timed steps:"
      head -n 13 "$WORK/run/profile.txt" | sed 's/^/  /'
    fi
  done
done
# Against the reference in fp32 (what the original distiller runs on a CPU: its mixed precision is apex, GPU only).
if grep -q " bf16 " "$WORK/results.txt" && grep -q " fp32 " "$WORK/results.txt"; then
  for pair in ${PAIRS//,/ }; do
    for heap in default kept; do
      awk -v p="$pair" -v h="$heap" '$1 == p && $7 == h && $2 == "fp32" { f = $4 } $1 == p && $2 == "bf16" { o = $3 }
        END { if (f && o) printf "[bench_distill] %s: distilbert bf16 vs %s fp32: %.2fx\n", p,
              (h == "kept" ? "python+heap" : "python-eager"), o / f }' "$WORK/results.txt"
    done
  done
fi
