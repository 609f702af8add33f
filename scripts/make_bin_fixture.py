#!/usr/bin/python3
"""Write tests/data/golden/bert_mlm_bin/ (zip format) and bert_mlm_bin_legacy/ (pre-1.6 format): the bert_mlm golden weights as an old-style pytorch_model.bin.

Like the original TF-converted bert-base-uncased checkpoint, it uses LayerNorm gamma/beta names, stores the tied
decoder weight and bias as separate entries, and carries the pooler, cls.seq_relationship and the
embeddings.position_ids buffer. Saved with torch.save (zip format), so the C++ loader reads it with
torch::pickle_load. Run with Debian's python3-torch: /usr/bin/python3 scripts/make_bin_fixture.py
"""
import collections
import json
import os
import shutil

import torch

from safetensors_io import load_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "tests/data/golden/bert_mlm")
DST = os.path.join(ROOT, "tests/data/golden/bert_mlm_bin")


def main():
    state = load_file(os.path.join(SRC, "model.safetensors"))
    cfg = json.load(open(os.path.join(SRC, "config.json")))
    hidden = cfg["hidden_size"]
    g = torch.Generator().manual_seed(7)
    out = collections.OrderedDict()
    for k, v in state.items():
        if "LayerNorm" in k:
            k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        out[k] = v.clone()
    out["cls.predictions.decoder.weight"] = state["bert.embeddings.word_embeddings.weight"].clone()
    out["cls.predictions.decoder.bias"] = state["cls.predictions.bias"].clone()
    out["bert.embeddings.position_ids"] = torch.arange(cfg["max_position_embeddings"]).unsqueeze(0)
    out["bert.pooler.dense.weight"] = torch.randn(hidden, hidden, generator=g) * 0.02
    out["bert.pooler.dense.bias"] = torch.zeros(hidden)
    out["cls.seq_relationship.weight"] = torch.randn(2, hidden, generator=g) * 0.02
    out["cls.seq_relationship.bias"] = torch.zeros(2)
    # A real model.state_dict() carries a _metadata attribute (pickled through BUILD).
    out._metadata = collections.OrderedDict({"": {"version": 1}, "bert": {"version": 1}})
    for dst, zipped in ((DST, True), (DST + "_legacy", False)):
        os.makedirs(dst, exist_ok=True)
        torch.save(out, os.path.join(dst, "pytorch_model.bin"), _use_new_zipfile_serialization=zipped)
        shutil.copy(os.path.join(SRC, "config.json"), os.path.join(dst, "config.json"))


if __name__ == "__main__":
    main()
