#!/usr/bin/python3
"""Plain-torch reference of the original DistilBERT distiller's math (written from
docs/DISTILLATION.md, not copied from the research-projects code).

What is here
  distill_losses          Distiller.step() loss terms (KL*T^2, MLM CE, logits MSE, last-hidden cosine)
                          + OUR EXTENSION: intermediate hidden-state pairs (cosine and MSE)
  token_probs             count^-smoothing sampling weights with the special ids zeroed (train.py)
  apply_mlm_mask          the 80/10/10 corruption of prepare_batch_mlm, with every random choice explicit
  param_groups            the AdamW decay / no_decay split by name substring ("bias", "LayerNorm.weight")
  AdamWRef                torch.optim.AdamW's single-tensor algorithm (torch 1.13), re-written
  clip_grad_norm          torch.nn.utils.clip_grad_norm_ (L2) re-written
  num_warmup_steps, lr_factor   get_linear_schedule_with_warmup
  distill_train           Distiller.train()/optimize(): micro-batches, grad accumulation, clip, step, schedule
  init_student_from_teacher     scripts/extract_distilbert.py (docs/DISTILLATION.md §4) for any layer list

Random parts of prepare_batch_mlm (multinomial position choice, replacement choice, random ids) are NOT
reproduced: Python and C++ RNG streams differ, so masks are passed in explicitly.
"""
import math
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

# Optimizer defaults of the original train.py / distiller.py (docs/DISTILLATION.md §1, §2.3)
ADAM_BETAS = (0.9, 0.98)
ADAM_EPS = 1e-6
NO_DECAY = ("bias", "LayerNorm.weight")

# Replacement codes for apply_mlm_mask (index into pred_probs = [word_mask, word_keep, word_rand])
CHOICE_MASK, CHOICE_KEEP, CHOICE_RANDOM = 0, 1, 2


# ----------------------------------------------------------------------------------------
# token_probs (train.py) and the MLM corruption (prepare_batch_mlm, deterministic part)
# ----------------------------------------------------------------------------------------

def token_probs(counts, smoothing, special_ids):
    """np.maximum(counts, 1) ** -smoothing (float64), then 0 for every special id."""
    c = np.maximum(np.asarray(counts, dtype=np.int64), 1)
    p = c.astype(np.float64) ** (-float(smoothing))
    for i in special_ids:
        p[int(i)] = 0.0
    return p


def apply_mlm_mask(token_ids, pred_mask, replace_choice, random_ids, mask_id):
    """80/10/10 replacement with explicit choices.

    token_ids      (bs, L) long, the uncorrupted batch
    pred_mask      (bs, L) bool, positions to predict (callers keep pads out, as prepare_batch_mlm does)
    replace_choice either (bs, L) (read only where pred_mask) or (n_masked,) in flattened row-major order of
                   the masked positions (the order of token_ids[pred_mask]); 0 = [MASK], 1 = keep, 2 = random
    random_ids     same layout as replace_choice; the id used where the choice is 2
    Returns (corrupted ids, mlm_labels) with mlm_labels = original id on the mask, -100 elsewhere.
    """
    token_ids = torch.as_tensor(token_ids).long()
    pred_mask = torch.as_tensor(pred_mask).bool()
    replace_choice = torch.as_tensor(replace_choice).long()
    random_ids = torch.as_tensor(random_ids).long()
    n = int(pred_mask.sum())
    if replace_choice.shape == token_ids.shape:
        choice = replace_choice[pred_mask]
        rand = random_ids[pred_mask]
    else:
        if replace_choice.numel() != n or random_ids.numel() != n:
            raise ValueError("replace_choice / random_ids must be (bs, L) or have one entry per masked token")
        choice = replace_choice.reshape(-1)
        rand = random_ids.reshape(-1)
    if n and not bool(((choice >= 0) & (choice <= 2)).all()):
        raise ValueError("replace_choice values must be 0, 1 or 2 on the mask")
    mlm_labels = token_ids.clone()                      # copied before corruption
    real = token_ids[pred_mask]
    mask = torch.full_like(real, int(mask_id))
    new = mask * (choice == 0).long() + real * (choice == 1).long() + rand * (choice == 2).long()
    corrupted = token_ids.masked_scatter(pred_mask, new)
    mlm_labels[~pred_mask] = -100
    return corrupted, mlm_labels


