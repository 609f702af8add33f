"""The sentencepiece Python package and transformers' AlbertTokenizer on a folder that SentencePieceTokenizer saved
(spiece.model + tokenizer_config.json): the references for tests/tokenizer/test_hf_trainers.cpp.

    python spm_encode.py FOLDER IN.jsonl OUT.jsonl

IN holds {"text": ...} per line; OUT gets, per line: the model's ids for the text (no specials added) and each
piece's span in the original text from the package, whether a special piece occurs ([UNK], or [CLS] written in the
text), sp.decode(ids) (the package renders an unknown piece as " ⁇ " and spaces user-defined pieces its own way),
and AlbertTokenizer's decode of the same ids (special pieces written literally; the class the folder names).
"""
import json
import os
import sys

import sentencepiece as spm
from transformers import AlbertTokenizer


def main():
    folder, src, dst = sys.argv[1:4]
    sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, "spiece.model"))
    albert = AlbertTokenizer.from_pretrained(folder)
    specials = set(albert.all_special_tokens)  # [UNK] [CLS] [SEP] [PAD] [MASK]
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            text = json.loads(line)["text"]
            proto = sp.encode_as_immutable_proto(text)
            ids = [p.id for p in proto.pieces]
            fout.write(json.dumps({"ids": ids, "offsets": [[p.begin, p.end] for p in proto.pieces],
                                   "special": any(sp.id_to_piece(i) in specials for i in ids),
                                   "decoded": sp.decode(ids),
                                   "albert_decoded": albert.decode(ids)}) + "\n")


if __name__ == "__main__":
    main()
