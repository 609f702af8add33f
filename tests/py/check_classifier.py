"""Check an exported sentence classifier in ONNX Runtime on a labelled TSV file, against the labels and against
LibTorch's predictions of the same sentences (`distilbert predict --output`): the main job's ONNX stage.

    python check_classifier.py job.json

job: {"model_dir": "runs/main/export", "tsv": ".../dev.tsv", "text_column": "sentence", "label_column": "label",
      "limit": 0, "libtorch": "runs/main/predictions_student.jsonl", "output": "runs/main/onnx_check.json",
      "quantized": true, "threads": 1}
The TSV has a header; labels are class ids. `libtorch` holds one JSON object per sentence, in file order, with
"probs" (class-id order). Sentences run one at a time, as a serving pipeline runs them. Writes (and prints)
{"ok": true, "runtime", "examples", "accuracy", "agreement_with_libtorch", "max_abs_prob_diff", "examples_per_s",
 "quantized": {...}}.
"""
import json
import os
import sys
import time

import numpy as np

from ort_session import feeds, folder_tokenizer, runtime_name, session, softmax


def read_rows(job):
    with open(job["tsv"], encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    header = lines[0].split("\t")
    text_col, label_col = job.get("text_column", "sentence"), job.get("label_column", "label")
    if text_col not in header or label_col not in header:
        raise SystemExit(f"{job['tsv']}: header '{lines[0]}' lacks column '{text_col}' or '{label_col}'")
    t, l = header.index(text_col), header.index(label_col)
    rows = [(c[t], int(c[l])) for c in (line.split("\t") for line in lines[1:])]
    return rows[:job["limit"]] if job.get("limit", 0) > 0 else rows


def check(model_path, tok, rows, reference, threads):
    sess = session(model_path, threads)
    correct = agree = 0
    max_diff = 0.0
    t0 = time.perf_counter()
    for i, (text, label) in enumerate(rows):
        logits = sess.run(None, feeds(sess, [tok.encode(text)]))[0][0].astype(np.float64)
        probs = softmax(logits)
        pred = int(np.argmax(probs))
        correct += pred == label
        if reference is not None:
            ref = np.array(reference[i]["probs"], dtype=np.float64)
            agree += pred == int(np.argmax(ref))
            max_diff = max(max_diff, float(np.abs(ref - probs).max()))
    seconds = time.perf_counter() - t0
    r = {"examples": len(rows), "accuracy": correct / len(rows), "examples_per_s": len(rows) / seconds}
    if reference is not None:
        r.update(agreement_with_libtorch=agree / len(rows), max_abs_prob_diff=max_diff)
    return r


def main(job_path):
    with open(job_path) as f:
        job = json.load(f)
    rows = read_rows(job)
    reference = None
    if job.get("libtorch"):
        with open(job["libtorch"]) as f:
            reference = [json.loads(l) for l in f if l.strip()]
        if len(reference) < len(rows):
            raise SystemExit(f"{job['libtorch']}: {len(reference)} predictions for {len(rows)} sentences of {job['tsv']}")
    tok = folder_tokenizer(job["model_dir"])
    tok.no_padding()
    threads = job.get("threads", 1)
    onnx = os.path.join(job["model_dir"], "onnx")
    result = {"ok": True, "runtime": runtime_name(), "model": "onnx/model.onnx",
              **check(os.path.join(onnx, "model.onnx"), tok, rows, reference, threads)}
    if job.get("quantized"):
        result["quantized"] = {"model": "onnx/model_quantized.onnx",
                               **check(os.path.join(onnx, "model_quantized.onnx"), tok, rows, reference, threads)}
    text = json.dumps(result, indent=2) + "\n"
    if job.get("output"):
        with open(job["output"], "w") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1])