# ----------------------------------------------------------------------------------------
# Losses (Distiller.step)
# ----------------------------------------------------------------------------------------

def _select_rows(x, mask2d):
    """masked_select of (bs, L, D) rows where mask2d (bs, L) is true -> (N, D)."""
    m = mask2d.bool().unsqueeze(-1).expand_as(x)
    return torch.masked_select(x, m).view(-1, x.size(-1))


def cosine_rows(s_sel, t_sel):
    """CosineEmbeddingLoss(reduction='mean') with target 1 = mean over rows of (1 - cos); torch's cos is
    sum(a*b) / sqrt((sum(a*a) + 1e-12) * (sum(b*b) + 1e-12))."""
    target = s_sel.new_ones(s_sel.size(0))
    return F.cosine_embedding_loss(s_sel, t_sel, target, reduction="mean")


def distill_losses(student_logits, teacher_logits, student_hidden_last, teacher_hidden_last, attention_mask,
                   mlm_labels, T, alpha_ce, alpha_mlm, alpha_mse, alpha_cos, restrict_ce_to_mask,
                   layer_pairs=None, student_hidden_states=None, teacher_hidden_states=None,
                   alpha_layer_cos=0.0, alpha_layer_mse=0.0, compute_all=False):
    """Loss terms of Distiller.step() (mlm mode) and their weighted total.

    Original terms (docs/DISTILLATION.md §2.2):
      sel      = (mlm_labels > -1) if restrict_ce_to_mask else attention_mask        (bs, L)
      loss_ce  = KLDiv(batchmean)(log_softmax(s_sel/T), softmax(t_sel/T)) * T^2       rows = selected tokens
      loss_mlm = CrossEntropy(ignore_index=-100) over all positions (mean over labelled ones)
      loss_mse = MSE(sum)(s_sel, t_sel) / n_selected                                  (on logits)
      loss_cos = CosineEmbeddingLoss(mean, target 1) between last hidden states of the non-pad tokens
      loss     = alpha_ce*loss_ce + sum over the other terms with alpha > 0 of alpha*term
    The original computes loss_ce always and the other terms only when their alpha > 0; with
    compute_all=True every term is computed (and reported) but only alpha > 0 terms enter the total.

    OUR EXTENSION (not in the original code): layer_pairs = [(i, j), ...] compares
    student_hidden_states[i] with teacher_hidden_states[j] (index 0 = embeddings output, index k = output of
    block k; so the last-layer cosine term is the pair (n_student_layers, n_teacher_layers)). Over the
    non-pad tokens (attention_mask) of each pair:
      cos_p = mean over tokens of (1 - cos)         (same function as loss_cos)
      mse_p = mean over tokens and hidden dims of (s - t)^2
    loss_layer_cos = mean over pairs of cos_p;  loss_layer_mse = mean over pairs of mse_p;
    loss += alpha_layer_cos * loss_layer_cos + alpha_layer_mse * loss_layer_mse  (each only when alpha > 0).
    Per-pair values are returned as loss_layer_cos_pairs / loss_layer_mse_pairs.
    """
    V = student_logits.size(-1)
    am = attention_mask.bool()
    sel = (mlm_labels > -1) if restrict_ce_to_mask else am
    s_sel = _select_rows(student_logits, sel)
    t_sel = _select_rows(teacher_logits, sel)
    assert s_sel.size() == t_sel.size()
    out = OrderedDict()
    T = float(T)
    loss_ce = F.kl_div(F.log_softmax(s_sel / T, dim=-1), F.softmax(t_sel / T, dim=-1),
                       reduction="batchmean") * (T ** 2)
    out["loss_ce"] = loss_ce
    loss = alpha_ce * loss_ce
    if alpha_mlm > 0 or compute_all:
        out["loss_mlm"] = F.cross_entropy(student_logits.view(-1, V), mlm_labels.view(-1), ignore_index=-100)
        if alpha_mlm > 0:
            loss = loss + alpha_mlm * out["loss_mlm"]
    if alpha_mse > 0 or compute_all:
        out["loss_mse"] = F.mse_loss(s_sel, t_sel, reduction="sum") / s_sel.size(0)
        if alpha_mse > 0:
            loss = loss + alpha_mse * out["loss_mse"]
    if alpha_cos > 0 or compute_all:
        assert student_hidden_last.size() == teacher_hidden_last.size()
        out["loss_cos"] = cosine_rows(_select_rows(student_hidden_last, am), _select_rows(teacher_hidden_last, am))
        if alpha_cos > 0:
            loss = loss + alpha_cos * out["loss_cos"]
    if layer_pairs:
        if student_hidden_states is None or teacher_hidden_states is None:
            raise ValueError("layer_pairs needs student_hidden_states and teacher_hidden_states")
        cos_p, mse_p = [], []
        for (i, j) in layer_pairs:
            if not (0 <= i < len(student_hidden_states)):
                raise ValueError("student hidden_states index %d out of range [0, %d)" % (i, len(student_hidden_states)))
            if not (0 <= j < len(teacher_hidden_states)):
                raise ValueError("teacher hidden_states index %d out of range [0, %d)" % (j, len(teacher_hidden_states)))
            sh, th = student_hidden_states[i], teacher_hidden_states[j]
            if sh.size() != th.size():
                raise ValueError("hidden size mismatch for pair (%d, %d)" % (i, j))
            s_h, t_h = _select_rows(sh, am), _select_rows(th, am)
            cos_p.append(cosine_rows(s_h, t_h))
            mse_p.append(F.mse_loss(s_h, t_h, reduction="mean"))
        out["loss_layer_cos_pairs"] = cos_p
        out["loss_layer_mse_pairs"] = mse_p
        if alpha_layer_cos > 0 or compute_all:
            out["loss_layer_cos"] = torch.stack(cos_p).mean()
            if alpha_layer_cos > 0:
                loss = loss + alpha_layer_cos * out["loss_layer_cos"]
        if alpha_layer_mse > 0 or compute_all:
            out["loss_layer_mse"] = torch.stack(mse_p).mean()
            if alpha_layer_mse > 0:
                loss = loss + alpha_layer_mse * out["loss_layer_mse"]
    out["loss"] = loss
    return out


