// transformers.js (@huggingface/transformers) BertTokenizer throughput on the same texts as
// bench/tokenizer/bench_tokenizer.cpp: GLUE SST-2 train sentences (first column, header skipped) and the
// non-blank lines of WikiText-2 valid. JavaScript runs the tokenizer on one thread.
//   node scripts/tokenizer/bench_tjs.mjs [--data DIR] [--repeat R]
// Each text goes through tokenizer.encode(text) ([CLS] ... [SEP], no truncation: the lightest call that does
// the whole tokenization); the best of R runs is reported, plus machine-readable lines:
//   RESULT tjs <dataset> 1 <texts> <bytes> <tokens> <best wall seconds> <CPU seconds of that run>
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
let data = process.env.DISTILBERT_SHARED_DATA ?? path.resolve(repo, '..', 'shared', 'data');
let repeat = 3;
for (let i = 2; i < process.argv.length; ++i) {
  if (process.argv[i] === '--data') data = process.argv[++i];
  else if (process.argv[i] === '--repeat') repeat = Math.max(1, parseInt(process.argv[++i], 10));
  else {
    console.error('usage: node scripts/tokenizer/bench_tjs.mjs [--data DIR] [--repeat R]');
    process.exit(2);
  }
}

const { AutoTokenizer, env } = await import('@huggingface/transformers');
// Local files only: a temp folder holding a symlink to the shared tokenizer folder.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tjs-bench-'));
fs.symlinkSync(path.resolve(data, 'bert-base-uncased'), path.join(root, 'model'));
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = root + path.sep;
env.useFSCache = false;
let t0 = performance.now();
const tok = await AutoTokenizer.from_pretrained('model');
fs.rmSync(root, { recursive: true, force: true });
console.log(`transformers.js ${tok.constructor.name} loaded in ${((performance.now() - t0) / 1000).toFixed(3)} s; ` +
            `node ${process.version}, 1 thread, best of ${repeat} runs`);

function readLines(file, tsvFirstColumn, skip) {
  const out = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();  // like std::getline
  lines.forEach((raw, i) => {
    if (i < skip) return;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (tsvFirstColumn) {
      const tab = line.indexOf('\t');
      if (tab >= 0) line = line.slice(0, tab);
    }
    if (/^[ \t]*$/.test(line)) return;
    out.push(line);
  });
  return out;
}

function run(name, texts) {
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  let best = Infinity;
  let cpu = 0;
  let tokens = 0;
  for (let r = 0; r < repeat; ++r) {
    t0 = performance.now();
    const c0 = process.cpuUsage();
    let n = 0;
    for (const t of texts) n += tok.encode(t).length;
    const wall = (performance.now() - t0) / 1000;
    if (wall < best) {
      best = wall;
      const c = process.cpuUsage(c0);
      cpu = (c.user + c.system) / 1e6;
    }
    tokens = n;
  }
  console.log(`${name.padEnd(16)} ${String(texts.length).padStart(7)} texts ${(bytes / 1e6).toFixed(2)} MB ` +
              `${String(tokens).padStart(8)} tokens | encode, 1 thread: ${(bytes / 1e6 / best).toFixed(1).padStart(6)} MB/s ` +
              `${(tokens / 1e6 / best).toFixed(2)} Mtok/s`);
  console.log(`RESULT tjs ${name} 1 ${texts.length} ${bytes} ${tokens} ${best.toFixed(6)} ${cpu.toFixed(6)}`);
}

run('sst2-train', readLines(path.join(data, 'glue', 'SST-2', 'train.tsv'), true, 1));
run('wikitext2-valid', readLines(path.join(data, 'text', 'wikitext-2', 'valid.txt'), false, 0));
