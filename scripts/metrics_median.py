"""The median of one key over a run's metrics.jsonl (the records that have it), after skipping the first ones (the
warm-up steps). Used by scripts/bench_distill.sh and scripts/gpu_check.sh for tokens/s.

    python3 metrics_median.py RUN/metrics.jsonl tokens_per_s SKIP
"""
import json
import statistics
import sys


def main():
    path, key, skip = sys.argv[1], sys.argv[2], int(sys.argv[3])
    values = []
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if key in record:
                values.append(float(record[key]))
    values = values[skip:]
    if not values:
        sys.exit(f"{path}: no '{key}' records after the first {skip}")
    print(statistics.median(values))


if __name__ == "__main__":
    main()
