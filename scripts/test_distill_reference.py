#!/usr/bin/python3
"""Self-checks for scripts/distill_reference.py and tests/data/golden_distill (plain asserts).
Run: /usr/bin/python3 scripts/test_distill_reference.py"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import distill_reference as D  # noqa: E402
import reference_model as R  # noqa: E402
import safetensors_io as st  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
GOLD = os.path.join(ROOT, "tests", "data", "golden_distill")
GOLDEN_MODELS = os.path.join(ROOT, "tests", "data", "golden")


def ce_only(s_logits, t_logits, T, am=None):
    s = torch.tensor(s_logits, dtype=torch.float64).view(1, -1, len(s_logits[0]))
    t = torch.tensor(t_logits, dtype=torch.float64).view(1, -1, len(t_logits[0]))
    L = s.size(1)
    am = torch.ones(1, L, dtype=torch.long) if am is None else torch.tensor([am])
    h = torch.ones(1, L, 4, dtype=torch.float64)
    labels = torch.full((1, L), -100, dtype=torch.long)
    return D.distill_losses(s, t, h, h, am, labels, T, 1.0, 0.0, 0.0, 0.0, False)


def test_kl_formula():
    ps, pt = [0.2, 0.3, 0.5], [0.5, 0.25, 0.25]
    s, t = [[math.log(x) for x in ps]], [[math.log(x) for x in pt]]
    # T = 1: KL(pt || ps)
    want1 = sum(b * math.log(b / a) for a, b in zip(ps, pt))
    got1 = ce_only(s, t, 1.0)["loss_ce"].item()
    assert abs(got1 - want1) < 1e-14, (got1, want1)
    assert abs(want1 - 0.5 * math.log(2.5) - 0.25 * math.log(0.25 / 0.3) - 0.25 * math.log(0.5)) < 1e-15
    # T = 2: softmax(log p / 2) = sqrt(p) / sum sqrt(p); loss = KL * T^2
    qs = [math.sqrt(x) / sum(math.sqrt(y) for y in ps) for x in ps]
    qt = [math.sqrt(x) / sum(math.sqrt(y) for y in pt) for x in pt]
    want2 = 4.0 * sum(b * math.log(b / a) for a, b in zip(qs, qt))
    got2 = ce_only(s, t, 2.0)["loss_ce"].item()
    assert abs(got2 - want2) < 1e-14, (got2, want2)
    # batchmean over selected rows: 2 real rows (+1 pad row with garbage) -> mean of the per-row KLs
    s3 = s + [[0.0, 1.0, 2.0], [5.0, -5.0, 0.0]]
    t3 = t + [[0.0, 0.0, 0.0], [-3.0, 9.0, 1.0]]
    row2 = sum(b * math.log(b / a) for a, b in zip([math.exp(x) / sum(math.exp(y) for y in [0, 1, 2]) for x in [0, 1, 2]],
                                                      [1 / 3.0] * 3))
    got3 = ce_only(s3, t3, 1.0, am=[1, 1, 0])["loss_ce"].item()
    assert abs(got3 - (want1 + row2) / 2) < 1e-14
    print("KL formula OK (T=1: %.6f, T=2: %.6f)" % (want1, want2))


def test_mse_mlm_restrict():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    t = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    am = torch.tensor([[1, 1, 1], [1, 1, 0]])
    labels = torch.tensor([[-100, 2, -100], [4, -100, -100]])
    h = torch.ones(2, 3, 4, dtype=torch.float64)
    o = D.distill_losses(s, t, h, h, am, labels, 1.0, 0.0, 1.0, 1.0, 0.0, False)
    want_mse = ((s - t) ** 2)[am.bool()].sum().item() / 5
    assert abs(o["loss_mse"].item() - want_mse) < 1e-12
    ls = torch.log_softmax(s, -1)
    want_mlm = -(ls[0, 1, 2] + ls[1, 0, 4]).item() / 2
    assert abs(o["loss_mlm"].item() - want_mlm) < 1e-12
    assert abs(o["loss"].item() - (want_mse + want_mlm)) < 1e-12  # alpha_ce = 0
    o2 = D.distill_losses(s, t, h, h, am, labels, 1.0, 1.0, 0.0, 1.0, 0.0, True)
    sel = labels > -1
    want_mse2 = ((s - t) ** 2)[sel].sum().item() / 2
    assert abs(o2["loss_mse"].item() - want_mse2) < 1e-12
    # alpha 0 terms are not computed unless compute_all
    assert "loss_cos" not in o2 and "loss_mlm" not in o2
    print("MSE / MLM / restrict_ce_to_mask OK")


def test_cosine():
    e1 = [1.0, 0.0, 0.0, 0.0]
    e2 = [0.0, 2.0, 0.0, 0.0]
    sh = torch.tensor([[e1, e1, e1, [9.0, 9, 9, 9]]], dtype=torch.float64)
    th = torch.tensor([[[3.0, 0, 0, 0], e2, [-1.0, 0, 0, 0], [1.0, -1, 2, 5]]], dtype=torch.float64)
    am = torch.tensor([[1, 1, 1, 0]])
    logits = torch.zeros(1, 4, 3, dtype=torch.float64)
    labels = torch.full((1, 4), -100)
    o = D.distill_losses(logits, logits, sh, th, am, labels, 2.0, 0.0, 0.0, 0.0, 1.0, False)
    # parallel -> 0, orthogonal -> 1, antiparallel -> 2; pad row ignored; mean = 1
    assert abs(o["loss_cos"].item() - 1.0) < 1e-12
    o1 = D.distill_losses(logits, logits, sh[:, :1], th[:, :1], am[:, :1], labels[:, :1], 2.0, 0.0, 0.0, 0.0, 1.0,
                          False)
    assert abs(o1["loss_cos"].item()) < 1e-12
    assert abs(o["loss"].item() - 1.0) < 1e-12 and abs(o["loss_ce"].item()) < 1e-15
    # layer pairs: (1, 1) = sh vs th (same as the last-layer term), (1, 0) = sh vs sh (0);
    # pair losses are averaged over pairs; mse = mean over non-pad tokens and dims
    sh_list, th_list = [th, sh], [sh, th]
    o2 = D.distill_losses(logits, logits, sh, th, am, labels, 2.0, 0.0, 0.0, 0.0, 0.0, False,
                          layer_pairs=[(1, 1), (1, 0)], student_hidden_states=sh_list,
                          teacher_hidden_states=th_list, alpha_layer_cos=1.0, alpha_layer_mse=0.5)
    c_pairs = [x.item() for x in o2["loss_layer_cos_pairs"]]
    assert abs(c_pairs[0] - o["loss_cos"].item()) < 1e-15 and abs(c_pairs[1]) < 1e-11
    m0 = ((sh - th) ** 2)[0, :3].mean().item()
    assert abs(m0 - 13.0 / 12.0) < 1e-15  # squared diffs per row: 4, 1+4, 4 over 3 rows x 4 dims
    assert abs(o2["loss_layer_mse_pairs"][0].item() - m0) < 1e-12
    assert o2["loss_layer_mse_pairs"][1].item() == 0.0
    assert abs(o2["loss_layer_cos"].item() - 0.5) < 1e-12
    assert abs(o2["loss_layer_mse"].item() - m0 / 2) < 1e-12
    assert abs(o2["loss"].item() - (0.5 + 0.5 * m0 / 2)) < 1e-12
    try:
        D.distill_losses(logits, logits, sh, th, am, labels, 2.0, 0.0, 0.0, 0.0, 0.0, False, layer_pairs=[(0, 2)],
                         student_hidden_states=sh_list, teacher_hidden_states=th_list, alpha_layer_cos=1.0)
        assert False, "expected out-of-range error"
    except ValueError:
        pass
    print("cosine / layer pairs OK")


def test_schedule():
    assert D.num_warmup_steps(6, 0.2) == 2
    assert D.num_warmup_steps(100, 0.07) == 8  # ceil(7.000000000000001), as Python double math gives
    assert D.num_warmup_steps(100, 0.05) == 5
    T, w = 6, 2
    assert D.lr_factor(0, w, T) == 0.0
    assert D.lr_factor(1, w, T) == 0.5
    assert D.lr_factor(w, w, T) == 1.0
    assert D.lr_factor(3, w, T) == 0.75
    assert D.lr_factor(T, w, T) == 0.0
    assert D.lr_factor(T + 3, w, T) == 0.0
    assert D.lr_factor(0, 0, T) == 1.0
    # LambdaLR semantics: the lr used by optimizer step k is base * factor(k)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=1e-3)
    sch = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: D.lr_factor(s, w, T))
    used = []
    for _ in range(T):
        used.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones(1)
        opt.step()
        sch.step()
    assert used == [1e-3 * D.lr_factor(k, w, T) for k in range(T)], used
    print("schedule OK")


def test_no_decay_groups():
    c = R.distilbert_config(vocab_size=16, dim=8, hidden_dim=16, n_layers=2, n_heads=2, max_position_embeddings=8)
    m = R.DistilBertForMaskedLM(c)
    named = list(m.named_parameters())
    assert "vocab_projector.weight" not in [n for n, _ in named]  # tied: deduplicated
    groups = D.param_groups(named, 0.01)
    nod = groups[1]["names"]
    assert groups[1]["weight_decay"] == 0.0 and groups[0]["weight_decay"] == 0.01
    assert all(n.endswith(".bias") for n in nod if n != "distilbert.embeddings.LayerNorm.weight")
    assert "distilbert.embeddings.LayerNorm.weight" in nod
    n_bias = sum(1 for n, _ in named if n.endswith("bias"))
    assert len(nod) == n_bias + 1
    dec = groups[0]["names"]
    for k in ["distilbert.transformer.layer.0.sa_layer_norm.weight", "distilbert.transformer.layer.1.output_layer_norm.weight",
              "vocab_layer_norm.weight", "distilbert.embeddings.word_embeddings.weight",
              "distilbert.embeddings.position_embeddings.weight", "vocab_transform.weight"]:
        assert k in dec, k
    assert len(dec) + len(nod) == len(named)
    print("no_decay grouping OK")


def test_adamw_and_clip_vs_torch():
    g = torch.Generator().manual_seed(3)
    ps = [torch.nn.Parameter(torch.randn(5, 3, generator=g)), torch.nn.Parameter(torch.randn(7, generator=g))]
    qs = [torch.nn.Parameter(p.detach().clone()) for p in ps]
    opt = D.AdamWRef([{"params": [ps[0]], "weight_decay": 0.1}, {"params": [ps[1]], "weight_decay": 0.0}])
    topt = torch.optim.AdamW([{"params": [qs[0]], "weight_decay": 0.1}, {"params": [qs[1]], "weight_decay": 0.0}],
                             lr=1e-2, betas=D.ADAM_BETAS, eps=D.ADAM_EPS, foreach=False)
    for it in range(5):
        grads = [torch.randn(p.shape, generator=g) * (10.0 if it % 2 else 0.1) for p in ps]
        for p, q, gr in zip(ps, qs, grads):
            p.grad = gr.clone()
            q.grad = gr.clone()
        n1 = D.clip_grad_norm(ps, 1.0)
        n2 = torch.nn.utils.clip_grad_norm_(qs, 1.0)
        assert torch.equal(n1, n2)
        opt.step(1e-2)
        topt.step()
        for p, q in zip(ps, qs):
            assert torch.equal(p, q)
    # clip: norm below max leaves grads unchanged in value (coef = max/(n+1e-6) clamped at 1)
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([3.0, 4.0])
    assert D.clip_grad_norm([p], 10.0).item() == 5.0 and p.grad.tolist() == [3.0, 4.0]
    D.clip_grad_norm([p], 1.0)
    assert abs(p.grad.norm().item() - 1.0) < 1e-6
    print("AdamW / clip bit-identical to torch OK")


def test_apply_mlm_mask():
    ids = torch.tensor([[1, 10, 11, 12, 2, 0], [1, 20, 21, 2, 0, 0]])
    pm = torch.tensor([[0, 1, 1, 1, 0, 0], [0, 0, 1, 0, 0, 0]], dtype=torch.bool)
    ch = torch.full_like(ids, -1)
    ri = torch.full_like(ids, -1)
    ch[pm] = torch.tensor([0, 1, 2, 2])
    ri[pm] = torch.tensor([50, 51, 52, 53])
    c, lab = D.apply_mlm_mask(ids, pm, ch, ri, 3)
    assert c.tolist() == [[1, 3, 11, 52, 2, 0], [1, 20, 53, 2, 0, 0]]
    assert lab.tolist() == [[-100, 10, 11, 12, -100, -100], [-100, -100, 21, -100, -100, -100]]
    c2, lab2 = D.apply_mlm_mask(ids, pm, torch.tensor([0, 1, 2, 2]), torch.tensor([50, 51, 52, 53]), 3)
    assert torch.equal(c, c2) and torch.equal(lab, lab2)
    print("apply_mlm_mask OK")


def test_token_probs():
    p = D.token_probs([0, 1, 4, 100, 5], 0.5, [4])
    assert p.dtype == np.float64
    assert np.allclose(p, [1.0, 1.0, 0.5, 0.1, 0.0], rtol=1e-15, atol=0) and p[4] == 0.0
    j = json.load(open(os.path.join(GOLD, "case_token_probs.json")))
    got = D.token_probs(j["counts"], j["smoothing"], j["special_ids"])
    # count ** -smoothing: numpy picks its pow kernel by CPU (SIMD or libm), each within a few units in the last
    # place of the exact value, so values written on one CPU are compared to 4 ulps (4 x 2^-52 relative), not bit
    # for bit; the zeros of the special ids are exact.
    np.testing.assert_allclose(got, j["token_probs"], rtol=4 * np.finfo(np.float64).eps, atol=0)
    assert all(j["token_probs"][i] == 0.0 for i in j["special_ids"])
    assert j["counts"].count(0) >= 5 and max(j["counts"]) > 2 ** 31
    print("token_probs OK")


def recompute_f64(s_logits, t_logits, s_h, t_h, am, labels, T, restrict):
    """Independent numpy float64 formulas (no torch.nn.functional)."""
    s = s_logits.double().numpy()
    t = t_logits.double().numpy()
    am = am.numpy().astype(bool)
    lab = labels.numpy()
    sel = (lab > -1) if restrict else am
    S, Tt = s[sel], t[sel]

    def log_softmax(x):
        m = x.max(-1, keepdims=True)
        return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))

    lq = log_softmax(S / T)
    lp = log_softmax(Tt / T)
    ce = (np.exp(lp) * (lp - lq)).sum() / S.shape[0] * T * T
    ls_all = log_softmax(s)
    idx = np.argwhere(lab > -1)
    mlm = -np.mean([ls_all[b, i, lab[b, i]] for b, i in idx])
    mse = ((S - Tt) ** 2).sum() / S.shape[0]
    a = s_h.double().numpy()[am]
    b = t_h.double().numpy()[am]
    cos = (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))
    return {"loss_ce": ce, "loss_mlm": mlm, "loss_mse": mse, "loss_cos": float(np.mean(1.0 - cos))}


def test_golden_step_f64():
    d = st.load_file(os.path.join(GOLD, "case_step.safetensors"))
    meta = json.load(open(os.path.join(GOLD, "case_step.json")))
    cfg = meta["configs"]["a"]
    args = (d["student_logits"], d["teacher_logits"], d["student_hidden_states.2"], d["teacher_hidden_states.2"],
            d["attention_mask"], d["mlm_labels"])
    ref = recompute_f64(*args, T=cfg["temperature"], restrict=cfg["restrict_ce_to_mask"])
    o64 = D.distill_losses(*[x.double() if x.is_floating_point() else x for x in args], cfg["temperature"],
                           cfg["alpha_ce"], cfg["alpha_mlm"], cfg["alpha_mse"], cfg["alpha_cos"],
                           cfg["restrict_ce_to_mask"], compute_all=True)
    total = 0.0
    for k, v in ref.items():
        got = o64[k].item()
        assert abs(got - v) <= 1e-10 * max(1.0, abs(v)), (k, got, v)
        stored = d["a." + k].item()
        assert abs(stored - v) <= 2e-5 * max(1.0, abs(v)), (k, stored, v)  # float32 pipeline vs float64
        alpha = cfg["alpha_" + k[len("loss_"):]]
        total += alpha * v
    assert abs(o64["loss"].item() - total) < 1e-10 * max(1.0, total)
    assert abs(d["a.loss"].item() - total) < 2e-5 * total
    # the same check for config b (restricted selection, T=3)
    cb = meta["configs"]["b"]
    refb = recompute_f64(*args, T=cb["temperature"], restrict=True)
    for k, v in refb.items():
        assert abs(d["b." + k].item() - v) <= 2e-5 * max(1.0, abs(v)), (k, d["b." + k].item(), v)
    print("golden step (a) float64 recompute OK: " + ", ".join("%s=%.10f" % kv for kv in ref.items()))


def load_pair():
    teacher, _ = R.load_folder(os.path.join(GOLDEN_MODELS, "bert_mlm"))
    student, _ = R.load_folder(os.path.join(GOLDEN_MODELS, "distilbert_mlm"))
    teacher.eval()
    student.train()
    return teacher, student


def close(a, b, tol):
    return (a - b).abs().max().item() <= tol * max(1.0, b.abs().max().item())


def test_golden_step_regenerate():
    d = st.load_file(os.path.join(GOLD, "case_step.safetensors"))
    meta = json.load(open(os.path.join(GOLD, "case_step.json")))
    c, lab = D.apply_mlm_mask(d["input_ids_orig"], d["pred_mask"], d["replace_choice"], d["random_ids"],
                              meta["token_ids"]["mask"])
    assert torch.equal(c, d["input_ids"]) and torch.equal(lab, d["mlm_labels"])
    opt = meta["optimizer"]
    for tag in ("a", "b"):
        cfg = meta["configs"][tag]
        teacher, student = load_pair()
        out, _, t = D.step_losses(student, teacher, d["input_ids"], d["attention_mask"], d["mlm_labels"], cfg,
                                  compute_all=True)
        assert close(t["logits"], d["teacher_logits"], 1e-6)
        assert abs(out["loss"].item() - d[tag + ".loss"].item()) < 1e-5 * d[tag + ".loss"].item()
        out["loss"].backward()
        named = [(n, p) for n, p in student.named_parameters() if p.requires_grad]
        for n, p in named:
            assert close(p.grad, d["%s.grad.%s" % (tag, n)], 1e-5), (tag, n)
        gn = D.clip_grad_norm([p for _, p in named], opt["max_grad_norm"])
        assert abs(gn.item() - d[tag + ".grad_norm"].item()) < 1e-5 * gn.item()
        groups = D.param_groups(named, opt["weight_decay"])
        assert groups[1]["names"] == opt["no_decay_params"]
        D.AdamWRef(groups, opt["betas"], opt["eps"]).step(opt["lr"])
        for n, p in named:
            assert close(p.detach(), d["%s.param_after.%s" % (tag, n)], 1e-5), (tag, n)
    print("golden step regenerate OK")


def test_golden_curve_regenerate():
    d = st.load_file(os.path.join(GOLD, "case_curve.safetensors"))
    meta = json.load(open(os.path.join(GOLD, "case_curve.json")))
    o = meta["optimizer"]
    mbs = [(d["mb.%d.input_ids" % k], d["mb.%d.attention_mask" % k], d["mb.%d.mlm_labels" % k])
           for k in range(o["n_micro_batches"])]
    teacher, student = load_pair()
    log = D.distill_train(student, teacher, mbs, meta["loss_config"], o["lr"], o["weight_decay"],
                          o["max_grad_norm"], o["gradient_accumulation_steps"], o["num_train_optimization_steps"],
                          o["warmup_prop"], betas=tuple(o["betas"]), eps=o["eps"])
    assert log["lrs"] == meta["step_lr"] == [0.0, 5e-4, 1e-3, 7.5e-4, 5e-4, 2.5e-4]
    assert close(torch.tensor([x["loss"] for x in log["losses"]]), d["micro_batch_loss"].double(), 1e-5)
    for n, p in student.named_parameters():
        assert close(p.detach(), d["final." + n], 1e-5), n
    print("golden curve regenerate OK")


def test_init_student():
    tstate = st.load_file(os.path.join(GOLDEN_MODELS, "bert_mlm", "model.safetensors"))
    d = st.load_file(os.path.join(GOLD, "case_init_student.safetensors"))
    meta = json.load(open(os.path.join(GOLD, "case_init_student.json")))
    for prefix, e in meta["students"].items():
        sd = D.init_student_from_teacher(tstate, e["student_config"], e["layers"], e["vocab_transform"])
        assert sorted(prefix + "." + k for k in sd) == sorted(k for k in d if k.startswith(prefix + "."))
        for k, v in sd.items():
            assert torch.equal(v, d[prefix + "." + k]), k
    # hand-checked mapping for the one-layer student: teacher layer 1 -> student layer 0
    sd = D.init_student_from_teacher(tstate, {"n_layers": 1}, [1], False)
    assert torch.equal(sd["distilbert.transformer.layer.0.attention.q_lin.weight"],
                       tstate["bert.encoder.layer.1.attention.self.query.weight"])
    assert torch.equal(sd["distilbert.transformer.layer.0.sa_layer_norm.bias"],
                       tstate["bert.encoder.layer.1.attention.output.LayerNorm.bias"])
    assert torch.equal(sd["distilbert.transformer.layer.0.ffn.lin2.weight"], tstate["bert.encoder.layer.1.output.dense.weight"])
    assert torch.equal(sd["distilbert.transformer.layer.0.output_layer_norm.weight"],
                       tstate["bert.encoder.layer.1.output.LayerNorm.weight"])
    assert torch.equal(sd["vocab_projector.weight"], tstate["bert.embeddings.word_embeddings.weight"])
    assert torch.equal(sd["vocab_projector.bias"], tstate["cls.predictions.bias"])
    assert not any(k.startswith("vocab_transform") or k.startswith("vocab_layer_norm") for k in sd)
    assert not any("token_type" in k for k in sd)
    assert meta["students"]["one_layer"]["omitted_keys"] == D.HEAD_TRANSFORM_KEYS
    assert meta["students"]["two_layer"]["omitted_keys"] == []
    try:
        D.init_student_from_teacher(tstate, {"n_layers": 2}, [1], False)
        assert False, "expected n_layers mismatch"
    except ValueError:
        pass
    try:
        D.init_student_from_teacher(tstate, {"n_layers": 1}, [5], False)
        assert False, "expected missing teacher layer"
    except KeyError:
        pass
    print("init_student_from_teacher OK")


if __name__ == "__main__":
    torch.set_num_threads(1)
    test_kl_formula()
    test_mse_mlm_restrict()
    test_cosine()
    test_schedule()
    test_no_decay_groups()
    test_adamw_and_clip_vs_torch()
    test_apply_mlm_mask()
    test_token_probs()
    test_golden_step_f64()
    test_golden_step_regenerate()
    test_golden_curve_regenerate()
    test_init_student()
    print("ALL OK")
