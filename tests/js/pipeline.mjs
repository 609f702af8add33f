// Run a transformers.js pipeline on an exported folder, offline.
//   node pipeline.mjs job.json      job: {"model_dir": "/abs/dir", "task": "text-classification",
//                                         "texts": ["..."], "dtype": "fp32", "top_k": null}
// Prints {"results": [[{label, score}, ...], ...]} (all labels per text when top_k is null).
import fs from 'node:fs';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const dir = path.resolve(job.model_dir);
env.allowRemoteModels = false;  // never touch the network: the folder must hold everything
env.allowLocalModels = true;
env.localModelPath = path.dirname(dir) + path.sep;
const pipe = await pipeline(job.task ?? 'text-classification', path.basename(dir), {
  dtype: job.dtype ?? 'fp32', device: 'cpu', local_files_only: true,
});
const results = [];
for (const text of job.texts) {
  const r = await pipe(text, { top_k: job.top_k ?? null });
  results.push(r);
}
console.log(JSON.stringify({ results }));
