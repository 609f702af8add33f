#!/usr/bin/python3
"""Compare a C++ CLI output dump against the Python reference.

usage: /usr/bin/python3 scripts/check_dump.py --model DIR --dump FILE.safetensors [--atol 1e-5]

Reads `input_ids`, optional `attention_mask`, optional `token_type_ids` from the dump, runs the
reference model (loaded strictly from DIR with load_folder) in eval mode under no_grad, and
compares the dump's main output (`logits`, or `start_logits`+`end_logits` for QA, or
`last_hidden_state` for DistilBertModel/BertModel; BertModel's `pooler_output` too if dumped)
plus every `hidden_states.{i}` and `attentions.{i}` present in the dump.
Prints the max abs diff per tensor; exit 1 if any exceeds atol, a required key is missing or a
shape differs; 0 otherwise.
"""
import argparse
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as R  # noqa: E402
import safetensors_io as st  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--model", required=True, help="folder with config.json + model.safetensors")
    ap.add_argument("--dump", required=True, help="safetensors file written by the C++ CLI")
    ap.add_argument("--atol", type=float, default=1e-5)
    a = ap.parse_args(argv)

    model, cfg = R.load_folder(a.model)
    arch = cfg["architectures"][0]
    model.eval()
    dump = st.load_file(a.dump)
    if "input_ids" not in dump:
        print("ERROR: dump has no input_ids")
        return 1
    inputs = {"input_ids": dump["input_ids"].long()}
    if "attention_mask" in dump:
        inputs["attention_mask"] = dump["attention_mask"].long()
    if "token_type_ids" in dump:
        if cfg.get("model_type") != "bert":
            print("note: token_type_ids in dump ignored (DistilBERT has no token types)")
        else:
            inputs["token_type_ids"] = dump["token_type_ids"].long()
    with torch.no_grad():
        out = model(**inputs)

    if arch in ("DistilBertModel", "BertModel"):
        required = ["last_hidden_state"]
        if "pooler_output" in dump and "pooler_output" in out:
            required.append("pooler_output")
    elif arch == "DistilBertForQuestionAnswering":
        required = ["start_logits", "end_logits"]
    else:
        required = ["logits"]
    n_hs = len(out["hidden_states"])
    extra = []
    for k in dump:
        m = re.fullmatch(r"(hidden_states|attentions)\.(\d+)", k)
        if m:
            extra.append((m.group(1), int(m.group(2)), k))
    extra.sort()

    failed = False
    rows = [(k, out.get(k)) for k in required]
    for kind, i, k in extra:
        ref_list = out[kind]
        rows.append((k, ref_list[i] if i < len(ref_list) else None))

    for k, ref in rows:
        if k not in dump:
            print("%-24s MISSING in dump" % k)
            failed = True
            continue
        if ref is None:
            print("%-24s no such output in reference (hidden_states has %d entries)" % (k, n_hs))
            failed = True
            continue
        got = dump[k].to(torch.float32)
        ref = ref.to(torch.float32)
        if tuple(got.shape) != tuple(ref.shape):
            print("%-24s SHAPE MISMATCH dump %s vs reference %s" % (k, list(got.shape), list(ref.shape)))
            failed = True
            continue
        if not torch.isfinite(got).all():
            print("%-24s NON-FINITE values in dump" % k)
            failed = True
            continue
        diff = (got - ref).abs().max().item() if got.numel() else 0.0
        bad = diff > a.atol
        failed |= bad
        print("%-24s %-16s max_abs_diff %.3e%s" % (k, list(got.shape), diff, "  FAIL" if bad else ""))
    print("RESULT: %s (atol %g, %s)" % ("FAIL" if failed else "OK", a.atol, arch))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
