// Run ONNX models in ONNX Runtime (onnxruntime-node) on inputs stored as safetensors; write every output.
//   node run_onnx.mjs manifest.json
// manifest: {"threads": 1, "jobs": [{"model": "m.onnx", "inputs": "in.safetensors", "outputs": "out.safetensors"}]}
// Inputs are fed by name (each graph input must be in the file). Prints one JSON line per job.
import fs from 'node:fs';
import ort from 'onnxruntime-node';
import { readSafetensors, writeSafetensors } from './safetensors.mjs';

const manifest = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const threads = manifest.threads ?? 1;
for (const job of manifest.jobs) {
  const session = await ort.InferenceSession.create(job.model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: job.optimization ?? 'all',
  });
  const stored = readSafetensors(job.inputs);
  const feeds = {};
  for (const name of session.inputNames) {
    const t = stored[name];
    if (!t) throw new Error(`${job.model}: input '${name}' missing from ${job.inputs}`);
    feeds[name] = new ort.Tensor(t.ort, t.data, t.shape);
  }
  const t0 = performance.now();
  const results = await session.run(feeds);
  const ms = performance.now() - t0;
  writeSafetensors(job.outputs, results);
  console.log(JSON.stringify({ model: job.model, inputs: session.inputNames, outputs: session.outputNames, ms }));
  await session.release?.();
}
