#!/usr/bin/python3
"""Generate distillation golden files under tests/data/golden_distill/ from scripts/distill_reference.py.

Teacher = tests/data/golden/bert_mlm (BertForMaskedLM, vocab 128, hidden 32, 2 layers, dropout 0),
student = tests/data/golden/distilbert_mlm (DistilBertForMaskedLM, same vocab/hidden, 2 layers, dropout 0).
Token conventions of the synthetic batches: pad 0, [CLS]-like 1 at position 0, [SEP]-like 2 as the last real
token, [MASK] 3, ordinary ids in [5, 128).

Files (see the .json next to each .safetensors for the field list):
  case_step.{safetensors,json}          one distillation step, two loss configs (a) and (b)
  case_curve.{safetensors,json}         12 micro-batches, grad accumulation 2, 6 optimizer steps with schedule
  case_init_student.{safetensors,json}  init_student_from_teacher for layers [0,1]+vocab_transform and [1] without
  case_token_probs.json                 token_probs(counts, 0.7, [0,1,2,3])

Deterministic: running it twice gives byte-identical files.
Usage: /usr/bin/python3 scripts/make_distill_golden.py [--out tests/data/golden_distill]
"""
import argparse
import copy
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import distill_reference as D  # noqa: E402
import reference_model as R  # noqa: E402
import safetensors_io as st  # noqa: E402

FORMAT_VERSION = 1
SEED = 20240715
PAD, CLS, SEP, MASK = 0, 1, 2, 3
SPECIAL_IDS = [PAD, CLS, SEP, MASK]
FIRST_ORDINARY = 5
V = 128
MLM_MASK_PROP = 0.15
PRED_PROBS = [0.8, 0.1, 0.1]  # word_mask, word_keep, word_rand

CFG_A = {"temperature": 2.0, "alpha_ce": 5.0, "alpha_mlm": 2.0, "alpha_mse": 0.0, "alpha_cos": 1.0,
         "restrict_ce_to_mask": False, "layer_pairs": [], "alpha_layer_cos": 0.0, "alpha_layer_mse": 0.0}
# The brief asked for layer_pairs [(0,1),(1,3)], but the 2-layer teacher only has hidden_states 0..2;
# teacher index 3 is replaced by 2 (its last layer output).
CFG_B = {"temperature": 3.0, "alpha_ce": 0.5, "alpha_mlm": 0.5, "alpha_mse": 0.3, "alpha_cos": 0.2,
         "restrict_ce_to_mask": True, "layer_pairs": [[0, 1], [1, 2]], "alpha_layer_cos": 0.7,
         "alpha_layer_mse": 0.4}

STEP_OPT = {"lr": 5e-4, "weight_decay": 0.01, "max_grad_norm": 5.0, "betas": list(D.ADAM_BETAS), "eps": D.ADAM_EPS}
CURVE_OPT = {"lr": 1e-3, "weight_decay": 0.01, "max_grad_norm": 1.0, "betas": list(D.ADAM_BETAS),
             "eps": D.ADAM_EPS, "gradient_accumulation_steps": 2, "num_train_optimization_steps": 6,
             "warmup_prop": 0.2, "n_micro_batches": 12}

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
TEACHER_DIR = os.path.join(ROOT, "tests", "data", "golden", "bert_mlm")
STUDENT_DIR = os.path.join(ROOT, "tests", "data", "golden", "distilbert_mlm")
LOSS_TERMS = ["loss_ce", "loss_mlm", "loss_mse", "loss_cos", "loss_layer_cos", "loss_layer_mse", "loss"]


def f32(t):
    return t.detach().to(torch.float32).contiguous().clone()


def scalar(x):
    return torch.tensor(float(x), dtype=torch.float32) if not torch.is_tensor(x) else f32(x).reshape(())


def jf(x):
    """float for JSON (repr round-trips)."""
    return float(x.item() if torch.is_tensor(x) else x)


def load_models():
    teacher, _ = R.load_folder(TEACHER_DIR)
    student, scfg = R.load_folder(STUDENT_DIR)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    student.train()
    return teacher, student, scfg


