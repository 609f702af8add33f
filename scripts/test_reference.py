#!/usr/bin/python3
"""Self-checks for the Python reference (plain asserts). Run: /usr/bin/python3 scripts/test_reference.py"""
import math
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as R  # noqa: E402
import safetensors_io as st  # noqa: E402


def n_unique(m):
    return sum(p.numel() for p in m.parameters())


def test_param_counts():
    dc = R.distilbert_config()
    assert n_unique(R.DistilBertModel(dc)) == 66362880
    assert n_unique(R.DistilBertForMaskedLM(dc)) == 66985530
    assert n_unique(R.DistilBertForSequenceClassification(R.distilbert_config(num_labels=2))) == 66955010
    bc = R.bert_config()
    assert n_unique(R.BertModel(bc, add_pooling_layer=True)) == 109482240
    assert n_unique(R.BertForMaskedLM(bc)) == 109514298
    print("param counts OK")


def test_state_dict_keys():
    dc = R.distilbert_config(vocab_size=16, dim=8, hidden_dim=16, n_layers=1, n_heads=2, max_position_embeddings=8)
    m = R.DistilBertForMaskedLM(dc)
    keys = set(m.state_dict())
    for k in ["distilbert.embeddings.word_embeddings.weight", "distilbert.embeddings.position_embeddings.weight",
              "distilbert.embeddings.LayerNorm.weight", "distilbert.transformer.layer.0.attention.q_lin.weight",
              "distilbert.transformer.layer.0.attention.out_lin.bias", "distilbert.transformer.layer.0.sa_layer_norm.bias",
              "distilbert.transformer.layer.0.ffn.lin1.weight", "distilbert.transformer.layer.0.output_layer_norm.weight",
              "vocab_transform.weight", "vocab_layer_norm.bias", "vocab_projector.weight", "vocab_projector.bias"]:
        assert k in keys, k
    assert m.vocab_projector.weight is m.distilbert.embeddings.word_embeddings.weight
    bc = R.bert_config(vocab_size=16, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                       num_attention_heads=2, max_position_embeddings=8)
    b = R.BertForMaskedLM(bc)
    keys = set(b.state_dict())
    for k in ["bert.embeddings.token_type_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight",
              "bert.encoder.layer.0.attention.output.dense.weight", "bert.encoder.layer.0.attention.output.LayerNorm.bias",
              "bert.encoder.layer.0.intermediate.dense.weight", "bert.encoder.layer.0.output.dense.bias",
              "bert.encoder.layer.0.output.LayerNorm.weight", "cls.predictions.bias",
              "cls.predictions.transform.dense.weight", "cls.predictions.transform.LayerNorm.weight",
              "cls.predictions.decoder.weight", "cls.predictions.decoder.bias"]:
        assert k in keys, k
    assert not any(k.startswith("bert.pooler") for k in keys)
    names = [n for n, _ in b.named_parameters()]
    assert "cls.predictions.bias" in names and "cls.predictions.decoder.bias" not in names
    assert "bert.embeddings.word_embeddings.weight" in names and "cls.predictions.decoder.weight" not in names
    print("state dict keys OK")


def test_sinusoidal():
    t = R.sinusoidal_table(64, 32)
    assert abs(t[1, 0].item() - math.sin(1.0)) < 1e-6 and abs(t[1, 0].item() - 0.841471) < 1e-6
    assert abs(t[1, 1].item() - math.cos(1.0)) < 1e-6 and abs(t[1, 1].item() - 0.540302) < 1e-6
    assert t[0, 0].item() == 0.0 and t[0, 1].item() == 1.0
    # column pair j=2,3 uses 10000^(2/32)
    assert abs(t[5, 2].item() - math.sin(5 / 10000 ** (2 / 32))) < 1e-6
    m = R.DistilBertModel(R.distilbert_config(vocab_size=16, dim=32, hidden_dim=16, n_layers=1, n_heads=2,
                                              max_position_embeddings=64, sinusoidal_pos_embds=True))
    R.init_weights(m)
    assert torch.equal(m.embeddings.position_embeddings.weight.detach(), t)
    assert not m.embeddings.position_embeddings.weight.requires_grad
    print("sinusoidal OK")


