"""Accuracy cost of onnx/model_quantized.onnx (and model_fp16.onnx when present) against onnx/model.onnx on real
sentences, tokenized by HF tokenizers from the exported folder's own tokenizer.json.

    python quant_accuracy.py EXPORT_DIR sentences.tsv [N] [--threads T]

Prints one JSON line per variant: max/mean |logit diff|, logit std of the fp32 model, argmax agreement.
"""
import argparse
import json
import os

import numpy as np

from ort_session import folder_tokenizer, logits, session


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("tsv")
    p.add_argument("n", nargs="?", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    with open(a.tsv, encoding="utf-8") as f:
        texts = [l.split("\t")[0] for l in f.read().split("\n")[1:] if l.strip()][:a.n]
    tok = folder_tokenizer(a.dir)
    ref = logits(session(os.path.join(a.dir, "onnx", "model.onnx"), a.threads), tok, texts)
    for variant in ("model_fp16.onnx", "model_quantized.onnx"):
        path = os.path.join(a.dir, "onnx", variant)
        if not os.path.exists(path):
            continue
        got = logits(session(path, a.threads), tok, texts)
        d = np.abs(got - ref)
        print(json.dumps({"variant": variant, "sentences": len(texts), "max_abs_diff": float(d.max()),
                          "mean_abs_diff": float(d.mean()), "fp32_logit_std": float(ref.std()),
                          "argmax_agreement": float((got.argmax(-1) == ref.argmax(-1)).mean())}))


if __name__ == "__main__":
    main()