def make_batch(g, lengths, L):
    """Explicit MLM batch: ids, attention mask, pred_mask (ceil(0.15 * sum(lengths)) positions among the real
    non-special tokens, uniformly), replace choices (80/10/10 draw, forced to contain 0, 1 and 2 when >= 3 masked)
    and random ids in [0, V). Off-mask entries of replace_choice / random_ids are -1."""
    B = len(lengths)
    ids = torch.zeros(B, L, dtype=torch.long)
    am = torch.zeros(B, L, dtype=torch.long)
    for i, ln in enumerate(lengths):
        assert 3 <= ln <= L
        ids[i, 0] = CLS
        ids[i, 1:ln - 1] = torch.randint(FIRST_ORDINARY, V, (ln - 2,), generator=g)
        ids[i, ln - 1] = SEP
        am[i, :ln] = 1
    cand = ((am == 1) & (ids >= FIRST_ORDINARY)).view(-1).nonzero().view(-1)
    n_tgt = min(int(math.ceil(MLM_MASK_PROP * sum(lengths))), cand.numel())
    pick = cand[torch.randperm(cand.numel(), generator=g)[:n_tgt]]
    pred_mask = torch.zeros(B * L, dtype=torch.bool)
    pred_mask[pick] = True
    pred_mask = pred_mask.view(B, L)
    n = int(pred_mask.sum())
    choice = torch.multinomial(torch.tensor(PRED_PROBS), n, replacement=True, generator=g)
    if n >= 3:
        perm = torch.randperm(n, generator=g)
        for code in (1, 2, 0):
            if not bool((choice == code).any()):
                choice[perm[code]] = code
    rand = torch.randint(0, V, (n,), generator=g)
    replace_choice = torch.full((B, L), -1, dtype=torch.long)
    random_ids = torch.full((B, L), -1, dtype=torch.long)
    replace_choice[pred_mask] = choice
    random_ids[pred_mask] = rand
    corrupted, labels = D.apply_mlm_mask(ids, pred_mask, replace_choice, random_ids, MASK)
    # the flattened-order layout gives the same result
    c2, l2 = D.apply_mlm_mask(ids, pred_mask, choice, rand, MASK)
    assert torch.equal(c2, corrupted) and torch.equal(l2, labels)
    return {"input_ids_orig": ids, "attention_mask": am, "pred_mask": pred_mask, "replace_choice": replace_choice,
            "random_ids": random_ids, "input_ids": corrupted, "mlm_labels": labels}


def named_trainable(model):
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def cfg_json(cfg):
    return {k: (v if not isinstance(v, float) else float(v)) for k, v in cfg.items()}


# ----------------------------------------------------------------------------------------------------------

