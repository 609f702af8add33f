"""HF tokenizers' own WordPieceTrainer on a text file: the reference for `train-tokenizer --type wordpiece`
(tests/tokenizer/test_hf_trainers.cpp). Same pipeline as distilbert/tokenizer/trainer.h: BertNormalizer
(lowercase, strip accents), BertPreTokenizer, the five specials first, every character in the alphabet.

    python hf_train_wordpiece.py FILE VOCAB_SIZE MIN_FREQUENCY OUT_PREFIX [RUNS]

Writes OUT_PREFIX.<i>.txt for i in 0..RUNS-1: the vocabulary in id order, one token per line. The Rust trainer visits
its word table in a per-process random hash order, so tie-breaks between equally frequent pairs differ from run to
run; each run here is a fresh process (so a fresh hash seed), which is what lets the test measure HF against itself.
"""
import os
import subprocess
import sys

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_one(path, vocab_size, min_frequency, out):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=SPECIALS, show_progress=False)
    tok.train([path], trainer)
    vocab = sorted(tok.get_vocab(with_added_tokens=True).items(), key=lambda kv: kv[1])
    with open(out, "w", encoding="utf-8") as f:
        for token, _ in vocab:
            f.write(token + "\n")


def main():
    path, vocab_size, min_frequency, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    if runs == 1:
        train_one(path, vocab_size, min_frequency, prefix + ".0.txt")
        return
    for i in range(runs):  # one process per run: a fresh hash seed each
        subprocess.run([sys.executable, __file__, path, str(vocab_size), str(min_frequency), f"{prefix}.{i}"],
                       check=True)
        os.replace(f"{prefix}.{i}.0.txt", f"{prefix}.{i}.txt")


if __name__ == "__main__":
    main()