def test_safetensors_roundtrip():
    g = torch.Generator().manual_seed(0)
    d = {
        "f32": torch.randn(3, 4, generator=g),
        "f64": torch.randn(2, generator=g).double(),
        "f16": torch.randn(5, generator=g).half(),
        "bf16": torch.randn(2, 3, generator=g).bfloat16(),
        "i64": torch.tensor([[1, -2], [3, 2 ** 40]], dtype=torch.int64),
        "i32": torch.tensor([7, -8], dtype=torch.int32),
        "i16": torch.tensor([-3], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
        "noncontig": torch.arange(12.0).view(3, 4).t(),
    }
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "x.safetensors")
        st.save_file(d, p, metadata={"format": "pt", "k": "v"})
        raw = open(p, "rb").read()
        n = int.from_bytes(raw[:8], "little")
        assert (8 + n) % 8 == 0
        back = st.load_file(p)
        assert set(back) == set(d)
        for k, v in d.items():
            assert back[k].dtype == v.dtype, k
            assert tuple(back[k].shape) == tuple(v.shape), k
            assert torch.equal(back[k], v.contiguous()), k
        assert st.load_metadata(p) == {"format": "pt", "k": "v"}
        p2 = os.path.join(td, "y.safetensors")
        st.save_file(d, p2, metadata={"format": "pt", "k": "v"})
        assert open(p2, "rb").read() == raw  # deterministic
    print("safetensors round trip OK")


def test_load_folder_roundtrip():
    import json
    torch.manual_seed(0)
    cfg = {"architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": 16, "hidden_size": 8,
           "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 8}
    m = R.init_weights(R.BertForMaskedLM(R.make_config("bert", cfg)))
    with tempfile.TemporaryDirectory() as td:
        json.dump(cfg, open(os.path.join(td, "config.json"), "w"))
        sd = R.canonical_state_dict(m)
        st.save_file(sd, os.path.join(td, "model.safetensors"))
        m2, _ = R.load_folder(td)
        for k, v in m.state_dict().items():
            assert torch.equal(v, m2.state_dict()[k]), k
        # tied key present and equal: ok; present and different: error
        sd2 = dict(m.state_dict())
        st.save_file(sd2, os.path.join(td, "model.safetensors"))
        R.load_folder(td)
        sd2["cls.predictions.decoder.bias"] = sd2["cls.predictions.decoder.bias"] + 1
        st.save_file(sd2, os.path.join(td, "model.safetensors"))
        try:
            R.load_folder(td)
            assert False, "expected tied mismatch error"
        except ValueError:
            pass
        # pooler keys tolerated for BertForMaskedLM; other unexpected keys are errors
        sd3 = dict(sd)
        sd3["bert.pooler.dense.bias"] = torch.zeros(8)
        st.save_file(sd3, os.path.join(td, "model.safetensors"))
        R.load_folder(td)
        sd3["foo.bar"] = torch.zeros(1)
        st.save_file(sd3, os.path.join(td, "model.safetensors"))
        try:
            R.load_folder(td)
            assert False, "expected unexpected-key error"
        except ValueError:
            pass
        sd4 = dict(sd)
        del sd4["bert.embeddings.LayerNorm.bias"]
        st.save_file(sd4, os.path.join(td, "model.safetensors"))
        try:
            R.load_folder(td)
            assert False, "expected missing-key error"
        except ValueError:
            pass
    print("load_folder OK")


def test_masking_semantics():
    # Padded keys must not influence real positions (DistilBERT and BERT).
    torch.manual_seed(1)
    dc = R.distilbert_config(vocab_size=16, dim=8, hidden_dim=16, n_layers=2, n_heads=2, max_position_embeddings=8,
                             dropout=0.0, attention_dropout=0.0)
    bc = R.bert_config(vocab_size=16, hidden_size=8, intermediate_size=16, num_hidden_layers=2, num_attention_heads=2,
                       max_position_embeddings=8, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    for m in (R.init_weights(R.DistilBertModel(dc)), R.init_weights(R.BertModel(bc))):
        m.eval()
        ids = torch.tensor([[3, 4, 5, 6, 7, 8]])
        am = torch.tensor([[1, 1, 1, 1, 0, 0]])
        a = m(ids, am)["last_hidden_state"][:, :4]
        b = m(ids[:, :4], am[:, :4])["last_hidden_state"]
        assert (a - b).abs().max().item() < 1e-5
        w = m(ids, am)["attentions"][0]
        assert w[..., 4:].abs().max().item() == 0.0
    print("masking OK")


if __name__ == "__main__":
    test_safetensors_roundtrip()
    test_sinusoidal()
    test_state_dict_keys()
    test_load_folder_roundtrip()
    test_masking_semantics()
    test_param_counts()
    print("ALL OK")
