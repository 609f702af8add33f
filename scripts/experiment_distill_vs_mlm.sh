#!/usr/bin/env bash
# Does distillation beat MLM alone? The paper's core claim, on real text at CPU scale: a BERT teacher is pretrained
# with MLM on WikiText-2 train, a DistilBERT student is initialised from its alternate layers (init-student), and
# that same student is trained twice with the same data, steps, batch and learning rate: (a) with the triple loss
# against the teacher (distill), (b) with MLM alone (pretrain). Both are scored on WikiText-2 validation with the
# distiller's held-out evaluation (fixed masks): MLM loss, perplexity, masked-token accuracy, teacher agreement.
# Writes <out>/results.md and <out>/results.json. Sizes (--size): small (default) = teacher 4 x 256, student 2 x 256,
# an 8,000-token WordPiece vocabulary; tiny = teacher 4 x 128, student 2 x 128, 2,000 tokens (the test suite's run).
#   scripts/experiment_distill_vs_mlm.sh [--data DIR] [--out DIR] [--size small|tiny] [--teacher-steps N]
#                                        [--student-steps N] [--threads N] [--seed N] [--bin PATH]
# --bin uses an already built CLI; without it the script builds build/bin/distilbert (BUILD_DIR to change).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
OUT=runs/experiment_distill_vs_mlm
TSTEPS=600
SSTEPS=300
THREADS=0
SIZE=small
SEED=56
B=
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --teacher-steps) TSTEPS=$2; shift 2 ;;
    --student-steps) SSTEPS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --bin) B=$2; shift 2 ;;
    *) sed -n '2,12p' "$0" >&2; exit 2 ;;
  esac
done
case "$SIZE" in
  small) VOCAB=8000; HIDDEN=256 ;;
  tiny) VOCAB=2000; HIDDEN=128 ;;
  *) echo "error: --size must be small or tiny, found '$SIZE'" >&2; exit 2 ;;
esac
TRAIN=$DATA/text/wikitext-2/test.txt   # the shared copy has no train split: test trains, valid scores
VALID=$DATA/text/wikitext-2/valid.txt
for f in "$TRAIN" "$VALID"; do
  [ -f "$f" ] || { echo "error: '$f' not found: pass --data DIR with text/wikitext-2/{test,valid}.txt" >&2; exit 1; }
done
if [ -z "${B:-}" ]; then
  BUILD_DIR=${BUILD_DIR:-build}
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || scripts/setup.sh
  cmake --build "$BUILD_DIR" --target distilbert -j "${JOBS:-$(nproc)}" >/dev/null
  B=$BUILD_DIR/bin/distilbert
fi
mkdir -p "$OUT"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
step() { echo "== $*" >&2; }
# Run a stage with its full output in $OUT/<name>.log; show its evaluation lines, or its last lines if it fails.
run() {
  local name=$1; shift
  if ! "$@" > "$OUT/$name.log" 2>&1; then
    tail -20 "$OUT/$name.log" >&2
    echo "error: stage '$name' failed; full output in $OUT/$name.log" >&2
    exit 1
  fi
  grep -E "eval at|done:" "$OUT/$name.log" >&2 || true
}

