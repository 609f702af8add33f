#!/usr/bin/python3
"""Generate golden test cases under tests/data/golden/<case>/ from the Python reference.

Each case folder holds:
  config.json        HF-style config (architectures, model_type, all docs/MODELS.md §1 fields)
  model.safetensors  F32 state dict with tied duplicates omitted (as HF save_pretrained)
  io.safetensors     inputs, labels, expected outputs, loss, and grad.<canonical key>
  meta.json          torch version, seed, description, format_version

Deterministic: running it twice gives byte-identical files.
Usage: /usr/bin/python3 scripts/make_golden.py [--out tests/data/golden]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as R  # noqa: E402
import safetensors_io as st  # noqa: E402

FORMAT_VERSION = 1
BASE_SEED = 20240601
BS, L = 3, 11
LENGTHS = [11, 7, 4]
PERTURB_STD = 0.1         # added to every bias and LayerNorm weight/bias
WEIGHT_PERTURB_STD = 0.1  # added to every trainable Linear/Embedding weight (not the padding row)

DISTIL_TINY = {
    "activation": "gelu",
    "attention_dropout": 0.0,
    "dim": 32,
    "dropout": 0.0,
    "hidden_dim": 64,
    "initializer_range": 0.02,
    "max_position_embeddings": 64,
    "n_heads": 4,
    "n_layers": 2,
    "pad_token_id": 0,
    "qa_dropout": 0.0,
    "seq_classif_dropout": 0.0,
    "sinusoidal_pos_embds": False,
    "tie_word_embeddings": True,
    "vocab_size": 128,
}

BERT_TINY = {
    "attention_probs_dropout_prob": 0.0,
    "classifier_dropout": None,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 64,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "tie_word_embeddings": True,
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 128,
}


def labels_dict(n):
    return ({str(i): "LABEL_%d" % i for i in range(n)}, {"LABEL_%d" % i: i for i in range(n)})


# ---------------------------------------------------------------------------------------
# Input builders (all randomness from an explicit generator)
# ---------------------------------------------------------------------------------------

def make_ids(g, lengths, vocab, length=L):
    n = len(lengths)
    ids = torch.zeros(n, length, dtype=torch.long)
    am = torch.zeros(n, length, dtype=torch.long)
    for i, ln in enumerate(lengths):
        ids[i, :ln] = torch.randint(1, vocab, (ln,), generator=g)
        am[i, :ln] = 1
    return ids, am


def make_token_types(lengths, length=L):
    tt = torch.zeros(len(lengths), length, dtype=torch.long)
    for i, ln in enumerate(lengths):
        tt[i, ln // 2 + 1:ln] = 1  # segment B = second part of the real tokens
    return tt


def make_mlm_labels(g, ids, lengths, vocab):
    labels = torch.full_like(ids, -100)
    for i, ln in enumerate(lengths):
        k = min(4, ln - 1)
        pos = torch.randperm(ln, generator=g)[:k]
        labels[i, pos] = torch.randint(1, vocab, (k,), generator=g)
    return labels


# ---------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------

def case_defs():
    cases = []

    def add(name, arch, base, extra, desc, inputs_fn):
        cases.append({"name": name, "arch": arch, "base": base, "extra": extra, "desc": desc, "inputs": inputs_fn})

    V = 128

    def bert_mlm(g):
        ids, am = make_ids(g, LENGTHS, V)
        return {"input_ids": ids, "attention_mask": am, "token_type_ids": make_token_types(LENGTHS),
                "labels": make_mlm_labels(g, ids, LENGTHS, V)}

    def bert_seqcls(g):
        ids, am = make_ids(g, LENGTHS, V)
        return {"input_ids": ids, "attention_mask": am, "token_type_ids": make_token_types(LENGTHS),
                "labels": torch.tensor([2, 0, 1], dtype=torch.long)}

    def d_mlm(g):
        ids, am = make_ids(g, LENGTHS, V)
        return {"input_ids": ids, "attention_mask": am, "labels": make_mlm_labels(g, ids, LENGTHS, V)}

    def d_single(g):
        ids, am = make_ids(g, LENGTHS, V)
        return {"input_ids": ids, "attention_mask": am, "labels": torch.tensor([1, 2, 0], dtype=torch.long)}

    def d_regr(g):
        ids, am = make_ids(g, LENGTHS, V)
        return {"input_ids": ids, "attention_mask": am, "labels": torch.randn(BS, generator=g)}

    def d_multi(g):
        ids, am = make_ids(g, LENGTHS, V)
        lab = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]], dtype=torch.float32)
        return {"input_ids": ids, "attention_mask": am, "labels": lab}

    def d_tok(g):
        ids, am = make_ids(g, LENGTHS, V)
        lab = torch.randint(0, 5, (BS, L), generator=g)
        lab[am == 0] = -100
        lab[0, 0] = -100  # one ignored real token too
        return {"input_ids": ids, "attention_mask": am, "labels": lab}

    def d_qa(g):
        ids, am = make_ids(g, LENGTHS, V)
        # start row 1 and end row 2 are > L -> clamped to L -> ignored (ignore_index = L)
        return {"input_ids": ids, "attention_mask": am,
                "start_positions": torch.tensor([1, 13, 0], dtype=torch.long),
                "end_positions": torch.tensor([4, 5, 30], dtype=torch.long)}

    def d_mc(g):
        lens = [[11, 9, 6], [8, 11, 5]]
        ids = torch.zeros(2, 3, L, dtype=torch.long)
        am = torch.zeros(2, 3, L, dtype=torch.long)
        for i in range(2):
            ids[i], am[i] = make_ids(g, lens[i], V)
        return {"input_ids": ids, "attention_mask": am, "labels": torch.tensor([1, 2], dtype=torch.long)}

    add("bert_mlm", "BertForMaskedLM", "bert", {},
        "BertForMaskedLM, token_type_ids with segment B, MLM labels (-100 elsewhere)", bert_mlm)
    add("bert_seqcls", "BertForSequenceClassification", "bert", {"num_labels": 3},
        "BertForSequenceClassification (pooler), 3 labels, problem_type unset + long labels -> single-label CE",
        bert_seqcls)
    add("distilbert_mlm", "DistilBertForMaskedLM", "distilbert", {},
        "DistilBertForMaskedLM, learned positions, MLM labels (-100 elsewhere)", d_mlm)
    add("distilbert_seqcls_single", "DistilBertForSequenceClassification", "distilbert", {"num_labels": 3},
        "DistilBertForSequenceClassification, 3 labels, problem_type unset + long labels -> single-label CE", d_single)
    add("distilbert_seqcls_regression", "DistilBertForSequenceClassification", "distilbert", {"num_labels": 1},
        "DistilBertForSequenceClassification, num_labels 1, problem_type unset -> regression MSE(squeeze)", d_regr)
    add("distilbert_seqcls_multilabel", "DistilBertForSequenceClassification", "distilbert",
        {"num_labels": 4, "problem_type": "multi_label_classification"},
        "DistilBertForSequenceClassification, 4 labels, problem_type multi_label_classification -> BCEWithLogits",
        d_multi)
    add("distilbert_tokcls", "DistilBertForTokenClassification", "distilbert", {"num_labels": 5},
        "DistilBertForTokenClassification, 5 labels, -100 on pads and on [0,0]", d_tok)
    add("distilbert_qa", "DistilBertForQuestionAnswering", "distilbert", {"num_labels": 2},
        "DistilBertForQuestionAnswering; start_positions[1]=13 and end_positions[2]=30 exceed L=11 -> clamped to L "
        "and ignored (CE ignore_index=L); loss=(start+end)/2", d_qa)
    add("distilbert_mc", "DistilBertForMultipleChoice", "distilbert", {"num_labels": 2},
        "DistilBertForMultipleChoice, input (2 examples, 3 choices, 11); hidden_states/attentions are over the "
        "flattened (6, 11) batch", d_mc)
    add("distilbert_sinusoidal", "DistilBertForMaskedLM", "distilbert", {"sinusoidal_pos_embds": True},
        "DistilBertForMaskedLM with sinusoidal_pos_embds=true: stored position table = sinusoidal table (frozen, "
        "no grad key); io holds sinusoidal_table [64,32]", d_mlm)
    return cases


# ---------------------------------------------------------------------------------------

def full_config(case):
    if case["base"] == "distilbert":
        cfg = dict(DISTIL_TINY)
        cfg["model_type"] = "distilbert"
    else:
        cfg = dict(BERT_TINY)
        cfg["model_type"] = "bert"
    cfg["architectures"] = [case["arch"]]
    extra = dict(case["extra"])
    n = extra.pop("num_labels", None)
    cfg.update(extra)
    if n is not None:
        cfg["id2label"], cfg["label2id"] = labels_dict(n)
    cfg["torch_dtype"] = "float32"
    return cfg


def perturb(model, g):
    """Add N(0, PERTURB_STD) to every bias and every LayerNorm weight, and N(0, WEIGHT_PERTURB_STD)
    to every other trainable weight (deduplicated params; embedding padding rows stay zero;
    a frozen sinusoidal table is untouched). With plain N(0, 0.02) weights on a dim-32 model,
    attention is nearly uniform and activations sit in the linear regime, so e.g. gelu vs
    gelu_new or a missing 1/sqrt(d) would change the outputs by only ~1e-5..1e-3."""
    ln_weights = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.LayerNorm)}
    pad_rows = {id(m.weight): m.padding_idx for m in model.modules()
                if isinstance(m, torch.nn.Embedding) and m.padding_idx is not None}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            if name.endswith("bias") or id(p) in ln_weights:
                p.add_(torch.randn(p.shape, generator=g) * PERTURB_STD)
            else:
                p.add_(torch.randn(p.shape, generator=g) * WEIGHT_PERTURB_STD)
                if id(p) in pad_rows:
                    p[pad_rows[id(p)]].zero_()


def f32(t):
    return t.detach().to(torch.float32).contiguous().clone()


def run_case(case, idx, out_root):
    seed = BASE_SEED + idx
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    cfg = full_config(case)
    config = R.make_config(cfg["model_type"], cfg)
    model = R.build(case["arch"], config)
    R.init_weights(model)  # global RNG (seeded above)
    perturb(model, g)
    inputs = case["inputs"](g)

    # Training-mode forward + backward (all dropouts are 0).
    model.train()
    model.zero_grad(set_to_none=True)
    out = model(**inputs)
    out["loss"].backward()

    # Sanity: eval/no_grad forward gives the same outputs.
    model.eval()
    with torch.no_grad():
        out_eval = model(**{k: v for k, v in inputs.items()})
    for k in ("logits", "start_logits", "end_logits", "loss"):
        if k in out:
            assert torch.allclose(out[k], out_eval[k], atol=0, rtol=0), k

    io = {}
    for k, v in inputs.items():
        io[k] = v.clone() if v.dtype == torch.long else f32(v)
    for k in ("logits", "start_logits", "end_logits"):
        if k in out:
            io[k] = f32(out[k])
    for i, h in enumerate(out["hidden_states"]):
        io["hidden_states.%d" % i] = f32(h)
    for i, a in enumerate(out["attentions"]):
        io["attentions.%d" % i] = f32(a)
    io["loss"] = f32(out["loss"]).reshape(())
    for k, p in R.canonical_state_dict(model, keep_vars=True).items():
        if isinstance(p, torch.nn.Parameter) and p.grad is not None:
            io["grad." + k] = f32(p.grad)
    if config.get("sinusoidal_pos_embds"):
        io["sinusoidal_table"] = R.sinusoidal_table(config.max_position_embeddings, config.dim)

    d = os.path.join(out_root, case["name"])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    sd = {k: f32(v) for k, v in R.canonical_state_dict(model).items()}
    st.save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    st.save_file(io, os.path.join(d, "io.safetensors"), metadata={"format": "pt"})
    meta = {
        "format_version": FORMAT_VERSION,
        "case": case["name"],
        "architecture": case["arch"],
        "description": case["desc"],
        "seed": seed,
        "torch_version": torch.__version__,
        "generator": "scripts/make_golden.py (reference: scripts/reference_model.py)",
        "init": "SPEC 2.4 init (normal 0.02, zero bias, LN 1/0, padding row 0) then +N(0,%g) on all biases and "
                "LayerNorm weights and +N(0,%g) on all other trainable weights (padding row kept 0)"
                % (PERTURB_STD, WEIGHT_PERTURB_STD),
        "mode": "train() (all dropout p=0); loss.backward() for grads",
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")

    # Self-check: the folder reloads strictly and reproduces the logits.
    m2, _ = R.load_folder(d)
    m2.eval()
    with torch.no_grad():
        o2 = m2(**inputs)
    for k in ("logits", "start_logits", "end_logits"):
        if k in out:
            assert torch.equal(o2[k], io[k]), (case["name"], k)
    return io


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "golden"))
    ap.add_argument("--list", action="store_true", help="print io keys per case")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_root = os.path.normpath(a.out)
    os.makedirs(out_root, exist_ok=True)
    total = 0
    for idx, case in enumerate(case_defs()):
        io = run_case(case, idx, out_root)
        d = os.path.join(out_root, case["name"])
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        total += size
        print("%-30s %7d bytes  loss=%.6f" % (case["name"], size, io["loss"].item()))
        if a.list:
            print("   ", " ".join(sorted(io)))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
