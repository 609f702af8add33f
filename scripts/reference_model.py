#!/usr/bin/python3
"""Independent plain-torch reference implementation of HF DistilBERT / BERT (written from
docs/MODELS.md, not copied from `transformers`).

Module attribute names are chosen so that `state_dict()` keys equal the HF keys.
Every forward returns a dict:
    logits | start_logits + end_logits | last_hidden_state (+ pooler_output)   outputs
    hidden_states   list of n_layers + 1 tensors (embeddings output, then each layer)
    attentions      list of n_layers post-softmax (post-dropout) probabilities (bs, H, Lq, Lk)
    loss            only when labels / positions are given
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import safetensors_io

# ----------------------------------------------------------------------------------------
# Configs (plain dicts with defaults, docs/MODELS.md §1)
# ----------------------------------------------------------------------------------------

DISTILBERT_DEFAULTS = {
    "vocab_size": 30522,
    "max_position_embeddings": 512,
    "sinusoidal_pos_embds": False,
    "n_layers": 6,
    "n_heads": 12,
    "dim": 768,
    "hidden_dim": 3072,
    "dropout": 0.1,
    "attention_dropout": 0.1,
    "activation": "gelu",
    "initializer_range": 0.02,
    "qa_dropout": 0.1,
    "seq_classif_dropout": 0.2,
    "pad_token_id": 0,
    "tie_word_embeddings": True,
    "problem_type": None,
}

BERT_DEFAULTS = {
    "vocab_size": 30522,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "use_cache": True,
    "classifier_dropout": None,
    "tie_word_embeddings": True,
    "problem_type": None,
}


class Config(object):
    """Attribute-access wrapper over a config dict with defaults. num_labels is derived from
    id2label when present (as PretrainedConfig does), default 2."""

    def __init__(self, d, defaults):
        merged = dict(defaults)
        merged.update(d)
        if "id2label" in merged and merged["id2label"] is not None:
            merged["num_labels"] = len(merged["id2label"])
        elif "num_labels" not in merged:
            merged["num_labels"] = 2
        self.__dict__.update(merged)

    def get(self, k, default=None):
        return self.__dict__.get(k, default)


def distilbert_config(**kw):
    return Config(kw, DISTILBERT_DEFAULTS)


def bert_config(**kw):
    return Config(kw, BERT_DEFAULTS)


# ----------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------

def gelu_erf(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def activation_fn(name):
    if name == "gelu":
        return gelu_erf
    if name == "gelu_new":
        return gelu_tanh
    if name == "relu":
        return F.relu
    if name in ("silu", "swish"):
        return F.silu
    raise ValueError("unsupported activation %r" % name)


def sinusoidal_table(n_pos, dim):
    """docs/MODELS.md §2.4: position_enc[pos, j] = pos / 10000^(2*(j//2)/dim) in numpy float64;
    even columns sin, odd columns cos; cast to float32."""
    position_enc = np.array(
        [[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)],
        dtype=np.float64)
    out = torch.zeros(n_pos, dim, dtype=torch.float32)
    out[:, 0::2] = torch.from_numpy(np.sin(position_enc[:, 0::2])).float()
    out[:, 1::2] = torch.from_numpy(np.cos(position_enc[:, 1::2])).float()
    return out


def resolve_problem_type(config, num_labels, labels):
    if config.problem_type is not None:
        return config.problem_type
    if num_labels == 1:
        return "regression"
    if labels.dtype in (torch.long, torch.int, torch.int16, torch.int8, torch.uint8):
        return "single_label_classification"
    return "multi_label_classification"


def seq_cls_loss(config, num_labels, logits, labels):
    pt = resolve_problem_type(config, num_labels, labels)
    if pt == "regression":
        if num_labels == 1:
            return F.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
        return F.mse_loss(logits, labels.to(logits.dtype))
    if pt == "single_label_classification":
        return F.cross_entropy(logits.view(-1, num_labels), labels.view(-1).long(), ignore_index=-100)
    if pt == "multi_label_classification":
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
    raise ValueError("unknown problem_type %r" % pt)


# ----------------------------------------------------------------------------------------
# DistilBERT (docs/MODELS.md §2)
# ----------------------------------------------------------------------------------------

class DistilEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.dim, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.dim)
        if c.sinusoidal_pos_embds:
            with torch.no_grad():
                self.position_embeddings.weight.copy_(sinusoidal_table(c.max_position_embeddings, c.dim))
            self.position_embeddings.weight.requires_grad = False
        self.LayerNorm = nn.LayerNorm(c.dim, eps=1e-12)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, input_ids):
        L = input_ids.size(1)
        pos = torch.arange(L, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(x))


class DistilAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        if c.dim % c.n_heads != 0:
            raise ValueError("dim must be divisible by n_heads")
        self.n_heads = c.n_heads
        self.dim = c.dim
        self.q_lin = nn.Linear(c.dim, c.dim)
        self.k_lin = nn.Linear(c.dim, c.dim)
        self.v_lin = nn.Linear(c.dim, c.dim)
        self.out_lin = nn.Linear(c.dim, c.dim)
        self.dropout = nn.Dropout(c.attention_dropout)

    def forward(self, x, attention_mask):
        bs, L, _ = x.shape
        H = self.n_heads
        d = self.dim // H

        def shape(t):
            return t.view(bs, L, H, d).transpose(1, 2)

        q = shape(self.q_lin(x))
        k = shape(self.k_lin(x))
        v = shape(self.v_lin(x))
        q = q / math.sqrt(d)  # scaled BEFORE the matmul
        scores = torch.matmul(q, k.transpose(2, 3))  # (bs, H, Lq, Lk)
        mask = (attention_mask == 0).view(bs, 1, 1, L).expand_as(scores)
        scores = scores.masked_fill(mask, torch.finfo(scores.dtype).min)  # replace, not add
        w = F.softmax(scores, dim=-1)
        w = self.dropout(w)
        ctx = torch.matmul(w, v).transpose(1, 2).contiguous().view(bs, L, H * d)
        return self.out_lin(ctx), w


class DistilFFN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.lin1 = nn.Linear(c.dim, c.hidden_dim)
        self.lin2 = nn.Linear(c.hidden_dim, c.dim)
        self.dropout = nn.Dropout(c.dropout)
        self.act = activation_fn(c.activation)

    def forward(self, x):
        return self.dropout(self.lin2(self.act(self.lin1(x))))


class DistilBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = DistilAttention(c)
        self.sa_layer_norm = nn.LayerNorm(c.dim, eps=1e-12)
        self.ffn = DistilFFN(c)
        self.output_layer_norm = nn.LayerNorm(c.dim, eps=1e-12)

    def forward(self, x, attention_mask):
        sa, w = self.attention(x, attention_mask)
        sa = self.sa_layer_norm(sa + x)  # no dropout on attention output
        f = self.ffn(sa)
        return self.output_layer_norm(f + sa), w


class DistilTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([DistilBlock(c) for _ in range(c.n_layers)])


class DistilBertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.embeddings = DistilEmbeddings(c)
        self.transformer = DistilTransformer(c)

    def forward(self, input_ids, attention_mask=None, **unused):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        h = self.embeddings(input_ids)
        hs, atts = [h], []
        for blk in self.transformer.layer:
            h, w = blk(h, attention_mask)
            hs.append(h)
            atts.append(w)
        return {"last_hidden_state": h, "hidden_states": hs, "attentions": atts}


class DistilBertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.act = activation_fn(c.activation)
        self.distilbert = DistilBertModel(c)
        self.vocab_transform = nn.Linear(c.dim, c.dim)
        self.vocab_layer_norm = nn.LayerNorm(c.dim, eps=1e-12)
        self.vocab_projector = nn.Linear(c.dim, c.vocab_size)
        if c.tie_word_embeddings:
            self.vocab_projector.weight = self.distilbert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, labels=None, **unused):
        o = self.distilbert(input_ids, attention_mask)
        h = self.vocab_layer_norm(self.act(self.vocab_transform(o["last_hidden_state"])))
        logits = self.vocab_projector(h)
        out = {"logits": logits, "hidden_states": o["hidden_states"], "attentions": o["attentions"]}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1).long(), ignore_index=-100)
        return out


class DistilBertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.num_labels = c.num_labels
        self.distilbert = DistilBertModel(c)
        self.pre_classifier = nn.Linear(c.dim, c.dim)
        self.classifier = nn.Linear(c.dim, c.num_labels)
        self.dropout = nn.Dropout(c.seq_classif_dropout)

    def forward(self, input_ids, attention_mask=None, labels=None, **unused):
        o = self.distilbert(input_ids, attention_mask)
        p = o["last_hidden_state"][:, 0]
        p = self.dropout(F.relu(self.pre_classifier(p)))
        logits = self.classifier(p)
        out = {"logits": logits, "hidden_states": o["hidden_states"], "attentions": o["attentions"]}
        if labels is not None:
            out["loss"] = seq_cls_loss(self.config, self.num_labels, logits, labels)
        return out


class DistilBertForQuestionAnswering(nn.Module):
    def __init__(self, c):
        super().__init__()
        if c.num_labels != 2:
            raise ValueError("config.num_labels should be 2, but it is %d" % c.num_labels)
        self.config = c
        self.distilbert = DistilBertModel(c)
        self.qa_outputs = nn.Linear(c.dim, c.num_labels)
        self.dropout = nn.Dropout(c.qa_dropout)

    def forward(self, input_ids, attention_mask=None, start_positions=None, end_positions=None, **unused):
        o = self.distilbert(input_ids, attention_mask)
        logits = self.qa_outputs(self.dropout(o["last_hidden_state"]))
        s, e = logits.split(1, dim=-1)
        s = s.squeeze(-1).contiguous()
        e = e.squeeze(-1).contiguous()
        out = {"start_logits": s, "end_logits": e, "hidden_states": o["hidden_states"],
               "attentions": o["attentions"]}
        if start_positions is not None and end_positions is not None:
            if start_positions.dim() > 1:
                start_positions = start_positions.squeeze(-1)
            if end_positions.dim() > 1:
                end_positions = end_positions.squeeze(-1)
            ignored = s.size(1)
            sp = start_positions.long().clamp(0, ignored)
            ep = end_positions.long().clamp(0, ignored)
            ls = F.cross_entropy(s, sp, ignore_index=ignored)
            le = F.cross_entropy(e, ep, ignore_index=ignored)
            out["loss"] = (ls + le) / 2
        return out


class DistilBertForTokenClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.num_labels = c.num_labels
        self.distilbert = DistilBertModel(c)
        self.dropout = nn.Dropout(c.dropout)
        self.classifier = nn.Linear(c.dim, c.num_labels)

    def forward(self, input_ids, attention_mask=None, labels=None, **unused):
        o = self.distilbert(input_ids, attention_mask)
        logits = self.classifier(self.dropout(o["last_hidden_state"]))
        out = {"logits": logits, "hidden_states": o["hidden_states"], "attentions": o["attentions"]}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1).long(), ignore_index=-100)
        return out


class DistilBertForMultipleChoice(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.distilbert = DistilBertModel(c)
        self.pre_classifier = nn.Linear(c.dim, c.dim)
        self.classifier = nn.Linear(c.dim, 1)
        self.dropout = nn.Dropout(c.seq_classif_dropout)

    def forward(self, input_ids, attention_mask=None, labels=None, **unused):
        nc = input_ids.shape[1]
        ids = input_ids.view(-1, input_ids.size(-1))
        am = attention_mask.view(-1, attention_mask.size(-1)) if attention_mask is not None else None
        o = self.distilbert(ids, am)
        p = o["last_hidden_state"][:, 0]
        p = self.dropout(F.relu(self.pre_classifier(p)))
        logits = self.classifier(p).view(-1, nc)
        out = {"logits": logits, "hidden_states": o["hidden_states"], "attentions": o["attentions"]}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits, labels.long())
        return out


# ----------------------------------------------------------------------------------------
# BERT (docs/MODELS.md §3)
# ----------------------------------------------------------------------------------------

class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids=None):
        L = input_ids.size(1)
        pos = torch.arange(L, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos) \
            + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        if c.hidden_size % c.num_attention_heads != 0:
            raise ValueError("hidden_size must be divisible by num_attention_heads")
        self.H = c.num_attention_heads
        self.d = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def forward(self, x, ext_mask):
        bs, L, _ = x.shape

        def shape(t):
            return t.view(bs, L, self.H, self.d).permute(0, 2, 1, 3)

        q = shape(self.query(x))
        k = shape(self.key(x))
        v = shape(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)  # scaled AFTER matmul
        scores = scores + ext_mask
        w = self.dropout(F.softmax(scores, dim=-1))
        ctx = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous().view(bs, L, self.H * self.d)
        return ctx, w


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, inp):
        return self.LayerNorm(self.dropout(self.dense(h)) + inp)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, x, ext_mask):
        ctx, w = self.self(x, ext_mask)
        return self.output(ctx, x), w


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)
        self.act = activation_fn(c.hidden_act)

    def forward(self, x):
        return self.act(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, inp):
        return self.LayerNorm(self.dropout(self.dense(h)) + inp)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x, ext_mask):
        a, w = self.attention(x, ext_mask)
        return self.output(self.intermediate(a), a), w


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c.num_hidden_layers)])


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c, add_pooling_layer=True):
        super().__init__()
        self.config = c
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, **unused):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        h = self.embeddings(input_ids, token_type_ids)
        dt = h.dtype
        ext = (1.0 - attention_mask[:, None, None, :].to(dt)) * torch.finfo(dt).min
        hs, atts = [h], []
        for lyr in self.encoder.layer:
            h, w = lyr(h, ext)
            hs.append(h)
            atts.append(w)
        out = {"last_hidden_state": h, "hidden_states": hs, "attentions": atts}
        if self.pooler is not None:
            out["pooler_output"] = self.pooler(h)
        return out


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.act = activation_fn(c.hidden_act)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x):
        return self.LayerNorm(self.act(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        # `bias` registered before the submodules so the deduplicated parameter name is
        # `cls.predictions.bias` (decoder.bias is the same tensor).
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))
        self.transform = BertPredictionHeadTransform(c)
        self.decoder = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.decoder.bias = self.bias

    def forward(self, x):
        return self.decoder(self.transform(x))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = BertLMPredictionHead(c)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = BertModel(c, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(c)
        if c.tie_word_embeddings:
            self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None, **unused):
        o = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.cls.predictions(o["last_hidden_state"])
        out = {"logits": logits, "hidden_states": o["hidden_states"], "attentions": o["attentions"]}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1).long(), ignore_index=-100)
        return out


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.num_labels = c.num_labels
        self.bert = BertModel(c, add_pooling_layer=True)
        p = c.classifier_dropout if c.classifier_dropout is not None else c.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(c.hidden_size, c.num_labels)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None, **unused):
        o = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.classifier(self.dropout(o["pooler_output"]))
        out = {"logits": logits, "hidden_states": o["hidden_states"], "attentions": o["attentions"]}
        if labels is not None:
            out["loss"] = seq_cls_loss(self.config, self.num_labels, logits, labels)
        return out


# ----------------------------------------------------------------------------------------
# Registry, init, tied keys, loading
# ----------------------------------------------------------------------------------------

ARCHITECTURES = {
    "DistilBertModel": ("distilbert", DistilBertModel),
    "DistilBertForMaskedLM": ("distilbert", DistilBertForMaskedLM),
    "DistilBertForSequenceClassification": ("distilbert", DistilBertForSequenceClassification),
    "DistilBertForQuestionAnswering": ("distilbert", DistilBertForQuestionAnswering),
    "DistilBertForTokenClassification": ("distilbert", DistilBertForTokenClassification),
    "DistilBertForMultipleChoice": ("distilbert", DistilBertForMultipleChoice),
    "BertModel": ("bert", BertModel),
    "BertForMaskedLM": ("bert", BertForMaskedLM),
    "BertForSequenceClassification": ("bert", BertForSequenceClassification),
}

BASE_PREFIX = {"DistilBertModel": "distilbert.", "BertModel": "bert."}


def make_config(model_type, d):
    if model_type == "distilbert":
        return Config(d, DISTILBERT_DEFAULTS)
    if model_type == "bert":
        return Config(d, BERT_DEFAULTS)
    raise ValueError("unsupported model_type %r" % model_type)


def build(arch, config):
    if arch not in ARCHITECTURES:
        raise ValueError("unsupported architecture %r" % arch)
    return ARCHITECTURES[arch][1](config)


def tied_keys(model):
    """{tied_key: source_key} for the model's tied (duplicate) state-dict entries."""
    c = model.config
    if not c.tie_word_embeddings:
        if isinstance(model, BertForMaskedLM):
            return {"cls.predictions.decoder.bias": "cls.predictions.bias"}
        return {}
    if isinstance(model, DistilBertForMaskedLM):
        return {"vocab_projector.weight": "distilbert.embeddings.word_embeddings.weight"}
    if isinstance(model, BertForMaskedLM):
        return {"cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
                "cls.predictions.decoder.bias": "cls.predictions.bias"}
    return {}


def canonical_state_dict(model, keep_vars=False):
    """State dict with tied duplicates removed (what HF save_pretrained writes)."""
    sd = model.state_dict(keep_vars=keep_vars)
    for k in tied_keys(model):
        sd.pop(k, None)
    return sd


def init_weights(model):
    """docs/MODELS.md §2.4 (4.x _init_weights): Linear N(0, std) + zero bias; Embedding N(0, std) with
    the padding row zeroed; LayerNorm 1/0. Sinusoidal position tables are re-written afterwards
    (v2.x / v5 behaviour) and stay frozen. BERT MLM bias is zero."""
    c = model.config
    std = c.initializer_range
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, std)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.LayerNorm):
                m.weight.fill_(1.0)
                m.bias.zero_()
            elif isinstance(m, BertLMPredictionHead):
                m.bias.zero_()
        # Embeddings after Linears: a tied decoder/projector weight is the embedding weight,
        # and it must end up with the embedding init (padding row zero), as after HF tie_weights().
        for m in model.modules():
            if isinstance(m, nn.Embedding):
                m.weight.normal_(0.0, std)
                if m.padding_idx is not None:
                    m.weight[m.padding_idx].zero_()
        for m in model.modules():
            if isinstance(m, DistilEmbeddings) and c.sinusoidal_pos_embds:
                m.position_embeddings.weight.copy_(
                    sinusoidal_table(c.max_position_embeddings, c.dim))
    return model


