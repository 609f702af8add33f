#!/usr/bin/env bash
# The GPU checks, in one call of the device tool on a lent GPU machine (PyTorch 2.11 + CUDA 13, nvcc, CMake, ninja;
# no package registry). Builds the CLI and bench/gpu/gpu_check.cpp against that machine's torch (its LibTorch) with
# the Debian packages of the carry kit (scripts/gpu_kit.sh) unpacked into a private prefix, then reports:
#   1. CUDA forward, loss and gradients equal to the CPU's (1e-4, fp32 without TF32), DistilBERT and BERT;
#   2. fp16 autocast with the dynamic loss scaler, and bf16 autocast: 30 training steps each, loss falling;
#   3. a one-process ProcessGroupNCCL all-reduce;
#   4. the base distillation step (BERT-base teacher -> DistilBERT-base student, random init, batch 32 x 128, bf16)
#      through `distilbert distill --device cuda`: tokens/s and model FLOP utilisation against the GPU's dense bf16
#      peak (H100/H200 SXM: 989 TFLOP/s), FLOPs counted as scripts/bench_distill.sh does (matrix products of the
#      teacher forward + 3 x the student forward).
# Everything goes to stdout and $OUT/ (gpu_check.jsonl, distill.log, summary.txt) when OUT is set.
#   Here, once:  scripts/gpu_kit.sh
#   There:       run(command="scripts/gpu_check.sh", carry=[".gpu-kit"], timeout_s=600)
#   Here, without a GPU (what can be tested: the kit, the build against the CUDA wheel, the pipeline on the CPU with
#   the small pair):  scripts/gpu_check.sh --python .venv/bin/python --cpu
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=.gpu-kit
ROOT=${GPU_ROOT:-/tmp/distilbert-gpu-root}
BUILD=build-gpu
PY=python3
CPU=0
STEPS=30
WARMUP=5
while [ $# -gt 0 ]; do
  case "$1" in
    --python) PY=$2; shift 2 ;;
    --cpu) CPU=1; STEPS=4; WARMUP=1; shift ;;
    --steps) STEPS=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
OUTDIR=${OUT:-/tmp/distilbert-gpu-out}
mkdir -p "$OUTDIR"
SUMMARY=$OUTDIR/summary.txt
: > "$SUMMARY"
say() { echo "[gpu_check] $*" | tee -a "$SUMMARY"; }
T0=$(date +%s)

