"""Load folders written by `distilbert` in Hugging Face transformers and run them on the inputs we stored.

    .venv/bin/python tests/py/hf_load_check.py DIR [DIR ...]

Each DIR holds config.json (with `architectures`), model.safetensors and io.safetensors (input_ids, attention_mask
[, token_type_ids]). The class named by `architectures[0]` loads the folder with from_pretrained
(output_loading_info=True, eager attention), runs it in eval mode with hidden states, and writes DIR/hf_out.safetensors
(logits / start_logits / end_logits / last_hidden_state, hidden_states.<i>). Prints one JSON line per folder with the
missing, unexpected and mismatched keys HF reported (all must be empty for a faithful folder).
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import load_file, save_file


def check(folder):
    with open(os.path.join(folder, "config.json")) as f:
        arch = json.load(f)["architectures"][0]
    cls = getattr(transformers, arch)
    model, info = cls.from_pretrained(folder, output_loading_info=True, attn_implementation="eager")
    model.eval()
    io = load_file(os.path.join(folder, "io.safetensors"))
    inputs = {k: io[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in io}
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True)
    got = {}
    for key in ("logits", "start_logits", "end_logits", "last_hidden_state"):
        if getattr(out, key, None) is not None:
            got[key] = out[key].clone()
    for i, h in enumerate(out.hidden_states):
        got[f"hidden_states.{i}"] = h.clone()
    save_file(got, os.path.join(folder, "hf_out.safetensors"))
    print(json.dumps({"folder": folder, "architecture": arch, "transformers": transformers.__version__,
                      "missing": sorted(info["missing_keys"]), "unexpected": sorted(info["unexpected_keys"]),
                      "mismatched": [str(m) for m in info["mismatched_keys"]]}))


if __name__ == "__main__":
    for d in sys.argv[1:]:
        check(d)
