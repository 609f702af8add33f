"""Golden data made by Hugging Face transformers itself: small random models of every DistilBERT class and the BERT
classes we have, saved with save_pretrained, with their inputs, outputs, hidden states, attentions, loss and the
gradient of every parameter after one backward pass, in the layout of tests/data/golden (read by
tests/golden/test_hf_golden.cpp):

    .venv/bin/python tests/py/hf_golden.py OUT_DIR [CASE ...]

writes OUT_DIR/<case>/{config.json, model.safetensors, io.safetensors} and prints one JSON line per case. io holds
input_ids, attention_mask[, token_type_ids], the labels, logits / start_logits / end_logits, hidden_states.<i>,
attentions.<i>, loss, and grad.<key> of every trainable parameter under the model's own state-dict key (zeros where the
loss does not reach it). The *_positions cases give explicit position_ids (io holds them): BERT's forward takes them
(a different order in each row); DistilBERT's does not, so its embeddings' buffer of positions is replaced by shifted
ones, shared by the rows. The *_bf16 cases store their weights in bf16 (what `save_pretrained` of a bf16 model
writes) and add bf16.logits and bf16.hidden_states.<i>: the same forward under torch.autocast("cpu", bfloat16), the
fp32 outputs being those of the stored weights upcast. Weights: HF's initialisation, then
N(0, 0.1) added to every parameter (the padding row excepted) so that no bias or LayerNorm weight is a neutral 0/1 a
wrong implementation could get away with. Dropout 0, train mode.
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import BertConfig, DistilBertConfig

V, B, T = 128, 3, 9
LENGTHS = [9, 6, 4]  # rows 1 and 2 are padded


def distil_config(**kw):
    c = dict(vocab_size=V, dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64, dropout=0.0,
             attention_dropout=0.0, seq_classif_dropout=0.0, qa_dropout=0.0, pad_token_id=0,
             attn_implementation="eager")
    c.update(kw)
    return DistilBertConfig(**c)


def bert_config(**kw):
    c = dict(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
             max_position_embeddings=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, type_vocab_size=2,
             pad_token_id=0, attn_implementation="eager")
    c.update(kw)
    return BertConfig(**c)


def ids_and_mask(g, shape):
    """Random ids with padding (id 0, mask 0) at the end: row b keeps LENGTHS[b] tokens; for multiple choice
    (B, C, T) choice c keeps LENGTHS[c]."""
    ids = torch.randint(5, V, shape, generator=g)
    mask = torch.zeros(shape, dtype=torch.long)
    if len(shape) == 2:
        for b, n in enumerate(LENGTHS):
            mask[b, :n] = 1
    else:
        for c in range(shape[1]):
            mask[:, c, :LENGTHS[c]] = 1
    return ids * mask, mask


def token_types(mask):
    types = torch.zeros_like(mask)
    types[..., 4:] = 1
    return types * mask


def token_labels(g, mask, classes):
    labels = torch.randint(0, classes, mask.shape, generator=g)
    labels[mask == 0] = -100
    labels[:, 0] = -100  # a real token without a label too
    return labels


def mlm_labels(g, ids, mask):
    labels = torch.full_like(ids, -100)
    pick = (torch.rand(ids.shape, generator=g) < 0.4) & (mask == 1)
    labels[pick] = ids[pick]
    labels[0, 1] = ids[0, 1]  # at least one
    return labels


def cases():
    D = transformers
    return {
        "distilbert_base": (D.DistilBertModel, distil_config(), None),
        "distilbert_mlm": (D.DistilBertForMaskedLM, distil_config(), "mlm"),
        "distilbert_mlm_untied": (D.DistilBertForMaskedLM, distil_config(tie_word_embeddings=False), "mlm"),
        "distilbert_sinusoidal": (D.DistilBertForMaskedLM, distil_config(sinusoidal_pos_embds=True), "mlm"),
        "distilbert_seqcls": (D.DistilBertForSequenceClassification, distil_config(num_labels=3), "single"),
        "distilbert_seqcls_regression": (D.DistilBertForSequenceClassification, distil_config(num_labels=1), "regr"),
        "distilbert_seqcls_multilabel": (D.DistilBertForSequenceClassification,
                                         distil_config(num_labels=4, problem_type="multi_label_classification"),
                                         "multi"),
        "distilbert_tokcls": (D.DistilBertForTokenClassification, distil_config(num_labels=5), "token"),
        "distilbert_qa": (D.DistilBertForQuestionAnswering, distil_config(), "qa"),
        "distilbert_mc": (D.DistilBertForMultipleChoice, distil_config(), "mc"),
        "bert_base": (D.BertModel, bert_config(), None),
        "bert_mlm": (D.BertForMaskedLM, bert_config(), "mlm"),
        "bert_mlm_untied": (D.BertForMaskedLM, bert_config(tie_word_embeddings=False), "mlm"),
        "bert_seqcls": (D.BertForSequenceClassification, bert_config(num_labels=3), "single"),
        "bert_seqcls_regression": (D.BertForSequenceClassification, bert_config(num_labels=1), "regr"),
        "bert_tokcls": (D.BertForTokenClassification, bert_config(num_labels=5), "token"),
        "bert_qa": (D.BertForQuestionAnswering, bert_config(), "qa"),
        "bert_mc": (D.BertForMultipleChoice, bert_config(), "mc"),
        "distilbert_mlm_positions": (D.DistilBertForMaskedLM, distil_config(), "mlm"),
        "bert_mlm_positions": (D.BertForMaskedLM, bert_config(), "mlm"),
        "distilbert_mlm_bf16": (D.DistilBertForMaskedLM, distil_config(), "mlm"),
        "bert_seqcls_bf16": (D.BertForSequenceClassification, bert_config(num_labels=3), "single"),
    }


def explicit_positions(model, x, bert):
    """Positions other than 0..T-1, returned for io.safetensors. BERT: row 0 shifted by 5, row 1 reversed, row 2
    every other position. DistilBERT: 11..T+10 in every row, put where its embeddings read them."""
    t = torch.arange(T)
    if bert:
        pos = torch.stack([t + 5, t.flip(0), 2 * t])
        x["position_ids"] = pos
        return pos
    pos = (t + 11).unsqueeze(0)
    model.distilbert.embeddings.position_ids = pos.clone()
    return pos.expand(B, T).contiguous()


def make_inputs(g, kind, bert):
    shape = (2, 3, 7) if kind == "mc" else (B, T)
    ids, mask = ids_and_mask(g, shape)
    x = {"input_ids": ids, "attention_mask": mask}
    if bert:
        x["token_type_ids"] = token_types(mask)
    n = shape[0]
    if kind == "mlm":
        x["labels"] = mlm_labels(g, ids, mask)
    elif kind == "single" or kind == "mc":
        x["labels"] = torch.randint(0, 3, (n,), generator=g)
    elif kind == "regr":
        x["labels"] = torch.rand((n,), generator=g) * 5
    elif kind == "multi":
        x["labels"] = (torch.rand((n, 4), generator=g) < 0.5).float()
    elif kind == "token":
        x["labels"] = token_labels(g, mask, 5)
    elif kind == "qa":
        x["start_positions"] = torch.tensor([2, 0, 40])  # 40 > T: HF clamps it to T, which the loss then ignores
        x["end_positions"] = torch.tensor([5, 3, 1])
    return x


def perturb(model, g):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            noise = torch.randn(p.shape, generator=g) * 0.1
            if "word_embeddings" in name:
                noise[0] = 0  # the padding row stays zero
            p.add_(noise)


def run_case(name, out_root, seed):
    cls, config, kind = cases()[name]
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = cls(config)
    perturb(model, g)
    model.train()
    folder = os.path.join(out_root, name)
    bf16 = name.endswith("_bf16")
    if bf16:  # weights stored in bf16 (config torch_dtype bfloat16); the fp32 goldens use them upcast, exactly
        model.to(torch.bfloat16)
    model.save_pretrained(folder, safe_serialization=True)
    model.to(torch.float32)
    x = make_inputs(g, kind, config.model_type == "bert")
    positions = explicit_positions(model, x, config.model_type == "bert") if name.endswith("_positions") else None
    out = model(**x, output_hidden_states=True, output_attentions=True)
    io = {k: v.contiguous() for k, v in x.items()}
    if positions is not None:
        io["position_ids"] = positions
    for key in ("logits", "start_logits", "end_logits", "last_hidden_state"):
        if getattr(out, key, None) is not None:
            io[key] = out[key].detach().clone()
    for i, h in enumerate(out.hidden_states):
        io[f"hidden_states.{i}"] = h.detach().clone()
    for i, a in enumerate(out.attentions):
        io[f"attentions.{i}"] = a.detach().clone()
    if bf16:  # the same forward under bf16 autocast, as HF users run it on CPU
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(**x, output_hidden_states=True)
        io["bf16.logits"] = low.logits.float().clone()
        for i, h in enumerate(low.hidden_states):
            io[f"bf16.hidden_states.{i}"] = h.float().clone()
    loss = getattr(out, "loss", None)
    labelled = loss is not None
    loss = loss if labelled else out.last_hidden_state.pow(2).sum() * 1e-2
    io["loss"] = loss.detach().reshape(())
    loss.backward()
    grads = 0
    for key, p in model.named_parameters():
        if p.requires_grad:  # a parameter the loss does not reach (BertModel's pooler here) has a zero gradient
            io["grad." + key] = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
            grads += 1
    save_file(io, os.path.join(folder, "io.safetensors"))
    print(json.dumps({"case": name, "architecture": type(model).__name__, "transformers": transformers.__version__,
                      "torch": torch.__version__, "loss": float(loss.detach()), "labels": labelled,
                      "grads": grads}))


def main():
    out_root = sys.argv[1]
    names = sys.argv[2:] or list(cases())
    for i, name in enumerate(names):
        run_case(name, out_root, 1000 + i)


if __name__ == "__main__":
    main()
