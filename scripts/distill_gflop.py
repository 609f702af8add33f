"""GFLOP of matrix products per token of one distillation step at sequence length 128: the teacher's forward plus
the student's forward and backward (3 x its forward), each 2 x (4 d^2 + 2 d f + 2 T d) per layer and 2 d V (+ 2 d^2
transform) for the vocabulary. Used by scripts/bench_distill.sh and scripts/gpu_check.sh for the hardware limit.

    python3 distill_gflop.py TEACHER_CONFIG.json STUDENT_CONFIG.json
"""
import json
import sys


def forward_flop(path, T=128):
    c = json.load(open(path))
    d = c.get("dim", c.get("hidden_size"))
    f = c.get("hidden_dim", c.get("intermediate_size"))
    L = c.get("n_layers", c.get("num_hidden_layers"))
    V = c["vocab_size"]
    return L * 2 * (4 * d * d + 2 * d * f + 2 * T * d) + 2 * d * V + 2 * d * d


if __name__ == "__main__":
    print((forward_flop(sys.argv[1]) + 3 * forward_flop(sys.argv[2])) / 1e9)
