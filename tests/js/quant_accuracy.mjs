// Accuracy cost of onnx/model_quantized.onnx (and model_fp16.onnx when present) against onnx/model.onnx on real
// sentences, tokenized by transformers.js from the exported folder's own tokenizer files.
//   node quant_accuracy.mjs EXPORT_DIR sentences.tsv [N] [--threads T]
// Prints one JSON line per variant: max/mean |logit diff|, logit std of the fp32 model, argmax agreement.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { AutoTokenizer, env } from '@huggingface/transformers';

const [dir, tsv, nArg] = process.argv.slice(2);
const ti = process.argv.indexOf('--threads');
const threads = ti >= 0 ? Number(process.argv[ti + 1]) : 1;
const N = Number(nArg ?? 200);
env.allowRemoteModels = false;
env.localModelPath = path.dirname(path.resolve(dir)) + path.sep;
const tokenizer = await AutoTokenizer.from_pretrained(path.basename(path.resolve(dir)));
const lines = fs.readFileSync(tsv, 'utf8').split('\n').slice(1).filter((l) => l.trim());
const texts = lines.slice(0, N).map((l) => l.split('\t')[0]);

const open = (f) => ort.InferenceSession.create(path.join(dir, 'onnx', f), { intraOpNumThreads: threads });
async function logits(session) {
  const out = [];
  for (let i = 0; i < texts.length; i += 16) {
    const enc = await tokenizer(texts.slice(i, i + 16), { padding: true, truncation: true, max_length: 128 });
    const feeds = {};
    for (const name of session.inputNames) {
      const t = name === 'token_type_ids' && !enc[name] ? null : enc[name];
      feeds[name] = t ? new ort.Tensor('int64', t.data, t.dims)
        : new ort.Tensor('int64', new BigInt64Array(enc.input_ids.data.length), enc.input_ids.dims);
    }
    const r = await session.run(feeds);
    const l = r[session.outputNames[0]];
    const C = l.dims[l.dims.length - 1];
    for (let b = 0; b < l.dims[0]; ++b) out.push(Array.from(l.data.slice(b * C, (b + 1) * C)));
  }
  return out;
}
const ref = await logits(await open('model.onnx'));
const flat = ref.flat();
const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
const std = Math.sqrt(flat.reduce((a, b) => a + (b - mean) ** 2, 0) / flat.length);
const argmax = (v) => v.indexOf(Math.max(...v));
for (const f of ['model_fp16.onnx', 'model_quantized.onnx']) {
  if (!fs.existsSync(path.join(dir, 'onnx', f))) continue;
  const got = await logits(await open(f));
  let maxd = 0, sumd = 0, n = 0, agree = 0;
  got.forEach((row, i) => {
    row.forEach((x, k) => { const d = Math.abs(x - ref[i][k]); maxd = Math.max(maxd, d); sumd += d; ++n; });
    agree += argmax(row) === argmax(ref[i]);
  });
  console.log(JSON.stringify({ variant: f, sentences: texts.length, max_abs_diff: maxd, mean_abs_diff: sumd / n,
    fp32_logit_std: std, argmax_agreement: agree / texts.length }));
}
