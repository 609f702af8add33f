// Compare `distilbert train-tokenizer --type wordpiece` with Hugging Face's own WordPieceTrainer (the Rust
// `tokenizers` library through its node binding) on a text file.
//   node scripts/tokenizer/check_wordpiece_trainer.mjs [--cli build/bin/distilbert] [FILE]
// (FILE defaults to ../shared/data/text/wikitext-2/valid.txt.)
// The node binding only offers the default trainer: vocab_size 30000, min_frequency 0, no special tokens,
// unlimited alphabet. Ours runs with --vocab-size 30005 --min-frequency 0 and its 5 specials at ids 0..4,
// which shifts every other id by 5 and changes nothing else (the specials never occur inside a word).
// The Rust trainer visits its word table in hash order with a per-process random seed, so the ids of the
// "##c" symbols -- and with them the tie-breaks between equally frequent pairs -- differ from run to run.
// The script therefore trains HF twice and reports, for HF vs HF and for ours vs each HF run: vocabulary
// sizes, tokens in common, and the first merge where the order differs (everything before it is identical).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
let cli = path.join(repo, 'build', 'bin', 'distilbert');
let file = path.resolve(repo, '..', 'shared', 'data', 'text', 'wikitext-2', 'valid.txt');
for (let i = 2; i < process.argv.length; ++i) {
  if (process.argv[i] === '--cli') cli = process.argv[++i];
  else file = process.argv[i];
}
const require = createRequire(import.meta.url);
const t = require('tokenizers');

function hfVocab() {
  const tok = new t.Tokenizer(t.WordPiece.empty());
  tok.setNormalizer(t.bertNormalizer({ lowercase: true }));
  tok.setPreTokenizer(t.bertPreTokenizer());
  tok.train([file]);
  return Object.entries(tok.getVocab(true)).sort((a, b) => a[1] - b[1]).map((e) => e[0]);
}

function oursVocab() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wp-train-'));
  execFileSync(cli, ['train-tokenizer', '--input', file, '--type', 'wordpiece', '--vocab-size', '30005',
                     '--min-frequency', '0', '--quiet', '--overwrite', '--output', dir]);
  const v = fs.readFileSync(path.join(dir, 'vocab.txt'), 'utf8').split('\n').slice(0, -1);
  fs.rmSync(dir, { recursive: true, force: true });
  return v.slice(5);  // drop [PAD] [UNK] [CLS] [SEP] [MASK]
}

// The merged tokens in merge order (after the alphabet and the "##c" symbols).
function merges(v) {
  const first = v.findIndex((x) => x.replace(/^##/, '').length > 1);
  return v.slice(first);
}

function compare(name, a, b) {
  const sa = new Set(a), sb = new Set(b);
  const common = a.filter((x) => sb.has(x)).length;
  const ma = merges(a), mb = merges(b);
  let d = 0;
  while (d < Math.min(ma.length, mb.length) && ma[d] === mb[d]) ++d;
  console.log(`${name.padEnd(12)} sizes ${a.length} / ${b.length}, common ${common}, only left ${sa.size - common}, ` +
              `only right ${sb.size - common}; merges identical up to #${d}` +
              (d < Math.min(ma.length, mb.length) ? ` ('${ma[d]}' vs '${mb[d]}')` : ''));
}

console.log(`file ${file}`);
const hf1 = hfVocab(), hf2 = hfVocab(), ours = oursVocab();
compare('HF vs HF', hf1, hf2);
compare('ours vs HF1', ours, hf1);
compare('ours vs HF2', ours, hf2);