# 1. The kit: every .deb unpacked into ROOT (never into /).
ls "$KIT"/*.deb >/dev/null 2>&1 || { say "error: no .deb files in $KIT: run scripts/gpu_kit.sh here and carry $KIT"; exit 1; }
rm -rf "$ROOT"
mkdir -p "$ROOT"
for f in "$KIT"/*.deb; do dpkg-deb -x "$f" "$ROOT"; done
LIB=$ROOT/usr/lib/x86_64-linux-gnu
export PKG_CONFIG_PATH=$LIB/pkgconfig:$ROOT/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$ROOT   # the .pc files say prefix=/usr
export LD_LIBRARY_PATH=$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
PKG_CONFIG=$(command -v pkg-config || echo "$ROOT/usr/bin/pkgconf")
say "kit: $(ls "$KIT"/*.deb | wc -l) packages unpacked into $ROOT; pkg-config: $PKG_CONFIG"

# 2. Build against this machine's torch (its LibTorch: CUDA build, cxx11 ABI), NCCL headers from its nvidia-nccl.
TORCH_PREFIX=$("$PY" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)')
NCCL_DIR=$("$PY" -c 'import nvidia.nccl; print(list(nvidia.nccl.__path__)[0])' 2>/dev/null || echo /usr/local/cuda)
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
say "torch $TORCH_VERSION ($TORCH_PREFIX), NCCL headers from $NCCL_DIR, $(nproc) CPUs, $(command -v nvcc >/dev/null && nvcc --version | tail -1)"
[ -f "$BUILD/CMakeCache.txt" ] || NCCL_ROOT=$NCCL_DIR cmake -S . -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$ROOT/usr;$TORCH_PREFIX" -DPKG_CONFIG_EXECUTABLE="$PKG_CONFIG" -DDISTILBERT_BUILD_TESTS=OFF \
  > "$OUTDIR/configure.log" 2>&1 || { tail -30 "$OUTDIR/configure.log"; say "error: configure failed"; exit 1; }
for dep in nlohmann_json_DIR yaml-cpp_DIR ONNX_DIR DISTILBERT_NCCL_INCLUDE_DIR DISTILBERT_WITH_NCCL; do
  say "  $(grep -m1 "^$dep:" "$BUILD/CMakeCache.txt" || echo "$dep: (not set)")"
done
cmake --build "$BUILD" --target distilbert gpu_check -j "$(nproc)" > "$OUTDIR/build.log" 2>&1 ||
  { grep -E "error" "$OUTDIR/build.log" | head -20; say "error: the build failed (build.log)"; exit 1; }
B=$BUILD/bin/distilbert
say "built in $(( $(date +%s) - T0 )) s"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/[gpu_check] gpu: /' | tee -a "$SUMMARY" || true

# 3. Numerics, training steps, NCCL.
set +e
"$BUILD/bin/gpu_check" --configs configs | tee "$OUTDIR/gpu_check.jsonl"
checks=${PIPESTATUS[0]}
set -e
say "gpu_check exit $checks (0 all passed, 1 a check failed, 77 no CUDA device)"

# 4. Base distillation throughput (the small pair for 4 steps on the CPU with --cpu, to test this script here).
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if [ "$CPU" = 1 ]; then
  TCONF=configs/tiny-bert.json; SCONF=configs/tiny-distilbert.json; LAYERS=0,2; DEVICE=cpu; PREC=fp32; BATCH=8
else
  TCONF=configs/bert-base-uncased.json; SCONF=configs/distilbert-base-uncased.json; LAYERS=0,2,4,7,9,11
  DEVICE=cuda; PREC=bf16; BATCH=32
fi
# The demo corpus (no download), joined into long lines so that nearly every 128-token chunk is full; its own
# WordPiece vocabulary (about 1,000 tokens) padded with [unusedN] entries to the models' 30,522 rows, as
# bert-base-uncased's is, so that the vocabulary projection costs what it costs on real data.
$B make-demo-data --output "$W/data" --corpus-lines 3000 --train 10 --dev 10 --test 10 > /dev/null
awk 'NF { line = line " " $0; if (++n % 40 == 0) { print line; line = "" } } END { if (line != "") print line }' \
  "$W/data/corpus.txt" > "$W/text.txt"
$B train-tokenizer --input "$W/text.txt" --type wordpiece --vocab-size 30522 --output "$W/tok" --quiet
V=$(sed -nE 's/.*"vocab_size": *([0-9]+).*/\1/p' "$TCONF")
awk -v v="$V" '{ print } END { for (i = NR; i < v; ++i) print "[unused" i - NR "]" }' "$W/tok/vocab.txt" > "$W/vocab.txt"
mv "$W/vocab.txt" "$W/tok/vocab.txt"
rm "$W/tok/tokenizer.json"  # the folder is read from vocab.txt + tokenizer_config.json
$B init --config "$TCONF" --head mlm --tokenizer "$W/tok" --output "$W/teacher" > /dev/null
$B init-student --teacher "$W/teacher" --config "$SCONF" --layers "$LAYERS" --output "$W/student" > /dev/null
$B binarize --tokenizer "$W/tok" --input "$W/text.txt" --output "$W/corpus" --quiet
cat > "$W/recipe.yaml" <<YAML
teacher: {model: $W/teacher}
student: {model: $W/student}
data: {train: $W/corpus, max_seq_len: 128, batch_size: $BATCH, batching: random}
loss: {temperature: 2.0, alpha_ce: 5.0, alpha_mlm: 2.0, alpha_mse: 0.0, alpha_cos: 1.0, restrict_ce_to_mask: false}
trainer: {max_steps: $((STEPS + WARMUP)), grad_accum_steps: 1, log_every: 1, save_every: 0, progress: false, tensorboard: false}
YAML
set +e
$B distill --recipe "$W/recipe.yaml" output_dir="$W/run" device=$DEVICE precision=$PREC > "$OUTDIR/distill.log" 2>&1
distill=$?
set -e
if [ "$distill" != 0 ]; then
  tail -20 "$OUTDIR/distill.log"
  say "error: distill --device $DEVICE failed (exit $distill, distill.log)"
  exit 1
fi
tps=$("$PY" scripts/metrics_median.py "$W/run/metrics.jsonl" tokens_per_s "$WARMUP")
gflop=$("$PY" scripts/distill_gflop.py "$TCONF" "$SCONF")
mfu=$(awk -v t="$tps" -v g="$gflop" 'BEGIN { printf "%.1f", 100 * t * g / 989e3 }')
say "distill $([ "$CPU" = 1 ] && echo small || echo base) pair, $DEVICE $PREC, batch $BATCH x 128: median $(printf %.0f "$tps") tokens/s over $STEPS steps after $WARMUP warm-up ($gflop GFLOP/token of matrix products; $mfu% of 989 TFLOP/s dense bf16)"
say "total $(( $(date +%s) - T0 )) s"
[ "$checks" = 0 ] || [ "$checks" = 77 ] || exit 1
[ "$CPU" = 1 ] || [ "$checks" = 0 ] || exit 1
