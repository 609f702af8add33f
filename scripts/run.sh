#!/usr/bin/env bash
# The README's main-job command: installs what the build needs (Debian packages), builds in build/, then runs the
# whole product end to end (scripts/pipeline.sh): on the built-in demo data by default -- a grammar-generated
# corpus and sentiment task, no download -- it trains a WordPiece vocabulary, pretrains a small BERT teacher with
# MLM, initialises a DistilBERT student from alternate teacher layers, distils it with the triple loss (and trains a
# control student without the teacher's losses), fine-tunes and evaluates all three over 3 seeds, times teacher and
# student, exports the student to ONNX, checks it in ONNX Runtime and writes a report (Markdown + SVG plots) to
# runs/main/report/.
#   scripts/run.sh                      # built-in demo data -> runs/main (a few minutes on 2 CPU cores)
#   scripts/run.sh --data ../shared/data  # real data: DIR/text/wikitext-2/*.txt and DIR/glue/SST-2 -> runs/main-real
#   scripts/run.sh --real               # the same with DIR = ../shared/data
#   scripts/run.sh --quick              # tiny sizes: checks that every stage works (under a minute)
#   scripts/run.sh --table3 [--limit N] [--data DIR]   # the paper's Table 3 speed comparison at BERT-base size
#   scripts/run.sh --real-teacher [--tasks ...]        # a real pretrained teacher on GLUE, distilled vs control
#                                                      # (scripts/experiment_real_teacher.sh; ~100 min)
# Other options go to scripts/pipeline.sh (--out DIR, --threads N, --seed N, --text FILE, --task DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
TABLE3=0
REAL_TEACHER=0
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --table3) TABLE3=1; shift ;;
    --real-teacher) REAL_TEACHER=1; shift ;;
    --real) ARGS+=(--data ../shared/data); shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
scripts/setup.sh
if [ "$REAL_TEACHER" = 1 ]; then
  exec scripts/experiment_real_teacher.sh "${ARGS[@]}"
fi
if [ "$TABLE3" = 1 ]; then
  exec scripts/bench_table3.sh "${ARGS[@]}"
fi
exec scripts/pipeline.sh --bin build/bin/distilbert "${ARGS[@]}"
