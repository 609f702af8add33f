"""Run a real pretrained checkpoint in Hugging Face transformers on the inputs `distilbert predict --dump-tensors`
used, for tests/integration/test_real_weights.cpp.

    .venv/bin/python tests/py/hf_run_model.py MODEL_DIR dump.safetensors sentences.txt out.safetensors

Loads MODEL_DIR with AutoModel (eager attention, eval), runs it on the dump's input_ids / attention_mask
[/ token_type_ids] and writes out.safetensors: hidden_states.<i>, last_hidden_state, the ids HF's own fast tokenizer
(AutoTokenizer from MODEL_DIR) gives the sentences padded to the longest ("hf_input_ids"), and, where MODEL_DIR is a
sentence-transformers folder (modules.json), the normalised sentence embeddings SentenceTransformer.encode gives
("sentence_embeddings"). Prints the library versions as JSON.
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer


def main(model_dir, dump_path, sentences_path, out_path):
    dump = load_file(dump_path)
    with open(sentences_path, encoding="utf-8") as f:
        sentences = [l.rstrip("\n") for l in f if l.strip()]
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    inputs = {k: dump[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in dump}
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True)
    res = {f"hidden_states.{i}": h.clone() for i, h in enumerate(out.hidden_states)}
    res["last_hidden_state"] = out.last_hidden_state.clone()
    tok = AutoTokenizer.from_pretrained(model_dir)
    res["hf_input_ids"] = tok(sentences, padding=True, return_tensors="pt")["input_ids"]
    versions = {"transformers": transformers.__version__, "torch": torch.__version__}
    if os.path.exists(os.path.join(model_dir, "modules.json")):
        import sentence_transformers
        st = sentence_transformers.SentenceTransformer(model_dir, device="cpu")
        res["sentence_embeddings"] = torch.from_numpy(st.encode(sentences, normalize_embeddings=True)).float()
        versions["sentence_transformers"] = sentence_transformers.__version__
    save_file({k: v.contiguous() for k, v in res.items()}, out_path)
    print(json.dumps(versions))


if __name__ == "__main__":
    main(*sys.argv[1:5])
