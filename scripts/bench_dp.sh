#!/usr/bin/env bash
# Data-parallel scaling on this machine: the same distillation (same global batch, same steps) as 1 process with
# N threads and as N processes with 1 thread each over c10d Gloo on loopback, side by side, repeated; prints
# tokens/s of each and the ratio (scaling efficiency = 2-process rate / 1-process rate at equal total threads).
# Models: a 4-layer/256-wide BERT teacher and a 2-layer student (--size small, default) or BERT-base and
# DistilBERT-base (--size base); random init, bert-base-uncased vocabulary, WikiText-2 text.
#   scripts/bench_dp.sh [--data DIR] [--procs N] [--steps S] [--size small|base] [--repeat R]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
PROCS=2
STEPS=6
SIZE=small
REPEAT=2
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --procs) PROCS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    *) echo "usage: scripts/bench_dp.sh [--data DIR] [--procs N] [--steps S] [--size small|base] [--repeat R]" >&2; exit 2 ;;
  esac
done
for f in "$DATA/bert-base-uncased/vocab.txt" "$DATA/text/wikitext-2/valid.txt"; do
  [ -f "$f" ] || { echo "error: '$f' not found: pass --data DIR with bert-base-uncased/ and text/wikitext-2/" >&2; exit 1; }
done
BUILD_DIR=${BUILD_DIR:-build}
[ -f "$BUILD_DIR/CMakeCache.txt" ] || scripts/setup.sh
cmake --build "$BUILD_DIR" --target distilbert -j "${JOBS:-$(nproc)}" >/dev/null
B=$BUILD_DIR/bin/distilbert
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ "$SIZE" = base ]; then
  TCONF=configs/bert-base-uncased.json; SCONF=configs/distilbert-base-uncased.json; LAYERS=0,2,4,7,9,11; BATCH=8
else
  printf '{"model_type":"bert","vocab_size":30522,"hidden_size":256,"num_hidden_layers":4,"num_attention_heads":4,"intermediate_size":1024,"max_position_embeddings":512}\n' > "$WORK/t.json"
  printf '{"model_type":"distilbert","vocab_size":30522,"dim":256,"n_layers":2,"n_heads":4,"hidden_dim":1024,"max_position_embeddings":512}\n' > "$WORK/s.json"
  TCONF=$WORK/t.json; SCONF=$WORK/s.json; LAYERS=0,2; BATCH=16
fi
$B init --config "$TCONF" --head mlm --tokenizer "$DATA/bert-base-uncased" --output "$WORK/teacher" >/dev/null 2>&1
$B init-student --teacher "$WORK/teacher" --config "$SCONF" --layers $LAYERS --output "$WORK/student" >/dev/null 2>&1
head -3000 "$DATA/text/wikitext-2/valid.txt" > "$WORK/text.txt"
$B binarize --tokenizer "$WORK/teacher" --input "$WORK/text.txt" --output "$WORK/wiki" >/dev/null 2>&1
CPUS=$(nproc)
cat > "$WORK/recipe.yaml" <<YAML
teacher: {model: $WORK/teacher}
student: {model: $WORK/student}
data: {train: $WORK/wiki, max_seq_len: 128, batching: random}
trainer: {max_steps: $STEPS, grad_accum_steps: 1, log_every: 1, save_every: 0, progress: false, tensorboard: false}
YAML
echo "[bench_dp] $CPUS CPUs ($(lscpu 2>/dev/null | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2}')), size $SIZE, global batch $BATCH x 128, $STEPS steps"
rate() { sed -nE 's/.*done: .*, ([0-9]+) tokens\/s.*/\1/p' "$1" | tail -1; }
for i in $(seq "$REPEAT"); do
  rm -rf "$WORK/run1" "$WORK/run2"
  OMP_WAIT_POLICY=passive $B distill --recipe "$WORK/recipe.yaml" output_dir="$WORK/run1" threads=$CPUS \
    data.batch_size=$BATCH > "$WORK/one.log" 2>&1
  OMP_WAIT_POLICY=passive $B launch --nproc-per-node "$PROCS" -- distill --recipe "$WORK/recipe.yaml" \
    output_dir="$WORK/run2" threads=$((CPUS / PROCS > 0 ? CPUS / PROCS : 1)) data.batch_size=$((BATCH / PROCS)) \
    > "$WORK/two.log" 2>&1
  R1=$(rate "$WORK/one.log"); R2=$(rate "$WORK/two.log")
  awk -v a="$R1" -v b="$R2" -v p="$PROCS" -v c="$CPUS" -v i="$i" 'BEGIN {
    printf "[bench_dp] run %d: 1 process x %d threads: %d tokens/s | %d processes x %d thread(s): %d tokens/s | ratio %.2f\n",
      i, c, a, p, (c / p >= 1 ? c / p : 1), b, b / a }'
done
