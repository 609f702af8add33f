"""Load folders written by `distilbert` in Hugging Face transformers and run them on the inputs we stored.

    .venv/bin/python tests/py/hf_load_check.py [--framework pt|tf|flax] DIR [DIR ...]

Each DIR holds config.json (with `architectures`), model.safetensors and io.safetensors (input_ids, attention_mask
[, token_type_ids]). The class named by `architectures[0]` (pt), or its TF* / Flax* twin loaded with
from_pretrained(..., from_pt=True) (tf, flax), loads the folder and runs it in inference mode with hidden states;
DIR/hf_<framework>_out.safetensors gets logits / start_logits / end_logits / last_hidden_state and
hidden_states.<i>. Prints one JSON line per folder with the framework's version and the missing, unexpected and
mismatched keys transformers reported (pt; all must be empty for a faithful folder).
"""
import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
import numpy as np
import transformers
from safetensors.numpy import load_file, save_file

OUTPUTS = ("logits", "start_logits", "end_logits", "last_hidden_state")


def run_pt(arch, folder, inputs):
    import torch
    model, info = getattr(transformers, arch).from_pretrained(folder, output_loading_info=True,
                                                              attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()}, output_hidden_states=True)
    report = {"version": torch.__version__, "missing": sorted(info["missing_keys"]),
              "unexpected": sorted(info["unexpected_keys"]), "mismatched": [str(m) for m in info["mismatched_keys"]]}
    return out, lambda t: t.numpy(), report


def run_tf(arch, folder, inputs):
    import tensorflow as tf
    model = getattr(transformers, "TF" + arch).from_pretrained(folder, from_pt=True)
    out = model(**inputs, output_hidden_states=True, training=False)
    return out, lambda t: t.numpy(), {"version": tf.__version__}


def run_flax(arch, folder, inputs):
    import flax
    model = getattr(transformers, "Flax" + arch).from_pretrained(folder, from_pt=True)
    out = model(**inputs, output_hidden_states=True, train=False)
    return out, np.asarray, {"version": flax.__version__}


def check(framework, folder):
    with open(os.path.join(folder, "config.json")) as f:
        arch = json.load(f)["architectures"][0]
    io = load_file(os.path.join(folder, "io.safetensors"))
    inputs = {k: io[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in io}
    out, to_numpy, report = {"pt": run_pt, "tf": run_tf, "flax": run_flax}[framework](arch, folder, inputs)
    got = {k: to_numpy(out[k]) for k in OUTPUTS if getattr(out, k, None) is not None}
    for i, h in enumerate(out.hidden_states):
        got[f"hidden_states.{i}"] = to_numpy(h)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in got.items()},
              os.path.join(folder, f"hf_{framework}_out.safetensors"))
    print(json.dumps({"folder": folder, "architecture": arch, "framework": framework,
                      "transformers": transformers.__version__, **report}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--framework", choices=("pt", "tf", "flax"), default="pt")
    p.add_argument("folders", nargs="+")
    a = p.parse_args()
    for folder in a.folders:
        check(a.framework, folder)


if __name__ == "__main__":
    main()