def case_step(out_dir):
    g = torch.Generator().manual_seed(SEED)
    teacher, _, _ = load_models()
    lengths = [12, 10, 8, 6]
    batch = make_batch(g, lengths, 12)
    io = {k: v.clone() for k, v in batch.items()}
    meta_cfgs = {}
    canon_keys = None
    for tag, cfg in (("a", CFG_A), ("b", CFG_B)):
        _, student, _ = load_models()
        canon = R.canonical_state_dict(student, keep_vars=True)
        canon_keys = list(canon)
        named = named_trainable(student)
        assert [n for n, _ in named] == [k for k in canon_keys if canon[k].requires_grad]
        student.zero_grad(set_to_none=True)
        out, s, t = D.step_losses(student, teacher, batch["input_ids"], batch["attention_mask"],
                                  batch["mlm_labels"], cfg, compute_all=True)
        out["loss"].backward()
        if tag == "a":
            io["student_logits"] = f32(s["logits"])
            io["teacher_logits"] = f32(t["logits"])
            for i, h in enumerate(s["hidden_states"]):
                io["student_hidden_states.%d" % i] = f32(h)
            for i, h in enumerate(t["hidden_states"]):
                io["teacher_hidden_states.%d" % i] = f32(h)
        losses = {}
        for k in LOSS_TERMS:
            if k in out:
                io["%s.%s" % (tag, k)] = scalar(out[k])
                losses[k] = jf(out[k])
        for kind in ("cos", "mse"):
            pk = "loss_layer_%s_pairs" % kind
            if pk in out:
                for pi, v in enumerate(out[pk]):
                    io["%s.loss_layer_%s.%d" % (tag, kind, pi)] = scalar(v)
                losses[pk] = [jf(v) for v in out[pk]]
        for n, p in named:
            io["%s.grad.%s" % (tag, n)] = f32(p.grad)
        # torch's own optimizer on a copy, for a bitwise cross-check of AdamWRef / clip_grad_norm

        shadow = copy.deepcopy(student)
        sn = named_trainable(shadow)
        for (n1, p1), (n2, p2) in zip(named, sn):
            assert n1 == n2
            p2.grad = p1.grad.clone()  # deepcopy of a Parameter does not copy .grad
        params = [p for _, p in named]
        gn = D.clip_grad_norm(params, STEP_OPT["max_grad_norm"])
        groups = D.param_groups(named, STEP_OPT["weight_decay"])
        opt = D.AdamWRef(groups, STEP_OPT["betas"], STEP_OPT["eps"])
        opt.step(STEP_OPT["lr"])
        sgn = torch.nn.utils.clip_grad_norm_([p for _, p in sn], STEP_OPT["max_grad_norm"])
        sopt = torch.optim.AdamW(
            [{"params": [p for n, p in sn if not D.is_no_decay(n)], "weight_decay": STEP_OPT["weight_decay"]},
             {"params": [p for n, p in sn if D.is_no_decay(n)], "weight_decay": 0.0}],
            lr=STEP_OPT["lr"], betas=tuple(STEP_OPT["betas"]), eps=STEP_OPT["eps"], foreach=False)
        sopt.step()
        assert torch.equal(gn, sgn)
        for (n1, p1), (n2, p2) in zip(named, sn):
            assert n1 == n2 and torch.equal(p1, p2), n1
        io["%s.grad_norm" % tag] = scalar(gn)
        for n, p in named:
            io["%s.param_after.%s" % (tag, n)] = f32(p)
        coef = min(1.0, STEP_OPT["max_grad_norm"] / (gn.item() + 1e-6))
        c = dict(cfg_json(cfg))
        c.update({"losses": losses, "grad_norm": jf(gn), "clip_coef": coef, "clipped": coef < 1.0})
        meta_cfgs[tag] = c
    # groups (same for both configs)
    groups = D.param_groups(named, STEP_OPT["weight_decay"])
    meta = {
        "format_version": FORMAT_VERSION,
        "description": "One Distiller.step() + optimize() (grad accumulation 1) on an explicit MLM batch, for two "
                       "loss configs a and b; teacher eval/no_grad, student train() (dropout 0).",
        "generator": "scripts/make_distill_golden.py (reference: scripts/distill_reference.py)",
        "torch_version": torch.__version__,
        "seed": SEED,
        "teacher_folder": "tests/data/golden/bert_mlm",
        "student_folder": "tests/data/golden/distilbert_mlm",
        "token_ids": {"pad": PAD, "cls": CLS, "sep": SEP, "mask": MASK, "ordinary_range": [FIRST_ORDINARY, V]},
        "vocab_size": V,
        "batch_size": len(lengths),
        "seq_len": 12,
        "lengths": lengths,
        "n_masked": int(batch["pred_mask"].sum()),
        "replace_choice_codes": {"0": "[MASK]", "1": "keep", "2": "random id (from random_ids)", "-1": "off mask"},
        "optimizer": {
            "type": "AdamW (torch.optim.AdamW semantics; bit-identical to torch 1.13 foreach=False)",
            "lr": STEP_OPT["lr"], "betas": STEP_OPT["betas"], "eps": STEP_OPT["eps"],
            "weight_decay": STEP_OPT["weight_decay"], "max_grad_norm": STEP_OPT["max_grad_norm"],
            "schedule": "none (constant lr for this single step)",
            "no_decay_substrings": list(D.NO_DECAY),
            "decay_params": groups[0]["names"], "no_decay_params": groups[1]["names"],
            "order": "loss.backward(); grad_norm = clip_grad_norm_(student params, max_grad_norm); AdamW step",
        },
        "configs": meta_cfgs,
        "loss_notes": "every loss term is computed and stored for both configs, but the total ('loss') only "
                      "includes alpha*term for alpha > 0 (loss_ce always). Layer pairs [i, j]: student "
                      "hidden_states[i] vs teacher hidden_states[j] (0 = embeddings output). loss_layer_cos / "
                      "loss_layer_mse = mean over pairs of the per-pair values (stored as .loss_layer_cos.<p> / "
                      ".loss_layer_mse.<p>); per pair: mean over non-pad tokens of (1-cos), mean over non-pad "
                      "tokens and hidden dims of squared error. This layer-pair loss is our extension.",
        "grads": "<cfg>.grad.<key>: d loss / d param after backward of the total (before clipping), for every "
                 "trainable parameter under its deduplicated HF name (tied vocab_projector.weight is "
                 "distilbert.embeddings.word_embeddings.weight); <cfg>.param_after.<key>: after clip + 1 AdamW step",
        "tensors": sorted(io),
    }
    st.save_file(io, os.path.join(out_dir, "case_step.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out_dir, "case_step.json"), meta)
    return meta


def case_curve(out_dir):
    g = torch.Generator().manual_seed(SEED + 1)
    teacher, student, _ = load_models()
    io = {}
    mbs = []
    seq_lens = []
    lengths_all = []
    for k in range(CURVE_OPT["n_micro_batches"]):
        L = int(torch.randint(8, 13, (1,), generator=g))
        lengths = [L] + [int(x) for x in torch.randint(4, L + 1, (3,), generator=g)]
        b = make_batch(g, lengths, L)
        for name, v in b.items():
            io["mb.%d.%s" % (k, name)] = v.clone()
        mbs.append((b["input_ids"], b["attention_mask"], b["mlm_labels"]))
        seq_lens.append(L)
        lengths_all.append(lengths)
    log = D.distill_train(student, teacher, mbs, CFG_A, CURVE_OPT["lr"], CURVE_OPT["weight_decay"],
                          CURVE_OPT["max_grad_norm"], CURVE_OPT["gradient_accumulation_steps"],
                          CURVE_OPT["num_train_optimization_steps"], CURVE_OPT["warmup_prop"],
                          betas=tuple(CURVE_OPT["betas"]), eps=CURVE_OPT["eps"], check_against_torch=True)
    for term in ("loss", "loss_ce", "loss_mlm", "loss_cos"):
        io["micro_batch_%s" % term] = torch.tensor([d[term] for d in log["losses"]], dtype=torch.float32)
    io["step_lr"] = torch.tensor(log["lrs"], dtype=torch.float64)
    io["step_grad_norm"] = torch.tensor(log["grad_norms"], dtype=torch.float32)
    for n, p in named_trainable(student):
        io["final.%s" % n] = f32(p)
    meta = {
        "format_version": FORMAT_VERSION,
        "description": "Distiller.train()/optimize() over 12 explicit micro-batches with gradient accumulation 2 "
                       "(6 optimizer steps), linear warm-up/decay schedule, loss config a.",
        "generator": "scripts/make_distill_golden.py (reference: scripts/distill_reference.py)",
        "torch_version": torch.__version__,
        "seed": SEED + 1,
        "teacher_folder": "tests/data/golden/bert_mlm",
        "student_folder": "tests/data/golden/distilbert_mlm (initial student parameters)",
        "token_ids": {"pad": PAD, "cls": CLS, "sep": SEP, "mask": MASK},
        "loss_config": cfg_json(CFG_A),
        "optimizer": dict(CURVE_OPT, warmup_steps=log["warmup_steps"],
                          no_decay_substrings=list(D.NO_DECAY)),
        "procedure": "for each micro-batch k: total loss (logged as micro_batch_loss[k], pre-division); "
                     "loss / gradient_accumulation_steps; backward; n_iter += 1; if n_iter %% 2 == 0: "
                     "step_grad_norm = clip_grad_norm_(student params, max_grad_norm); AdamW step with "
                     "lr * factor(step) (step = 0-based optimizer step; factor = step/warmup if step < warmup else "
                     "max(0, (T-step)/(T-warmup)), warmup = ceil(T*warmup_prop) = %d, T = 6); zero grads. Note "
                     "step 0 uses lr 0 (AdamW moments still update)." % log["warmup_steps"],
        "micro_batch_seq_lens": seq_lens,
        "micro_batch_lengths": lengths_all,
        "micro_batch_loss": [d["loss"] for d in log["losses"]],
        "step_lr": log["lrs"],
        "step_grad_norm": log["grad_norms"],
        "tensors": sorted(io),
    }
    st.save_file(io, os.path.join(out_dir, "case_curve.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out_dir, "case_curve.json"), meta)
    return meta


def case_init_student(out_dir):
    teacher, student, scfg = load_models()
    tstate = R.canonical_state_dict(teacher)   # tied decoder weight not stored: exercises the fallback
    io = {}
    entries = {}
    for prefix, layers, vt in (("two_layer", [0, 1], True), ("one_layer", [1], False)):
        cfg = dict(scfg)
        cfg["n_layers"] = len(layers)
        sd = D.init_student_from_teacher(tstate, cfg, layers, vt)
        model = R.DistilBertForMaskedLM(R.make_config("distilbert", cfg))
        model_keys = list(model.state_dict())
        omitted = D.omitted_student_keys(sd, model_keys)
        if vt:
            assert omitted == []
            # strict load works (vocab_projector.weight present and equal to the word embeddings)
            R.load_state_strict(model, "DistilBertForMaskedLM", sd)
        else:
            assert sorted(omitted) == sorted(D.HEAD_TRANSFORM_KEYS)
        for k, v in sd.items():
            io["%s.%s" % (prefix, k)] = f32(v)
        copied = D.student_key_map(layers, vt)
        if "cls.predictions.decoder.weight" not in tstate:
            copied["vocab_projector.weight"] = "bert.embeddings.word_embeddings.weight"
        cfg_out = {k: v for k, v in cfg.items() if k not in ("architectures", "torch_dtype")}
        entries[prefix] = {
            "layers": layers, "vocab_transform": vt, "student_config": cfg_out,
            "copied": copied,
            "omitted_keys": omitted,
        }
    meta = {
        "format_version": FORMAT_VERSION,
        "description": "init_student_from_teacher (extract_distilbert.py, SPEC 5.4) from the bert_mlm teacher.",
        "generator": "scripts/make_distill_golden.py (reference: scripts/distill_reference.py)",
        "teacher_folder": "tests/data/golden/bert_mlm",
        "notes": "Tensors are stored as '<prefix>.<student key>'. 'copied' maps student key -> teacher key actually read; the "
                 "teacher checkpoint does not store the tied cls.predictions.decoder.weight (the original script's "
                 "source), so vocab_projector.weight comes from bert.embeddings.word_embeddings.weight (same tensor). "
                 "vocab_projector.weight is included as the original script writes it. token_type_embeddings "
                 "are dropped. 'omitted_keys' are student keys not produced (they keep the student's own init).",
        "students": entries,
        "tensors": sorted(io),
    }
    st.save_file(io, os.path.join(out_dir, "case_init_student.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(out_dir, "case_init_student.json"), meta)
    return meta


def case_token_probs(out_dir):
    g = torch.Generator().manual_seed(SEED + 2)
    counts = [int(x) for x in torch.randint(0, 5000, (V,), generator=g)]
    for i in (0, 7, 9, 40, 41, 127):
        counts[i] = 0               # zero counts -> max(.,1) = 1 -> prob 1
    counts[5] = 1
    counts[6] = 2
    counts[10] = 123456789
    counts[11] = 3000000000         # > 2^31
    counts[1] = 987654              # a special id with counts: still zeroed
    smoothing = 0.7
    probs = D.token_probs(counts, smoothing, SPECIAL_IDS)
    meta = {
        "format_version": FORMAT_VERSION,
        "description": "token_probs = max(counts, 1) ** -smoothing in float64, then 0 at every special id",
        "generator": "scripts/make_distill_golden.py (reference: scripts/distill_reference.py)",
        "counts": counts,
        "smoothing": smoothing,
        "special_ids": SPECIAL_IDS,
        "token_probs": [float(x) for x in probs],
    }
    write_json(os.path.join(out_dir, "case_token_probs.json"), meta)
    return meta


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "golden_distill"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out = os.path.normpath(a.out)
    os.makedirs(out, exist_ok=True)
    m = case_step(out)
    for tag in ("a", "b"):
        print("step %s: %s grad_norm=%.6f clip_coef=%.4f" % (tag, json.dumps(m["configs"][tag]["losses"]),
                                                              m["configs"][tag]["grad_norm"],
                                                              m["configs"][tag]["clip_coef"]))
    m = case_curve(out)
    print("curve losses:", ["%.4f" % x for x in m["micro_batch_loss"]])
    print("curve lrs:", m["step_lr"], "grad norms:", ["%.4f" % x for x in m["step_grad_norm"]])
    case_init_student(out)
    case_token_probs(out)
    total = 0
    for f in sorted(os.listdir(out)):
        sz = os.path.getsize(os.path.join(out, f))
        total += sz
        print("%-34s %8d bytes" % (f, sz))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