def forward_pair(student, teacher, input_ids, attention_mask):
    """Student forward with grad; teacher forward under no_grad (teacher token_type_ids = zeros)."""
    s = student(input_ids=input_ids, attention_mask=attention_mask)
    with torch.no_grad():
        t = teacher(input_ids=input_ids, attention_mask=attention_mask)
    return s, t


def step_losses(student, teacher, input_ids, attention_mask, mlm_labels, cfg, compute_all=False):
    """Distiller.step() forward + loss for one micro-batch. cfg keys: temperature, alpha_ce, alpha_mlm,
    alpha_mse, alpha_cos, restrict_ce_to_mask, [layer_pairs, alpha_layer_cos, alpha_layer_mse]."""
    s, t = forward_pair(student, teacher, input_ids, attention_mask)
    out = distill_losses(
        s["logits"], t["logits"], s["hidden_states"][-1], t["hidden_states"][-1], attention_mask, mlm_labels,
        cfg["temperature"], cfg["alpha_ce"], cfg.get("alpha_mlm", 0.0), cfg.get("alpha_mse", 0.0),
        cfg.get("alpha_cos", 0.0), cfg.get("restrict_ce_to_mask", False),
        layer_pairs=cfg.get("layer_pairs"), student_hidden_states=s["hidden_states"],
        teacher_hidden_states=t["hidden_states"], alpha_layer_cos=cfg.get("alpha_layer_cos", 0.0),
        alpha_layer_mse=cfg.get("alpha_layer_mse", 0.0), compute_all=compute_all)
    return out, s, t