def _allowed_unexpected(arch, key):
    if key.endswith("position_ids"):  # old non-persistent buffer, ignored by HF too
        return True
    if arch == "BertForMaskedLM" and (key.startswith("bert.pooler.") or key.startswith("cls.seq_relationship.")):
        return True
    return False


def load_state_strict(model, arch, sd):
    """Load by key name. Missing keys are an error except tied duplicates; tied duplicates
    that ARE present must equal their source. Unexpected keys are an error except the
    allowed ones (_allowed_unexpected)."""
    own = model.state_dict(keep_vars=True)
    ties = tied_keys(model)
    # Base model loaded from a checkpoint saved with the head prefix (e.g. "distilbert.").
    prefix = BASE_PREFIX.get(arch)
    if prefix and not any(k in sd for k in own) and any(k.startswith(prefix) for k in sd):
        sd = {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in sd.items()}
    errors = []
    for k, p in own.items():
        if k in ties:
            continue
        if k not in sd:
            errors.append("missing key: %s" % k)
            continue
        v = sd[k]
        if tuple(v.shape) != tuple(p.shape):
            errors.append("shape mismatch for %s: file %s vs model %s" % (k, list(v.shape), list(p.shape)))
            continue
        with torch.no_grad():
            p.copy_(v.to(p.dtype))
    for k in sd:
        if k not in own and not _allowed_unexpected(arch, k):
            errors.append("unexpected key: %s" % k)
    if errors:
        raise ValueError("strict load failed:\n  " + "\n  ".join(errors))
    for k, src in ties.items():
        if k in sd:
            if not torch.equal(sd[k].to(own[src].dtype), own[src].detach()):
                raise ValueError("tied key %s present but differs from %s" % (k, src))
    return model


def load_folder(d):
    """Read config.json + model.safetensors from folder d; returns (model, config dict)."""
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    archs = cfg.get("architectures") or []
    if not archs:
        raise ValueError("config.json has no architectures")
    arch = archs[0]
    if arch not in ARCHITECTURES:
        raise ValueError("unsupported architecture %r" % arch)
    mt = cfg.get("model_type", ARCHITECTURES[arch][0])
    if mt != ARCHITECTURES[arch][0]:
        raise ValueError("model_type %r does not match architecture %r" % (mt, arch))
    config = make_config(mt, cfg)
    model = build(arch, config)
    sd = safetensors_io.load_file(os.path.join(d, "model.safetensors"))
    load_state_strict(model, arch, sd)
    return model, cfg
