#!/usr/bin/env python3
"""Write the seed corpora of the libFuzzer targets (tests/fuzz) into OUT/<target>/, from the repository's test
files and small generated inputs in each target's input layout (see the comment at the top of each
tests/fuzz/fuzz_<target>.cpp). Nothing from ../shared/data is copied into the repository: when the shared data is
present, a few small pieces of it (GLUE rows, a shrunk bert-base-uncased tokenizer.json) are written into OUT.

    scripts/fuzz_seeds.py OUT [--shared ../shared/data] [--only TARGET...]
"""
import argparse
import glob
import hashlib
import json
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


ONLY = None  # set of targets to write (all when None)


def put(out, target, name, data):
    if ONLY is not None and target not in ONLY:
        return
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, data, pos = {}, b"", 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [pos, pos + len(raw)]}
        data += raw
        pos += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def token_store(seqs, vocab_size, dtype="uint16"):
    fmt = "<H" if dtype == "uint16" else "<i"
    ids = b"".join(struct.pack(fmt, t) for s in seqs for t in s)
    offs, n = [0], 0
    for s in seqs:
        n += len(s)
        offs.append(n)
    idx = b"".join(struct.pack("<Q", o) for o in offs)
    meta = {"format": "distilbert-token-store", "format_version": 1, "dtype": dtype, "byte_order": "little",
            "num_sequences": len(seqs), "num_tokens": n, "vocab_size": vocab_size,
            "tokenizer_fingerprint": "0123456789abcdef",
            "special_ids": {"pad": 0, "unk": 1, "cls": 2, "sep": 3, "mask": 4},
            "files": {"ids": {"name": "x.ids", "bytes": len(ids), "sha256": hashlib.sha256(ids).hexdigest()},
                      "idx": {"name": "x.idx", "bytes": len(idx), "sha256": hashlib.sha256(idx).hexdigest()}}}
    m = json.dumps(meta).encode()
    return struct.pack("<I", len(m)) + m + struct.pack("<I", len(idx)) + idx + ids