# ----------------------------------------------------------------------------------------
# Optimizer, clipping, schedule
# ----------------------------------------------------------------------------------------

def is_no_decay(name):
    return any(nd in name for nd in NO_DECAY)


def param_groups(named_params, weight_decay):
    """[decay group, no_decay group] as in the original: substring match on the (deduplicated,
    requires_grad) parameter names. Each group: {"names", "params", "weight_decay"}."""
    decay = [(n, p) for n, p in named_params if p.requires_grad and not is_no_decay(n)]
    nod = [(n, p) for n, p in named_params if p.requires_grad and is_no_decay(n)]
    return [
        {"names": [n for n, _ in decay], "params": [p for _, p in decay], "weight_decay": float(weight_decay)},
        {"names": [n for n, _ in nod], "params": [p for _, p in nod], "weight_decay": 0.0},
    ]


class AdamWRef(object):
    """torch.optim.AdamW (torch 1.13 single-tensor path, amsgrad=False, maximize=False), per parameter:
        step += 1
        p *= 1 - lr * weight_decay
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        p -= (lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
    Parameters without a gradient are skipped (their step count does not advance)."""

    def __init__(self, groups, betas=ADAM_BETAS, eps=ADAM_EPS):
        self.groups = groups
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.state = {}

    @torch.no_grad()
    def step(self, lr):
        b1, b2 = self.betas
        for g in self.groups:
            wd = g["weight_decay"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state.get(id(p))
                if st is None:
                    st = {"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
                    self.state[id(p)] = st
                grad = p.grad
                st["step"] += 1
                p.mul_(1 - lr * wd)
                st["exp_avg"].mul_(b1).add_(grad, alpha=1 - b1)
                st["exp_avg_sq"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
                step = float(st["step"])
                bias_correction1 = 1 - b1 ** step
                bias_correction2 = 1 - b2 ** step
                step_size = lr / bias_correction1
                denom = (st["exp_avg_sq"].sqrt() / math.sqrt(bias_correction2)).add_(self.eps)
                p.addcdiv_(st["exp_avg"], denom, value=-step_size)

    def zero_grad(self):
        for g in self.groups:
            for p in g["params"]:
                p.grad = None


@torch.no_grad()
def clip_grad_norm(params, max_norm):
    """torch.nn.utils.clip_grad_norm_ (norm_type 2): total = ||(||g_1||, ..., ||g_n||)||_2 in the grads'
    dtype; coef = min(1, max_norm / (total + 1e-6)) (float32 tensor math); every grad is multiplied by coef
    (also when coef == 1). Returns the total norm before clipping."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.norm(torch.stack([torch.norm(g.detach(), 2.0) for g in grads]), 2.0)
    coef = torch.clamp(float(max_norm) / (total + 1e-6), max=1.0)
    for g in grads:
        g.detach().mul_(coef)
    return total


def num_warmup_steps(total_steps, warmup_prop):
    """math.ceil(num_train_optimization_steps * warmup_prop) in Python double arithmetic
    (beware e.g. ceil(100 * 0.07) = ceil(7.000000000000001) = 8)."""
    return int(math.ceil(total_steps * warmup_prop))


def lr_factor(step, warmup, total):
    """get_linear_schedule_with_warmup's multiplier for the lr used at optimizer step `step` (0-based):
    step/warmup while step < warmup, else max(0, (total-step)/(total-warmup)). The max(1, .) guards of
    the transformers implementation only matter when warmup == 0 (never divides) or total == warmup."""
    if step < warmup:
        return float(step) / float(max(1, warmup))
    return max(0.0, float(total - step) / float(max(1, total - warmup)))


def distill_train(student, teacher, micro_batches, loss_cfg, lr, weight_decay, max_grad_norm, accum,
                  total_steps, warmup_prop, betas=ADAM_BETAS, eps=ADAM_EPS, check_against_torch=False):
    """Distiller.train()/optimize() over explicit micro-batches [(input_ids, attention_mask, mlm_labels), ...].
    Per micro-batch: loss (logged pre-division), loss /= accum (if accum > 1), backward, n_iter += 1; when
    n_iter % accum == 0: clip_grad_norm(student params, max_grad_norm), AdamW step with
    lr * lr_factor(n_steps_done, warmup, total_steps), zero grads, scheduler step.
    Returns dict(losses=[per-micro-batch dicts of floats], lrs=[...], grad_norms=[...]).
    With check_against_torch=True a torch.optim.AdamW + LambdaLR + clip_grad_norm_ copy of the student is
    stepped along and required to stay bit-identical."""
    student.train()
    teacher.eval()
    named = [(n, p) for n, p in student.named_parameters() if p.requires_grad]
    groups = param_groups(named, weight_decay)
    opt = AdamWRef(groups, betas, eps)
    params = [p for _, p in named]
    warmup = num_warmup_steps(total_steps, warmup_prop)
    shadow = None
    if check_against_torch:
        import copy
        shadow = copy.deepcopy(student)
        sn = [(n, p) for n, p in shadow.named_parameters() if p.requires_grad]
        sopt = torch.optim.AdamW(
            [{"params": [p for n, p in sn if not is_no_decay(n)], "weight_decay": weight_decay},
             {"params": [p for n, p in sn if is_no_decay(n)], "weight_decay": 0.0}],
            lr=lr, betas=betas, eps=eps, foreach=False)
        ssched = torch.optim.lr_scheduler.LambdaLR(sopt, lambda s: lr_factor(s, warmup, total_steps))
    log = {"losses": [], "lrs": [], "grad_norms": [], "warmup_steps": warmup}
    n_iter, n_steps = 0, 0
    for (ids, am, labels) in micro_batches:
        out, _, _ = step_losses(student, teacher, ids, am, labels, loss_cfg)
        log["losses"].append({k: v.item() for k, v in out.items() if torch.is_tensor(v)})
        loss = out["loss"]
        if accum > 1:
            loss = loss / accum
        loss.backward()
        if shadow is not None:
            sout, _, _ = step_losses(shadow, teacher, ids, am, labels, loss_cfg)
            sl = sout["loss"] / accum if accum > 1 else sout["loss"]
            sl.backward()
        n_iter += 1
        if n_iter % accum == 0:
            gn = clip_grad_norm(params, max_grad_norm)
            cur_lr = lr * lr_factor(n_steps, warmup, total_steps)
            opt.step(cur_lr)
            opt.zero_grad()
            n_steps += 1
            log["grad_norms"].append(gn.item())
            log["lrs"].append(cur_lr)
            if shadow is not None:
                sgn = torch.nn.utils.clip_grad_norm_(shadow.parameters(), max_grad_norm)
                assert sopt.param_groups[0]["lr"] == cur_lr, (sopt.param_groups[0]["lr"], cur_lr)
                sopt.step()
                sopt.zero_grad()
                ssched.step()
                assert torch.equal(sgn, gn)
                for (n1, p1), (n2, p2) in zip(student.named_parameters(), shadow.named_parameters()):
                    assert n1 == n2 and torch.equal(p1, p2), n1
    return log


# ----------------------------------------------------------------------------------------
# Student initialization from the teacher (scripts/extract_distilbert.py, docs/DISTILLATION.md §4)
# ----------------------------------------------------------------------------------------

LAYER_MAP = [
    ("attention.q_lin", "attention.self.query"),
    ("attention.k_lin", "attention.self.key"),
    ("attention.v_lin", "attention.self.value"),
    ("attention.out_lin", "attention.output.dense"),
    ("sa_layer_norm", "attention.output.LayerNorm"),
    ("ffn.lin1", "intermediate.dense"),
    ("ffn.lin2", "output.dense"),
    ("output_layer_norm", "output.LayerNorm"),
]

HEAD_TRANSFORM_KEYS = ["vocab_transform.weight", "vocab_transform.bias",
                       "vocab_layer_norm.weight", "vocab_layer_norm.bias"]


def student_key_map(layers, vocab_transform, prefix="bert"):
    """OrderedDict {student key: teacher key} in extract_distilbert.py's order."""
    m = OrderedDict()
    for w in ("word_embeddings", "position_embeddings"):
        m["distilbert.embeddings.%s.weight" % w] = "%s.embeddings.%s.weight" % (prefix, w)
    for w in ("weight", "bias"):
        m["distilbert.embeddings.LayerNorm.%s" % w] = "%s.embeddings.LayerNorm.%s" % (prefix, w)
    for std_idx, teacher_idx in enumerate(layers):
        for s_name, t_name in LAYER_MAP:
            for w in ("weight", "bias"):
                m["distilbert.transformer.layer.%d.%s.%s" % (std_idx, s_name, w)] = \
                    "%s.encoder.layer.%d.%s.%s" % (prefix, teacher_idx, t_name, w)
    m["vocab_projector.weight"] = "cls.predictions.decoder.weight"
    m["vocab_projector.bias"] = "cls.predictions.bias"
    if vocab_transform:
        for w in ("weight", "bias"):
            m["vocab_transform.%s" % w] = "cls.predictions.transform.dense.%s" % w
            m["vocab_layer_norm.%s" % w] = "cls.predictions.transform.LayerNorm.%s" % w
    return m


def init_student_from_teacher(teacher_state, student_config, layers, vocab_transform, prefix="bert"):
    """Student DistilBertForMaskedLM state dict from a BertForMaskedLM state dict (docs/DISTILLATION.md §4).

    - embeddings (word, position, LayerNorm) copied; token_type_embeddings dropped;
    - teacher layer layers[k] -> student layer k (q/k/v/out_lin, sa_layer_norm, ffn.lin1/lin2, output_layer_norm);
    - vocab_projector.weight <- cls.predictions.decoder.weight (falls back to <prefix>.embeddings.word_embeddings.weight
      when the tied decoder weight is not stored), vocab_projector.bias <- cls.predictions.bias;
    - only with vocab_transform: vocab_transform <- cls.predictions.transform.dense,
      vocab_layer_norm <- cls.predictions.transform.LayerNorm. Otherwise those keys are absent (the student keeps
      its own init for them).
    student_config: dict (or Config) with n_layers, dim, hidden_dim, vocab_size, max_position_embeddings; checked.
    Returns an OrderedDict of cloned tensors (vocab_projector.weight included, as the original script writes it).
    """
    get = (lambda k, d=None: student_config.get(k, d))
    layers = [int(x) for x in layers]
    if get("n_layers") is not None and int(get("n_layers")) != len(layers):
        raise ValueError("student n_layers=%s but %d teacher layers given" % (get("n_layers"), len(layers)))
    out = OrderedDict()
    for s_key, t_key in student_key_map(layers, vocab_transform, prefix).items():
        if t_key not in teacher_state and t_key == "cls.predictions.decoder.weight":
            t_key = "%s.embeddings.word_embeddings.weight" % prefix
        if t_key not in teacher_state:
            raise KeyError("teacher state has no %s (needed for %s)" % (t_key, s_key))
        out[s_key] = teacher_state[t_key].detach().clone()
    dim, hid = get("dim"), get("hidden_dim")
    V, P = get("vocab_size"), get("max_position_embeddings")
    checks = {"distilbert.embeddings.word_embeddings.weight": (V, dim),
              "distilbert.embeddings.position_embeddings.weight": (P, dim)}
    for k in range(len(layers)):
        checks["distilbert.transformer.layer.%d.ffn.lin1.weight" % k] = (hid, dim)
        checks["distilbert.transformer.layer.%d.attention.q_lin.weight" % k] = (dim, dim)
    for k, shp in checks.items():
        if None not in shp and tuple(out[k].shape) != tuple(int(s) for s in shp):
            raise ValueError("shape mismatch for %s: teacher gives %s, student config wants %s"
                             % (k, list(out[k].shape), list(shp)))
    return out


def omitted_student_keys(student_state, model_keys):
    """Keys of the student model (model_keys, e.g. canonical_state_dict keys) that init did not provide."""
    return [k for k in model_keys if k not in student_state]
