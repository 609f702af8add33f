"""Encode texts with Hugging Face's tokenizers, as references for tests/tokenizer/test_hf_tokenizers.cpp.

    .venv/bin/python tests/py/hf_tokenize.py TOKENIZER_DIR in.jsonl out.jsonl

in.jsonl: {"text": str, "pair": str (optional), "max_length": int (optional: longest_first truncation)}.
out.jsonl, one line per input: {"fast": {"ids", "type_ids", "offsets"}, "slow": {"ids", "type_ids"}}, where "fast"
is HF `tokenizers` (Rust) loaded from TOKENIZER_DIR/tokenizer.json, offsets in characters (code points) as
[begin, end] pairs, and "slow" is transformers' pure-Python BertTokenizer from TOKENIZER_DIR/vocab.txt (lower case,
Chinese characters split, accents stripped, as bert-base-uncased). Prints the library versions as JSON.
"""
import json
import os
import sys

import tokenizers
import transformers
from tokenizers import Tokenizer
from transformers import BertTokenizer


def main(tok_dir, in_path, out_path):
    fast = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    slow = BertTokenizer(os.path.join(tok_dir, "vocab.txt"), do_lower_case=True)
    with open(in_path, encoding="utf-8") as f, open(out_path, "w", encoding="utf-8") as out:
        for line in f:
            x = json.loads(line)
            text, pair, max_length = x["text"], x.get("pair"), x.get("max_length")
            if max_length:
                fast.enable_truncation(max_length, strategy="longest_first")
            else:
                fast.no_truncation()
            e = fast.encode(text, pair)
            s = slow(text, pair, truncation="longest_first" if max_length else False, max_length=max_length,
                     return_token_type_ids=True)
            out.write(json.dumps({"fast": {"ids": e.ids, "type_ids": e.type_ids, "offsets": e.offsets},
                                  "slow": {"ids": s["input_ids"], "type_ids": s["token_type_ids"]}}) + "\n")
    print(json.dumps({"tokenizers": tokenizers.__version__, "transformers": transformers.__version__}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
