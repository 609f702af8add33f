"""ONNX Runtime (CPU) latency/throughput on an exported model; the counterpart of bench/inference/bench_inference.cpp
(same shapes: random ids, full attention mask).

    python bench_ort.py model.onnx --batch 1,32 --seq 128 --threads 2 [--iters N] [--min-seconds S] [--vocab V]

One JSON line per batch size.
"""
import argparse
import json
import time

import numpy as np

from ort_session import runtime_name, session


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--batch", default="1,32")
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=0)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--min-seconds", type=float, default=5)
    p.add_argument("--vocab", type=int, default=30522)
    a = p.parse_args()
    sess = session(a.model, a.threads)
    rng = np.random.default_rng(12345)
    for B in map(int, a.batch.split(",")):
        all_inputs = {"input_ids": rng.integers(1000, a.vocab, size=(B, a.seq), dtype=np.int64),
                      "attention_mask": np.ones((B, a.seq), np.int64),
                      "token_type_ids": np.zeros((B, a.seq), np.int64)}
        feeds = {i.name: all_inputs[i.name] for i in sess.get_inputs()}
        for _ in range(a.warmup):
            sess.run(None, feeds)
        ms = []
        start = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            sess.run(None, feeds)
            ms.append(1000 * (time.perf_counter() - t0))
            elapsed = time.perf_counter() - start
            if (len(ms) >= a.iters) if a.iters > 0 else (elapsed >= a.min_seconds and len(ms) >= 5):
                break
        s = sorted(ms)
        median = s[len(s) // 2]
        print(json.dumps({"runtime": runtime_name(), "model": a.model, "batch": B, "seq": a.seq, "threads": a.threads,
                          "median_ms": median, "mean_ms": sum(ms) / len(ms), "p90_ms": s[min(len(s) - 1, len(s) * 9 // 10)],
                          "seq_per_s": 1000 * B / median, "iters": len(ms)}))


if __name__ == "__main__":
    main()
