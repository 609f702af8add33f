"""HF `tokenizers` (the Rust fast tokenizer, through its Python binding) throughput on the same texts as
bench/tokenizer/bench_tokenizer.cpp: GLUE SST-2 train sentences (first column, header skipped) and the non-blank
lines of WikiText-2 valid, with ../shared/data/bert-base-uncased/tokenizer.json.

    .venv/bin/python scripts/tokenizer/bench_hf.py [--data DIR] [--repeat R] [--threads N]

`encode` one text at a time (1 thread, [CLS] ... [SEP], no truncation) and `encode_batch` on N threads (Rayon);
the best of R runs of each, plus machine-readable lines:
    RESULT hf <dataset> <threads> <texts> <bytes> <tokens> <best wall seconds> <CPU seconds of that run>
"""
import argparse
import os
import time


def read_lines(path, tsv_first_column, skip):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # like std::getline
    out = []
    for i, line in enumerate(lines):
        if i < skip:
            continue
        line = line[:-1] if line.endswith("\r") else line
        if tsv_first_column:
            line = line.split("\t", 1)[0]
        if line.strip(" \t"):
            out.append(line)
    return out


def timed(fn, repeat):
    best, cpu, tokens = float("inf"), 0.0, 0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        tokens = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    return best, cpu, tokens


def run(tok, name, texts, repeat, threads):
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    one = timed(lambda: sum(len(tok.encode(t).ids) for t in texts), repeat)
    batch = timed(lambda: sum(len(e.ids) for e in tok.encode_batch(texts)), repeat)
    for th, (best, cpu, tokens) in ((1, one), (threads, batch)):
        label = "encode, 1 thread" if th == 1 else f"encode_batch, {th} threads"
        print(f"{name:<16} {len(texts):>7} texts {nbytes / 1e6:.2f} MB {tokens:>8} tokens | {label}: "
              f"{nbytes / 1e6 / best:6.1f} MB/s {tokens / 1e6 / best:.2f} Mtok/s")
        print(f"RESULT hf {name} {th} {len(texts)} {nbytes} {tokens} {best:.6f} {cpu:.6f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(a.threads)  # read when the thread pool starts, on the first batch
    from tokenizers import Tokenizer, __version__
    t0 = time.perf_counter()
    tok = Tokenizer.from_file(os.path.join(a.data, "bert-base-uncased", "tokenizer.json"))
    print(f"tokenizers {__version__} (Rust, Python binding) loaded in {time.perf_counter() - t0:.3f} s; best of "
          f"{a.repeat} runs")
    run(tok, "sst2-train", read_lines(os.path.join(a.data, "glue", "SST-2", "train.tsv"), True, 1), a.repeat, a.threads)
    run(tok, "wikitext2-valid", read_lines(os.path.join(a.data, "text", "wikitext-2", "valid.txt"), False, 0),
        a.repeat, a.threads)


if __name__ == "__main__":
    main()