def tiny_tokenizer_json(shared):
    path = os.path.join(shared, "bert-base-uncased", "tokenizer.json") if shared else None
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz.,!") + \
        ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"] + ["the", "hello", "world", "##ing"]
    if path and os.path.exists(path):
        tj = json.load(open(path))
    else:
        tj = {"version": "1.0", "truncation": None, "padding": None,
              "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                             "strip_accents": None, "lowercase": True},
              "pre_tokenizer": {"type": "BertPreTokenizer"},
              "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
              "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
              "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                        "max_input_chars_per_word": 100}}
    ids = {t: i for i, t in enumerate(vocab)}
    tj["model"]["vocab"] = ids
    tj["added_tokens"] = [{"id": ids[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                           "normalized": False, "special": True} for t in vocab[:5]]
    pp = tj.get("post_processor") or {}
    for k, v in (pp.get("special_tokens") or {}).items():
        v["ids"] = [ids[k]] if k in ids else v["ids"]
    return json.dumps(tj)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--only", nargs="*", help="write these targets' seeds only")
    a = ap.parse_args()
    global ONLY
    ONLY = set(a.only) if a.only else None
    out, shared = a.out, a.shared if os.path.isdir(a.shared) else None

    # safetensors: small images of every dtype, metadata, an empty tensor, zero tensors.
    put(out, "safetensors", "f32", safetensors([("w", "F32", [2, 3], struct.pack("<6f", *range(6)))], {"format": "pt"}))
    put(out, "safetensors", "mixed", safetensors([("a", "BF16", [2], b"\x80\x3f\x00\x40"), ("b", "I64", [1], b"\x07" + b"\0" * 7),
                                                  ("c", "BOOL", [3], b"\x01\x00\x01"), ("d", "F16", [0, 4], b""),
                                                  ("e", "U8", [], b"\x05"), ("f", "I8", [2, 1], b"\x01\xff"),
                                                  ("g", "I32", [1], b"\1\0\0\0"), ("h", "I16", [1], b"\1\0"),
                                                  ("i", "F64", [1], struct.pack("<d", 1.5))]))
    put(out, "safetensors", "empty", safetensors([]))

    # config.json: the shipped architectures and the golden models' configs.
    for p in glob.glob(os.path.join(ROOT, "configs", "*.json")) + glob.glob(os.path.join(ROOT, "tests/data/golden/*/config.json")):
        put(out, "model_config", os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p), read(p))

    # recipes: byte 0 = bit 0 json, bit 1 pretrain, bit 2 fine-tuning; then the file; after a NUL, overrides.
    for p in sorted(glob.glob(os.path.join(ROOT, "recipes", "*", "*"))):
        finetune = os.path.basename(os.path.dirname(p)) in ("glue", "mc", "ner", "qa") or "sentiment" in p
        kind = 4 if finetune else 2 if "pretrain" in p else 0
        flag = kind | (1 if p.endswith(".json") else 0)
        body, name = read(p), os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p)
        put(out, "recipe", name, bytes([flag]) + body)
        put(out, "recipe", "ovr_" + name, bytes([flag]) + body + b"\0trainer.max_steps=3\ndata.batch_size=2\nloss.layer_pairs=[[1, 2]]")

    # tokenizer: texts of the tokenizer cases (invalid UTF-8 added by the fuzzer). Layout (fuzz_tokenizer.cpp):
    # variant, flags (1 specials, 2 overflow, 32 pair, 64 max_length), [max_length], truncation, padding, stride,
    # big-endian u16 length + text, [u16 length + pair].
    def tok_seed(variant, flags, text, pair=b""):
        head = bytes([variant, flags]) + (bytes([24]) if flags & 64 else b"") + bytes([1, 0, 2])
        body = struct.pack(">H", len(text)) + text
        if flags & 32:
            body += struct.pack(">H", len(pair)) + pair
        return head + body
    n = 0
    for line in open(os.path.join(ROOT, "tests/data/tokenizer/cases.jsonl"), encoding="utf-8"):
        case = json.loads(line)
        text = (case.get("text") or "").encode()
        pair = (case.get("text_pair") or "").encode()
        if 0 < len(text) < 1000 and n < 40:
            put(out, "tokenizer", "case%03d" % n, tok_seed(n % 8, [0x01, 0x63, 0x41, 0x21][n % 4], text, pair or b"a pair"))
            n += 1
    put(out, "tokenizer", "corpus", tok_seed(0, 1, read(os.path.join(ROOT, "tests/data/tokenizer/tiny_corpus.txt"))[:2000]))

    # tokenizer files: 0 tokenizer.json, 1 vocab.txt, 2 vocab.txt NUL tokenizer_config.json, 3 protobuf.
    tj = tiny_tokenizer_json(shared)
    put(out, "tokenizer_files", "tokenizer_json", b"\x00" + tj.encode())
    vocab = "\n".join(json.loads(tj)["model"]["vocab"].keys()) + "\n"
    put(out, "tokenizer_files", "vocab_txt", b"\x01" + vocab.encode())
    cfg = json.dumps({"do_lower_case": False, "model_max_length": 128, "tokenizer_class": "DistilBertTokenizer",
                      "added_tokens_decoder": {"4": {"content": "[MASK]", "special": True}}})
    put(out, "tokenizer_files", "vocab_config", b"\x02" + vocab.encode() + b"\x00" + cfg.encode())
    put(out, "tokenizer_files", "protobuf", b"\x03" + bytes([0x0a, 0x03]) + b"abc" + bytes([0x10, 0x96, 0x01, 0x1d, 1, 2, 3, 4]))

    # token store: u32 len + P.json, u32 len + P.idx, rest P.ids.
    put(out, "token_store", "u16", token_store([[2, 10, 11, 3], [2, 12, 3], [2, 3]], 64))
    put(out, "token_store", "i32", token_store([[2, 70000, 3]], 70001, "int32"))

    # task data: byte 0 = reader (even: GLUE task index*2, odd: user data csv/tsv/jsonl), byte 1 = options.
    tasks = ["CoLA", "SST-2", "MRPC", "QQP", "STS-B", "MNLI", "QNLI", "RTE", "WNLI", "diagnostic"]
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/data/tasks/*/*.tsv"))):
        folder = os.path.basename(os.path.dirname(p))
        if folder in tasks:
            put(out, "task_data", folder + "_" + os.path.basename(p), bytes([tasks.index(folder) * 2, 1]) + read(p)[:3000])
    if shared:
        for i, t in enumerate(tasks):
            for split in ("dev.tsv", "dev_matched.tsv", "diagnostic.tsv"):
                p = os.path.join(shared, "glue", t, split)
                if os.path.exists(p):
                    head = b"".join(open(p, "rb").readlines()[:6])
                    put(out, "task_data", "shared_" + t + "_" + split, bytes([i * 2, 0]) + head)
    user = {"reviews.csv": 1, "pairs.tsv": 3, "reviews.jsonl": 5}
    for name, sel in user.items():
        p = os.path.join(ROOT, "tests/data/tasks/user", name)
        if os.path.exists(p):
            put(out, "task_data", "user_" + name, bytes([sel, 1]) + read(p))
            put(out, "task_data", "user_opts_" + name, bytes([sel, 2 | 8 | 16]) + read(p))

    # task files: byte 0 = reader (0 SQuAD JSON, 1 CoNLL, 2 SWAG CSV), byte 1 = options (1 skip, 2 CoNLL-2003 tags).
    squad = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": "Paris is in France.", "qas": [
        {"id": "q1", "question": "Where is Paris?", "answers": [{"text": "France", "answer_start": 12}]},
        {"id": "q2", "question": "Why?", "answers": [], "is_impossible": True}]}]}]}
    put(out, "task_files", "squad", bytes([0, 1]) + json.dumps(squad, indent=1).encode())
    put(out, "task_files", "conll", bytes([1, 3]) + b"-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"
        b"German JJ B-NP B-MISC\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n")
    put(out, "task_files", "swag", bytes([2, 1]) + b",video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,"
        b"ending1,ending2,ending3,label\n0,v1,1,\"A man sits. He\",A man sits.,He,gold,eats.,runs.,\"sings, loudly.\",sleeps.,2\n")

    # metrics: SQuAD strings, CoNLL tag sequences.
    put(out, "metrics", "squad", "The Eiffel Tower, Paris! an answer")
    put(out, "metrics", "conll", "B-PER\nI-PER\nO\nB-LOC\n\nS-ORG\nE-ORG\nO\n|||\nB-PER\nI-PER\nO\nI-LOC\n\nB-ORG\nE-ORG\nO\n")

    # augment: option bytes (copies, p_mask, p_ngram 0/0.5/1, max_ngram, a two-byte seed, no own mask token), then
    # examples: a two-byte length and the text, a pair flag, the second text when set (tests/fuzz/fuzz_augment.cpp).
    def aug_text(s):
        return struct.pack(">H", len(s.encode())) + s.encode()
    put(out, "augment", "pair", bytes([2, 40, 1, 4, 0, 7, 0]) + aug_text("the movie was a great fun ride") + b"\x01" +
        aug_text("a second, shorter text") + aug_text("one more sentence") + b"\x00")

    # trainer_state.json as each recipe kind writes it (train/trainer_state.h): a fine-tuning position that fits the
    # target's run (2 processes, 40 steps, 20 batches, 2 micro-batches), and distillation states with and without
    # the loss scaler.
    finetune = {"format_version": 1, "step": 7, "epoch": 0, "batch": 14, "micro": 1, "skipped": 0,
                "epoch_rng": "5489 1 2 3", "best": 0.75, "since_best": 1, "best_step": 5,
                "best_metrics": {"accuracy": 0.75, "f1": 0.5}, "loss_sum": 1.25, "kd_sum": 0.0, "loss_n": 3,
                "world_size": 2, "total_steps": 40, "has_grads": True}
    put(out, "trainer_state", "finetune", json.dumps(finetune).encode())
    put(out, "trainer_state", "finetune_no_best", json.dumps(dict(finetune, best=None, best_metrics={})).encode())
    distill = {"format_version": 1, "step": 12, "has_grads": False, "micro_step": 24, "skipped_steps": 0,
               "loader": {"epoch": 1, "batch": 3, "seed": 56, "rank": 0, "world_size": 2}, "total_steps": 100,
               "scaler": {"scale": 65536.0, "growth_tracker": 12, "skipped": 0}}
    put(out, "trainer_state", "distill", json.dumps(distill).encode())
    put(out, "trainer_state", "distill_no_scaler", json.dumps({k: v for k, v in distill.items() if k != "scaler"}).encode())

    # predict inputs: byte 0 = bit 0 BERT, bit 1 multiple choice; then JSONL lines (vocab 50, 12 positions).
    rows = [{"input_ids": [1, 7, 9, 2]},
            {"input_ids": [1, 7, 2], "attention_mask": [1, 1, 0], "position_ids": [0, 1, 11]},
            {"input_ids": [3, 4], "token_type_ids": [0, 1]}]
    put(out, "predict_input", "bert", b"\x01" + "\n".join(json.dumps(r) for r in rows).encode())
    put(out, "predict_input", "distilbert", b"\x00" + "\n".join(json.dumps(r) for r in rows[:2]).encode())
    choices = [{"input_ids": [[1, 5, 2], [1, 6, 6, 2]], "attention_mask": [[1, 1, 1], [1, 1, 1, 1]],
                "position_ids": [[0, 1, 2], [0, 1, 2, 3]]},
               {"input_ids": [[1, 2], [1, 3]], "token_type_ids": [[0, 0], [0, 1]]}]
    put(out, "predict_input", "choices", b"\x03" + "\n".join(json.dumps(r) for r in choices).encode())

    # torch.save files: the golden pytorch_model.bin files are too large to mutate quickly; write tiny ones with
    # Debian's python3-torch when it is there (both the zip and the legacy format).
    code = ("import torch,collections,sys\n"
            "sd=collections.OrderedDict([('a.weight',torch.arange(6.).reshape(2,3)),('b',torch.tensor([1,2],dtype=torch.int64)),"
            "('c',torch.zeros(2,dtype=torch.float16))])\n"
            "torch.save(sd,sys.argv[1])\ntorch.save(sd,sys.argv[2],_use_new_zipfile_serialization=False)\n")
    if ONLY is not None and "torch_pickle" not in ONLY:
        return 0
    d = os.path.join(out, "torch_pickle")
    os.makedirs(d, exist_ok=True)
    r = subprocess.run(["/usr/bin/python3", "-c", code, os.path.join(d, "zip.bin"), os.path.join(d, "legacy.bin")],
                       capture_output=True)
    if r.returncode != 0:
        for p in glob.glob(os.path.join(ROOT, "tests/data/golden/*/pytorch_model.bin")):
            put(out, "torch_pickle", os.path.basename(os.path.dirname(p)), read(p))
    return 0


if __name__ == "__main__":
    sys.exit(main())
