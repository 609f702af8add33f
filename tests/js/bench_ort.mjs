// ONNX Runtime (onnxruntime-node, CPU) latency/throughput on an exported model; the counterpart of
// bench/inference/bench_inference.cpp (same shapes: random ids, full attention mask).
//   node bench_ort.mjs model.onnx --batch 1,32 --seq 128 --threads 2 [--iters N] [--min-seconds S] [--vocab V]
// One JSON line per batch size.
import ort from 'onnxruntime-node';

const args = process.argv.slice(2);
const model = args[0];
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const batches = opt('--batch', '1,32').split(',').map(Number);
const seq = Number(opt('--seq', '128'));
const threads = Number(opt('--threads', '1'));
const iters = Number(opt('--iters', '0'));
const warmup = Number(opt('--warmup', '3'));
const minSeconds = Number(opt('--min-seconds', '5'));
const vocab = Number(opt('--vocab', '30522'));

const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
});
let seed = 12345;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
for (const B of batches) {
  const n = B * seq;
  const ids = new BigInt64Array(n), mask = new BigInt64Array(n).fill(1n), types = new BigInt64Array(n);
  for (let i = 0; i < n; ++i) ids[i] = BigInt(1000 + Math.floor(rand() * (vocab - 1000)));
  const all = {
    input_ids: new ort.Tensor('int64', ids, [B, seq]),
    attention_mask: new ort.Tensor('int64', mask, [B, seq]),
    token_type_ids: new ort.Tensor('int64', types, [B, seq]),
  };
  const feeds = {};
  for (const name of session.inputNames) feeds[name] = all[name];
  for (let w = 0; w < warmup; ++w) await session.run(feeds);
  const ms = [];
  const start = performance.now();
  for (let k = 0; ; ++k) {
    const t0 = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - t0);
    const elapsed = (performance.now() - start) / 1000;
    if (iters > 0 ? k + 1 >= iters : (elapsed >= minSeconds && k + 1 >= 5)) break;
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 9 / 10))];
  console.log(JSON.stringify({ runtime: 'onnxruntime-node', model, batch: B, seq, threads, median_ms: median,
    mean_ms: mean, p90_ms: p90, seq_per_s: 1000 * B / median, iters: ms.length }));
}
