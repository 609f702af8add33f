#!/usr/bin/env bash
# The paper's Table 3 inference-speed comparison (a pass over STS-B dev at batch size 1 on CPU), at the real sizes:
# builds a BERT-base and a DistilBERT-base STS-B model (regression heads as in Table 3; random init, real
# architectures and the real bert-base-uncased tokenizer), checks the student against the independent Python
# reference when python3-torch is there, and times both on real sentence pairs, writing runs/table3/report.md.
# (This was the main job before the end-to-end demo; `scripts/run.sh --table3` still runs it.)
#   scripts/bench_table3.sh [--limit N] [--data DIR] [--threads N]      (build first: scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=200
DATA=../shared/data
THREADS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) LIMIT=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) echo "usage: scripts/bench_table3.sh [--limit N] [--data DIR] [--threads N]" >&2; exit 2 ;;
  esac
done
BIN=${BIN:-build/bin/distilbert}
[ -x "$BIN" ] || { echo "error: '$BIN' not found: build first (scripts/setup.sh)" >&2; exit 1; }
OUT=runs/table3
VOCAB_DIR=$DATA/bert-base-uncased
STSB=$DATA/glue/STS-B/dev.tsv
for f in "$VOCAB_DIR/vocab.txt" "$STSB"; do
  [ -f "$f" ] || { echo "error: '$f' not found: pass --data DIR with bert-base-uncased/vocab.txt and glue/STS-B/dev.tsv" >&2; exit 1; }
done
mkdir -p "$OUT"

echo "== 1. models: bert-base-uncased and distilbert-base-uncased with an STS-B regression head (HF folders + tokenizer)"
$BIN init --config configs/bert-base-uncased.json --head seq-cls --num-labels 1 --tokenizer "$VOCAB_DIR" --output "$OUT/teacher" --overwrite
$BIN init --config configs/distilbert-base-uncased.json --head seq-cls --num-labels 1 --tokenizer "$VOCAB_DIR" --output "$OUT/student" --overwrite
$BIN info --model "$OUT/teacher"
$BIN info --model "$OUT/student"

echo "== 2. numerics: the student's outputs recomputed by the Python reference (scripts/check_dump.py)"
printf '{"text": "A man is playing a guitar.", "text_pair": "A man plays the guitar."}\n{"text": "Paris is the capital of France."}\n' > "$OUT/probe.jsonl"
$BIN predict --model "$OUT/student" --input "$OUT/probe.jsonl" --dump-tensors "$OUT/probe.safetensors" --threads "$THREADS" > "$OUT/probe_predictions.jsonl"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 scripts/check_dump.py --model "$OUT/student" --dump "$OUT/probe.safetensors" | tail -1
fi

echo "== 3. inference speed, paper Table 3 style: first $LIMIT STS-B dev pairs, batch size 1"
# STS-B dev: 10 columns, sentence1 and sentence2 are columns 8 and 9 (1-based).
awk -F'\t' -v n="$LIMIT" 'NR > 1 && NR <= n + 1 {print $8 "\t" $9}' "$STSB" > "$OUT/stsb_pairs.tsv"
declare -A RATE
for m in teacher student; do
  log=$($BIN predict --model "$OUT/$m" --input "$OUT/stsb_pairs.tsv" --pairs --batch-size 1 --threads "$THREADS" 2>&1 >/dev/null | grep '^\[predict\]')
  echo "$m: $log"
  RATE[$m]=$(echo "$log" | sed -E 's/.*\(([0-9.e+-]+) examples\/s.*/\1/')
done
THREADS_USED=$(echo "$log" | sed -E 's/.* ([0-9]+) thread\(s\)\)/\1/')
PT=$($BIN info --model "$OUT/teacher" --json | awk -F': ' '/"parameters"/{gsub(",","",$2); print $2}')
PS=$($BIN info --model "$OUT/student" --json | awk -F': ' '/"parameters"/{gsub(",","",$2); print $2}')
{
  echo "# Table 3 style inference speed: BERT-base vs DistilBERT-base"
  echo
  echo "Inference over the first $LIMIT STS-B dev pairs, batch size 1, CPU, $THREADS_USED thread(s) (paper Table 3: full STS-B dev)."
  echo
  echo "| model | parameters | pairs/s |"
  echo "|---|---|---|"
  echo "| BERT-base (teacher) | $PT | ${RATE[teacher]} |"
  echo "| DistilBERT-base (student) | $PS | ${RATE[student]} |"
  echo
  awk -v t="${RATE[teacher]}" -v s="${RATE[student]}" -v pt="$PT" -v ps="$PS" 'BEGIN {
    printf "Student/teacher: %.1f%% of the parameters, %.2fx the speed (paper: 60%% of 110M, 668 s / 410 s = 1.63x).\n", 100*ps/pt, s/t }'
} > "$OUT/report.md"
cat "$OUT/report.md"
