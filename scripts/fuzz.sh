#!/usr/bin/env bash
# Short, seeded libFuzzer runs over every parser (tests/fuzz): builds the targets with clang++ in build-fuzz
# (-fsanitize=fuzzer,address,undefined), writes the seed corpora (scripts/fuzz_seeds.py), replays the saved
# regression inputs (tests/data/fuzz_regressions/<target>/) and fuzzes each target for a fixed time with -seed=1.
# Prints runs / executions per second / coverage per target and exits 1 on any finding, leaving the crashing input
# in BUILD/fuzz-artifacts/<target>/ (copy it to tests/data/fuzz_regressions/<target>/ once fixed: test_core replays
# that folder in the regular suite).
#   scripts/fuzz.sh                        # all targets, 7 s each (about a minute), building first
#   scripts/fuzz.sh --seconds 60 recipe    # one target for longer
#   scripts/fuzz.sh --no-build --build-dir build-fuzz tokenizer   # what ctest -L fuzz runs
# Without clang++ (or libFuzzer) it says so and exits 0: the fuzz runs are optional, the regressions are not.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-fuzz
SECONDS_PER_TARGET=7
BUILD=1
TARGETS=()
while (($#)); do
  case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --seconds) SECONDS_PER_TARGET=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
ALL=(tokenizer tokenizer_files task_data task_files metrics model_config augment safetensors torch_pickle token_store
     recipe trainer_state predict_input)
((${#TARGETS[@]})) || TARGETS=("${ALL[@]}")

if ((BUILD)); then
  CXX_FUZZ=${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14 || true)}
  if [ -z "$CXX_FUZZ" ] || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    echo "[fuzz] skipped: clang++ with libFuzzer is not installed (apt-get install clang)"
    exit 0
  fi
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    CXX="$CXX_FUZZ" CC="${CXX_FUZZ/clang++/clang}" cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
      -DDISTILBERT_FUZZ=ON -DDISTILBERT_BUILD_TESTS=OFF >/dev/null
  fi
  echo "[fuzz] building the targets in $BUILD_DIR"
  cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target fuzz_targets 2>&1 | grep -E "error|warning:|undefined reference" || true
fi

# Per-invocation seed folder: ctest may run several targets at once.
mkdir -p "$BUILD_DIR"
SEEDS=$(mktemp -d "$BUILD_DIR/fuzz-seeds.XXXXXX")
trap 'rm -rf "$SEEDS"' EXIT
/usr/bin/python3 scripts/fuzz_seeds.py "$SEEDS" --only "${TARGETS[@]}"
summary="$BUILD_DIR/fuzz-summary.txt"
: > "$summary"
failed=()
unbuilt=()
for t in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/bin/fuzz_$t"
  [ -x "$bin" ] || { echo "[fuzz] $t: $bin not built (see the build's errors above)" >&2; unbuilt+=("$t"); continue; }
  corpus="$BUILD_DIR/fuzz-corpus/$t"
  artifacts="$BUILD_DIR/fuzz-artifacts/$t"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  cp -r "$SEEDS/$t/." "$corpus/" 2>/dev/null || true
  dirs=("$corpus")
  [ -d "tests/data/fuzz_regressions/$t" ] && dirs+=("tests/data/fuzz_regressions/$t")
  log="$BUILD_DIR/fuzz-$t.log"
  # Leak checking stays on for the torch-free targets; LibTorch keeps allocations alive on purpose.
  leaks=1
  case "$t" in safetensors|torch_pickle|token_store|recipe) leaks=0 ;; esac
  set +e
  ASAN_OPTIONS="detect_leaks=$leaks:allocator_may_return_null=0:abort_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$bin" -seed=1 -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 -rss_limit_mb=3072 \
      -detect_leaks=$leaks -print_final_stats=1 -artifact_prefix="$artifacts/" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" | tail -1)
  speed=$(grep -oE "stat::average_exec_per_sec: *[0-9]+" "$log" | grep -oE "[0-9]+$" | tail -1)
  cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1)
  line=$(printf "%-16s %8s runs  %6s exec/s  %-22s %s" "$t" "${runs:-?}" "${speed:-?}" "${cov:-}" \
         "$( ((rc == 0)) && echo ok || echo "FAILED (rc $rc, see $log)")")
  echo "[fuzz] $line"
  echo "$line" >> "$summary"
  ((rc == 0)) || failed+=("$t")
done
((${#unbuilt[@]} == 0)) || echo "[fuzz] not built, so not fuzzed: ${unbuilt[*]}" >&2
((${#failed[@]} == 0)) || echo "[fuzz] findings in: ${failed[*]}; inputs under $BUILD_DIR/fuzz-artifacts/<target>/" >&2
((${#failed[@]} + ${#unbuilt[@]} == 0)) || exit 1
echo "[fuzz] all ${#TARGETS[@]} targets clean ($SECONDS_PER_TARGET s each, -seed=1); summary in $summary"
