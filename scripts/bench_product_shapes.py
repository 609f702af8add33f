"""The rate of each matrix product a base distillation step makes (1024 rows = batch 8 x 128 tokens, H 768, FFN 3072,
vocabulary 30,522, fp32), beside the lone 1024^3 product that scripts/bench_distill.sh calls the limit: the forward
x W^T, the input gradient g W and the weight gradient g^T x of each linear shape. Every product writes into a tensor
allocated once (as in our CLI, whose heap keeps freed memory: core/runtime.h), the shapes take turns round after
round, and each rate is the median of the rounds, so a neighbour's load spreads over all of them. Attention's
per-head products are not here (bench/model/bench_head_products.cpp).

Two rates per shape: "warm", the product repeated back to back (as the limit is read: its operands and result,
12 MiB for 1024^3, stay in the CPU's caches), and "cold", one product right after a pass that writes a buffer
larger than the last-level cache (--evict-mib), as a step meets its operands: written by other operators since.

Run it with the Python whose LibTorch shares the CLI's BLAS (Debian's python3-torch and OpenBLAS, as our 1.13
build). OpenBLAS picks its kernel by CPU; OPENBLAS_CORETYPE=Haswell, set by hand, runs the AVX2 kernel on an
AVX-512 machine (docs/PRECISION.md, "Emulating a CPU without AVX-512").

    /usr/bin/python3 scripts/bench_product_shapes.py [--threads 2] [--rounds 6] [--evict-mib 128]
"""
import argparse
import statistics
import time

import torch

ROWS, H, FFN, VOCAB = 1024, 768, 3072, 30522


def shapes():
    """(name, a, b) for each product a @ b; W is stored (out, in) as in nn.Linear."""
    r = torch.randn
    out = [("1024^3 (the limit)", r(1024, 1024), r(1024, 1024))]
    for name, n_in, n_out in (("768x768", H, H), ("ffn lin1", H, FFN), ("ffn lin2", FFN, H), ("vocab", H, VOCAB)):
        x, w, g = r(ROWS, n_in), r(n_out, n_in), r(ROWS, n_out)
        out += [(f"{name} forward x W^T", x, w.t()), (f"{name} input grad g W", g, w),
                (f"{name} weight grad g^T x", g.t(), x)]
    return out


def timed(fn, flop, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return flop * reps / (time.perf_counter() - t0) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--evict-mib", type=int, default=128, help="buffer written before each cold product")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = shapes()
    outs = [torch.empty(a.shape[0], b.shape[1]) for _, a, b in cases]
    evict = torch.empty(args.evict_mib * 2**20 // 4)
    warm, cold = [[] for _ in cases], [[] for _ in cases]
    for _ in range(args.rounds + 1):  # the first round warms the pages and the threads: not kept
        for i, ((_, a, b), out) in enumerate(zip(cases, outs)):
            flop = 2 * a.shape[0] * a.shape[1] * b.shape[1]
            product = lambda: torch.mm(a, b, out=out)  # noqa: E731
            warm[i].append(timed(product, flop, max(1, int(2e9 / flop))))  # at least about 2 GFLOP per sample
            evict.fill_(1.0)
            cold[i].append(timed(product, flop, 1))
    print(f"[bench_product_shapes] torch {torch.__version__}, {args.threads} thread(s), "
          f"median of {args.rounds} rounds, GFLOP/s (min - max), warm and after a {args.evict_mib} MiB write:")
    limit = statistics.median(warm[0][1:])
    for (name, a, b), w, c in zip(cases, warm, cold):
        w, c = w[1:], c[1:]
        mw, mc = statistics.median(w), statistics.median(c)
        print(f"  {name:28s} {a.shape[0]:6d} x {a.shape[1]:6d} x {b.shape[1]:6d}  warm {mw:6.1f} ({min(w):5.1f} - "
              f"{max(w):5.1f}) {100 * mw / limit:4.0f}%  cold {mc:6.1f} ({min(c):5.1f} - {max(c):5.1f}) "
              f"{100 * mc / limit:4.0f}% of warm 1024^3")


if __name__ == "__main__":
    main()
