// Check an exported sentence classifier in ONNX Runtime (through transformers.js, offline) on a labelled TSV file,
// against the labels and against LibTorch's predictions of the same sentences (`distilbert predict --output`).
//   node check_classifier.mjs job.json
// job: {"model_dir": "runs/main/export", "tsv": ".../dev.tsv", "text_column": "sentence", "label_column": "label",
//       "limit": 0, "libtorch": "runs/main/predictions_student.jsonl", "output": "runs/main/onnx_check.json",
//       "quantized": true}
// The TSV has a header; labels are class ids. `libtorch` holds one JSON object per sentence, in file order, with
// "probs" (class-id order). Writes (and prints) {"ok": true, "runtime", "examples", "accuracy",
// "agreement_with_libtorch", "max_abs_prob_diff", "examples_per_s", "quantized": {...}}.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, pipeline } from '@huggingface/transformers';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const dir = path.resolve(job.model_dir);
const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
const id2label = config.id2label ?? {};
const labelToId = Object.fromEntries(Object.entries(id2label).map(([id, name]) => [name, Number(id)]));

const lines = fs.readFileSync(job.tsv, 'utf8').split('\n').filter((l) => l.length > 0);
const header = lines[0].split('\t');
const textCol = header.indexOf(job.text_column ?? 'sentence');
const labelCol = header.indexOf(job.label_column ?? 'label');
if (textCol < 0 || labelCol < 0) {
  throw new Error(`${job.tsv}: header '${lines[0]}' lacks column '${job.text_column ?? 'sentence'}' or '${job.label_column ?? 'label'}'`);
}
let rows = lines.slice(1).map((l) => l.split('\t')).map((c) => ({ text: c[textCol], label: Number(c[labelCol]) }));
if (job.limit > 0) rows = rows.slice(0, job.limit);

let reference = null;
if (job.libtorch) {
  reference = fs.readFileSync(job.libtorch, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  if (reference.length < rows.length) {
    throw new Error(`${job.libtorch}: ${reference.length} predictions for ${rows.length} sentences of ${job.tsv}`);
  }
}

env.allowRemoteModels = false;  // never touch the network: the folder must hold everything
env.allowLocalModels = true;
env.localModelPath = path.dirname(dir) + path.sep;

async function check(dtype) {
  const pipe = await pipeline('text-classification', path.basename(dir), { dtype, device: 'cpu', local_files_only: true });
  let correct = 0, agree = 0, maxDiff = 0;
  const t0 = performance.now();
  for (let i = 0; i < rows.length; ++i) {
    const scores = await pipe(rows[i].text, { top_k: null });
    const probs = new Array(scores.length).fill(0);
    for (const s of scores) {
      const id = labelToId[s.label];
      if (id === undefined) throw new Error(`label '${s.label}' is not in ${dir}/config.json id2label`);
      probs[id] = s.score;
    }
    const pred = probs.indexOf(Math.max(...probs));
    correct += pred === rows[i].label ? 1 : 0;
    if (reference) {
      const ref = reference[i].probs;
      const refPred = ref.indexOf(Math.max(...ref));
      agree += pred === refPred ? 1 : 0;
      for (let k = 0; k < ref.length; ++k) maxDiff = Math.max(maxDiff, Math.abs(ref[k] - probs[k]));
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  await pipe.dispose?.();
  const r = { examples: rows.length, accuracy: correct / rows.length, examples_per_s: rows.length / seconds };
  if (reference) Object.assign(r, { agreement_with_libtorch: agree / rows.length, max_abs_prob_diff: maxDiff });
  return r;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const version = (name) => JSON.parse(fs.readFileSync(path.join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
const result = { ok: true, runtime: `onnxruntime-node ${version('onnxruntime-node')} (transformers.js ${version('@huggingface/transformers')})`,
  model: 'onnx/model.onnx', ...(await check('fp32')) };
if (job.quantized) result.quantized = { model: 'onnx/model_quantized.onnx', ...(await check('q8')) };
const text = JSON.stringify(result, null, 2) + '\n';
if (job.output) fs.writeFileSync(job.output, text);
process.stdout.write(text);
