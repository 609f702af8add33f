#!/usr/bin/python3
"""The Python/PyTorch eager distiller of the reference, timed: the baseline of scripts/bench_distill.sh.

What one micro-step does is the original distiller's (docs/DISTILLATION.md §2, written from the spec, not copied):
prepare_batch_mlm (count^-0.7 multinomial position choice, 80/10/10 corruption), the student forward with hidden
states, the teacher forward under no_grad (eval mode), masked_select of the (B, L, V) logits of every non-pad token,
KLDivLoss(batchmean)(log_softmax(s/T), softmax(t/T)) * T^2, CrossEntropy MLM over all positions, CosineEmbeddingLoss
on the last hidden states of the non-pad tokens, loss / grad_accum, backward, and every grad_accum micro-steps
clip_grad_norm_(5.0), AdamW(betas 0.9/0.98, eps 1e-6) step, zero_grad and the linear schedule. The models are
scripts/reference_model.py: the HF modules' eager math (attention as matmul + softmax), checked against our golden
files by scripts/test_reference.py.

Batches are full B x L sequences of random ids from the vocabulary (every token real), as in a corpus chunked to L.
bf16 runs the forward passes and the losses under torch.autocast("cpu", bfloat16) with fp32 master weights. Torch
1.13's CPU autocast leaves layer_norm alone and it refuses a bf16 input with fp32 weights, so in bf16 LayerNorm casts
its input to the weight's dtype first (what our C++ does too, distilbert/model/layers.cpp).

  /usr/bin/python3 scripts/bench_distill_reference.py --teacher-config configs/bert-base-uncased.json \
      --student-config configs/distilbert-base-uncased.json --threads 2 --steps 6 --warmup 2 --precision fp32

Prints one JSON line: tokens_per_s (median over the timed micro-steps), step_s, peak_rss_mib, the losses.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as R  # noqa: E402

PAD, CLS, SEP, MASK, UNK = 0, 101, 102, 103, 100


def fp32_layer_norm():
    """nn.LayerNorm that accepts a bf16 input under CPU autocast (computes in the weight's fp32)."""
    plain = torch.nn.LayerNorm.forward

    def forward(self, x):
        return plain(self, x if x.dtype == self.weight.dtype else x.to(self.weight.dtype))
    torch.nn.LayerNorm.forward = forward


def load(path, arch):
    with open(path) as f:
        d = json.load(f)
    cfg = R.make_config(d.get("model_type", "bert"), d)
    m = R.build(arch, cfg)
    R.init_weights(m)
    return m, cfg


def prepare_batch_mlm(token_ids, lengths, token_probs, vocab_size, g):
    """The reference's prepare_batch_mlm (fp32 path): returns (corrupted ids, attention mask, labels)."""
    bs, L = token_ids.shape
    attn_mask = torch.arange(L, dtype=torch.long)[None, :] < lengths[:, None]
    mlm_labels = token_ids.new_tensor(token_ids)
    x_prob = token_probs[token_ids.flatten()]
    n_tgt = math.ceil(0.15 * lengths.sum().item())
    tgt_ids = torch.multinomial(x_prob / x_prob.sum(), n_tgt, replacement=False, generator=g)
    pred_mask = torch.zeros(bs * L, dtype=torch.bool)
    pred_mask[tgt_ids] = 1
    pred_mask = pred_mask.view(bs, L)
    pred_mask[token_ids == PAD] = 0
    real = token_ids[pred_mask]
    rand = real.clone().random_(vocab_size, generator=g)
    mask = real.clone().fill_(MASK)
    probs = torch.multinomial(torch.tensor([0.8, 0.1, 0.1]), len(real), replacement=True, generator=g)
    new = mask * (probs == 0).long() + real * (probs == 1).long() + rand * (probs == 2).long()
    token_ids = token_ids.masked_scatter(pred_mask, new)
    mlm_labels[~pred_mask] = -100
    return token_ids, attn_mask, mlm_labels


def step_losses(student, teacher, ids, attn, labels, T, a_ce, a_mlm, a_cos):
    """Distiller.step(): the loss terms of the reference, the same way it computes them."""
    s_out = student(input_ids=ids, attention_mask=attn)
    with torch.no_grad():
        t_out = teacher(input_ids=ids, attention_mask=attn)
    s_logits, s_hidden = s_out["logits"], s_out["hidden_states"]
    t_logits, t_hidden = t_out["logits"], t_out["hidden_states"]
    mask = attn.unsqueeze(-1).expand_as(s_logits)
    s_sel = torch.masked_select(s_logits, mask).view(-1, s_logits.size(-1))
    t_sel = torch.masked_select(t_logits, mask).view(-1, s_logits.size(-1))
    loss_ce = F.kl_div(F.log_softmax(s_sel / T, dim=-1), F.softmax(t_sel / T, dim=-1), reduction="batchmean") * T ** 2
    loss = a_ce * loss_ce
    loss_mlm = F.cross_entropy(s_logits.view(-1, s_logits.size(-1)), labels.view(-1), ignore_index=-100)
    loss = loss + a_mlm * loss_mlm
    s_h, t_h = s_hidden[-1], t_hidden[-1]
    hmask = attn.unsqueeze(-1).expand_as(s_h)
    dim = s_h.size(-1)
    s_h = torch.masked_select(s_h, hmask).view(-1, dim)
    t_h = torch.masked_select(t_h, hmask).view(-1, dim)
    target = s_h.new(s_h.size(0)).fill_(1)
    loss_cos = F.cosine_embedding_loss(s_h, t_h, target, reduction="mean")
    loss = loss + a_cos * loss_cos
    return loss, {"loss_ce": loss_ce.item(), "loss_mlm": loss_mlm.item(), "loss_cos": loss_cos.item()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher-config", required=True)
    ap.add_argument("--student-config", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6, help="timed micro-steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed micro-steps first")
    ap.add_argument("--accum", type=int, default=1, help="micro-steps per optimizer step")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    if a.precision == "bf16":
        fp32_layer_norm()
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    teacher, tcfg = load(a.teacher_config, "BertForMaskedLM")
    student, scfg = load(a.student_config, "DistilBertForMaskedLM")
    V = scfg.vocab_size
    teacher.eval()
    student.train()
    for p in teacher.parameters():
        p.requires_grad_(False)

    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in student.named_parameters() if p.requires_grad and not any(nd in n for nd in no_decay)],
         "weight_decay": 0.0},
        {"params": [p for n, p in student.named_parameters() if p.requires_grad and any(nd in n for nd in no_decay)],
         "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=5e-4, eps=1e-6, betas=(0.9, 0.98))
    total = a.warmup + a.steps
    num_train = total // a.accum + 1
    warm = math.ceil(num_train * 0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / max(1, warm) if s < warm else max(0.0, (num_train - s) / max(1, num_train - warm)))

    # count^-0.7 smoothing over a Zipf-like count table; specials get probability 0 (train.py).
    counts = 1.0 / torch.arange(1, V + 1, dtype=torch.float)
    token_probs = torch.clamp(counts * 1e6, min=1.0) ** -0.7
    for s in (PAD, CLS, SEP, MASK, UNK):
        token_probs[s] = 0.0

    times, last = [], {}
    for it in range(total):
        ids = torch.randint(999, V, (a.batch, a.seq), generator=g)
        ids[:, 0], ids[:, -1] = CLS, SEP
        lengths = torch.full((a.batch,), a.seq, dtype=torch.long)
        t0 = time.perf_counter()
        ids, attn, labels = prepare_batch_mlm(ids, lengths, token_probs, V, g)
        if a.precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss, last = step_losses(student, teacher, ids, attn, labels, 2.0, 5.0, 2.0, 1.0)
        else:
            loss, last = step_losses(student, teacher, ids, attn, labels, 2.0, 5.0, 2.0, 1.0)
        if not math.isfinite(loss.item()):
            sys.exit("NaN loss at micro-step %d" % it)
        if a.accum > 1:
            loss = loss / a.accum
        loss.backward()
        if (it + 1) % a.accum == 0:
            torch.nn.utils.clip_grad_norm_(student.parameters(), 5.0)
            opt.step()
            opt.zero_grad()
            sched.step()
        dt = time.perf_counter() - t0
        if it >= a.warmup:
            times.append(dt)
        print("[reference] micro-step %d/%d  %.3f s" % (it + 1, total, dt), file=sys.stderr, flush=True)

    step_s = statistics.median(times)
    out = {"impl": "python-eager", "precision": a.precision, "threads": a.threads, "batch": a.batch, "seq": a.seq,
           "timed_steps": len(times), "step_s": step_s, "tokens_per_s": a.batch * a.seq / step_s,
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "torch": torch.__version__}
    out.update(last)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