step "1. WordPiece vocabulary ($VOCAB) and token stores"
[ -f "$OUT/tok/vocab.txt" ] || $B train-tokenizer --input "$TRAIN" --type wordpiece --vocab-size $VOCAB --output "$OUT/tok" >/dev/null
[ -f "$OUT/train.json" ] || $B binarize --tokenizer "$OUT/tok" --input "$TRAIN" --output "$OUT/train" >/dev/null
[ -f "$OUT/valid.json" ] || $B binarize --tokenizer "$OUT/tok" --input "$VALID" --output "$OUT/valid" >/dev/null
cat > "$OUT/teacher.json" <<JSON
{"architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": $VOCAB, "hidden_size": $HIDDEN,
 "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": $((4 * HIDDEN)), "max_position_embeddings": 128,
 "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
JSON
cat > "$OUT/student.json" <<JSON
{"architectures": ["DistilBertForMaskedLM"], "model_type": "distilbert", "vocab_size": $VOCAB, "dim": $HIDDEN,
 "n_layers": 2, "n_heads": 4, "hidden_dim": $((4 * HIDDEN)), "max_position_embeddings": 128, "dropout": 0.1,
 "attention_dropout": 0.1}
JSON
COMMON="seed=$SEED threads=$THREADS data.max_seq_len=128 data.batch_size=16 data.valid=$OUT/valid trainer.eval_batches=0 trainer.grad_accum_steps=1 trainer.log_every=25 trainer.save_every=0 trainer.progress=false trainer.tensorboard=false"

step "2. teacher: BERT 4 x $HIDDEN pretrained with MLM for $TSTEPS steps"
$B init --config "$OUT/teacher.json" --head mlm --tokenizer "$OUT/tok" --output "$OUT/teacher_init" --overwrite >/dev/null 2>&1
run teacher $B pretrain --recipe recipes/pretrain/tiny_cpu.yaml model.model="$OUT/teacher_init" data.train="$OUT/train" \
  output_dir="$OUT/teacher" trainer.max_steps=$TSTEPS trainer.eval_every=$TSTEPS optimizer.lr=1e-3 $COMMON

step "3. student: DistilBERT 2 x $HIDDEN from the teacher's layers 0 and 2"
$B init-student --teacher "$OUT/teacher/final" --config "$OUT/student.json" --layers 0,2 --output "$OUT/student_init" --overwrite >/dev/null 2>&1

step "4a. the student distilled (triple loss) for $SSTEPS steps"
run distilled $B distill --recipe recipes/distill/tiny_cpu.yaml teacher.model="$OUT/teacher/final" \
  student.model="$OUT/student_init" data.train="$OUT/train" output_dir="$OUT/distilled" trainer.max_steps=$SSTEPS \
  trainer.eval_every=$SSTEPS optimizer.lr=5e-4 trainer.resume=never --overwrite $COMMON

step "4b. the same student with MLM alone for $SSTEPS steps"
run mlm_only $B pretrain --recipe recipes/pretrain/tiny_cpu.yaml model.model="$OUT/student_init" \
  data.train="$OUT/train" output_dir="$OUT/mlm_only" trainer.max_steps=$SSTEPS trainer.eval_every=$SSTEPS \
  optimizer.lr=5e-4 optimizer.weight_decay=0.0 optimizer.max_grad_norm=5.0 trainer.resume=never --overwrite $COMMON

last_eval() { grep '"split":"eval"' "$1/metrics.jsonl" | tail -1; }
field() { sed -nE "s/.*\"$2\":([-0-9.eE+]+).*/\1/p" <<< "$1"; }
T=$(last_eval "$OUT/teacher"); D=$(last_eval "$OUT/distilled"); M=$(last_eval "$OUT/mlm_only")
{
  echo "# Distillation vs MLM alone (WikiText-2, CPU scale)"
  echo
  echo "Teacher: BERT 4 x $HIDDEN, $VOCAB-token WordPiece vocabulary, $TSTEPS MLM steps (batch 16 x 128). Student:"
  echo "DistilBERT 2 x $HIDDEN initialised from teacher layers 0 and 2, then $SSTEPS steps either way (batch 16 x 128,"
  echo "lr 5e-4, the same data order). Held-out: all of WikiText-2 validation, fixed masks."
  echo
  echo "| model | held-out MLM loss | perplexity | masked-token accuracy | agreement with teacher |"
  echo "|---|---|---|---|---|"
  printf '| teacher | %.3f | %.1f | %.3f | - |\n' "$(field "$T" mlm_loss)" "$(field "$T" perplexity)" "$(field "$T" accuracy)"
  printf '| student, distilled (triple loss) | %.3f | %.1f | %.3f | %.3f |\n' "$(field "$D" mlm_loss)" "$(field "$D" perplexity)" "$(field "$D" accuracy)" "$(field "$D" teacher_agreement)"
  printf '| student, MLM alone | %.3f | %.1f | %.3f | - |\n' "$(field "$M" mlm_loss)" "$(field "$M" perplexity)" "$(field "$M" accuracy)"
  echo
  echo "Threads per run: $([ "$THREADS" = 0 ] && nproc || echo "$THREADS")."
} > "$OUT/results.md"
# The same figures for programs (tests/integration/test_learning.cpp): the last held-out record of each run.
printf '{"vocab_size": %d, "teacher": %s, "distilled": %s, "mlm_only": %s}\n' "$VOCAB" "$T" "$D" "$M" > "$OUT/results.json"
cat "$OUT/results.md"
