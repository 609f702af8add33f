#!/usr/bin/env bash
# Inference latency and throughput: our LibTorch forward (bench/inference/bench_inference.cpp) against ONNX Runtime
# (its Python package from requirements.txt, CPU execution provider, graph optimisations on) running the ONNX that `distilbert export`
# wrote from the same model folder: a DistilBERT-base-size (6 layers, 768, 12 heads, vocab 30522) sequence
# classifier with random init, random token ids, full attention mask, sequence length 128, batch 1 and 32, the same
# thread count for both (intra-op THREADS, inter-op 1). Also the dynamic-int8 ONNX, and (when the shared SST-2 data
# is there) the accuracy cost of int8/fp16 against fp32 on real sentences.
#   scripts/bench_inference.sh
#   THREADS=1 BATCHES=1,32 SEQ=128 MIN_SECONDS=10 BUILD_DIR=build scripts/bench_inference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
THREADS=${THREADS:-$(nproc)}
BATCHES=${BATCHES:-1,32}
SEQ=${SEQ:-128}
MIN_SECONDS=${MIN_SECONDS:-5}
QUANT_N=${QUANT_N:-200}
WORK=${WORK:-$BUILD_DIR/bench_inference}
SHARED=${SHARED:-../shared/data}

PY=.venv/bin/python
scripts/venv.sh
"$PY" -c "import onnxruntime" || { echo "[bench] ONNX Runtime is required in $PY (scripts/venv.sh)" >&2; exit 1; }
echo "[bench] building distilbert and bench_inference in $BUILD_DIR"
cmake --build "$BUILD_DIR" --target distilbert bench_inference -j "$(nproc)" >/dev/null
CLI=$BUILD_DIR/bin/distilbert
BENCH=$BUILD_DIR/bin/bench_inference

MODEL=$WORK/model
EXPORT=$WORK/export
if [ ! -f "$EXPORT/onnx/model_quantized.onnx" ]; then
  tok=()
  [ -f "$SHARED/bert-base-uncased/vocab.txt" ] && tok=(--tokenizer "$SHARED/bert-base-uncased")
  echo "[bench] random-init distilbert-base-uncased seq-cls model -> $MODEL"
  "$CLI" init --config configs/distilbert-base-uncased.json --head seq-cls --seed 0 "${tok[@]}" --output "$MODEL" \
    --overwrite >/dev/null
  echo "[bench] export (fp32 + fp16 + dynamic int8 ONNX) -> $EXPORT"
  "$CLI" export --model "$MODEL" --output "$EXPORT" --format onnx --dtype fp16 --quantize --overwrite
fi

# OpenMP threads spin while waiting: on a machine busy with other work LibTorch with THREADS > 1 can run 10x slower
# than with 1 thread (measured: 3.4 s vs 0.22 s per forward on a loaded 2-core machine). Warn when that is likely.
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  echo "[bench] warning: load average $load on $(nproc) CPUs: timings are disturbed by other work; prefer THREADS=1" \
    "or OMP_WAIT_POLICY=PASSIVE" >&2
fi

RESULTS=$WORK/results.jsonl
: >"$RESULTS"
echo "[bench] LibTorch $(basename "$CLI") forward, $THREADS thread(s)"
"$BENCH" --model "$MODEL" --batch "$BATCHES" --seq "$SEQ" --threads "$THREADS" --min-seconds "$MIN_SECONDS" \
  | sed 's/"runtime":"libtorch"/"runtime":"LibTorch fp32"/' >>"$RESULTS"
for v in model:fp32 model_quantized:int8; do
  f=${v%%:*}
  echo "[bench] ONNX Runtime $f.onnx, $THREADS thread(s)"
  "$PY" tests/py/bench_ort.py "$EXPORT/onnx/$f.onnx" --batch "$BATCHES" --seq "$SEQ" --threads "$THREADS" \
    --min-seconds "$MIN_SECONDS" | sed -E "s/\"runtime\": \"[^\"]*\"/\"runtime\": \"ONNX Runtime ${v#*:}\"/" \
    >>"$RESULTS"
done

"$PY" - "$RESULTS" "$(nproc)" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
base = {r["batch"]: r["median_ms"] for r in rows if r["runtime"] == "LibTorch fp32"}
print(f"\nDistilBERT-base seq-cls, sequence {rows[0]['seq']}, {rows[0]['threads']} intra-op thread(s) each "
      f"(machine: {sys.argv[2]} CPUs), median of >= 5 s of runs\n")
print("| runtime | batch | median ms | p90 ms | sequences/s | speed-up vs LibTorch |")
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['runtime']} | {r['batch']} | {r['median_ms']:.1f} | {r['p90_ms']:.1f} | {r['seq_per_s']:.1f} | "
          f"{base[r['batch']] / r['median_ms']:.2f}x |")
EOF

if [ -f "$SHARED/glue/SST-2/dev.tsv" ] && [ -f "$EXPORT/tokenizer.json" ]; then
  echo
  echo "[bench] accuracy cost against fp32 ONNX on the first $QUANT_N SST-2 dev sentences (random-init model):"
  "$PY" tests/py/quant_accuracy.py "$EXPORT" "$SHARED/glue/SST-2/dev.tsv" "$QUANT_N" --threads "$THREADS"
fi
