"""What the ONNX Runtime checks share: a CPU session with a thread count, and an exported folder's tokenizer.

The exported folder is tokenized by HF `tokenizers` from its own tokenizer.json (the fast tokenizer that
transformers' pipelines use), not by our C++ tokenizer, so that these checks also prove the folder is complete.
"""
import os

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def session(model_path, threads=1, optimization="all"):
    """An InferenceSession on the CPU execution provider with `threads` intra-op threads."""
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    }[optimization]
    return ort.InferenceSession(model_path, o, providers=["CPUExecutionProvider"])


def runtime_name():
    return f"onnxruntime {ort.__version__} (Python)"


def folder_tokenizer(model_dir, max_length=128):
    """The folder's tokenizer.json, padding to the longest and truncating to `max_length`."""
    path = os.path.join(model_dir, "tokenizer.json")
    if not os.path.isfile(path):
        raise SystemExit(f"{path}: missing (export writes tokenizer.json beside config.json)")
    tok = Tokenizer.from_file(path)
    tok.enable_truncation(max_length)
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]")
    return tok


def feeds(sess, encodings):
    """Graph inputs from a batch of `tokenizers` encodings (int64, as exported)."""
    all_inputs = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
    return {i.name: all_inputs[i.name] for i in sess.get_inputs()}


def logits(sess, tok, texts, batch=16):
    """The first output of `sess` for `texts`, one row per text (float64)."""
    rows = []
    for i in range(0, len(texts), batch):
        out = sess.run(None, feeds(sess, tok.encode_batch(texts[i:i + batch])))[0]
        rows.append(out.astype(np.float64))
    return np.concatenate(rows)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
