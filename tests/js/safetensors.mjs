// Minimal safetensors reader/writer for the export tests: u64 LE header length, JSON header, raw little-endian data.
import fs from 'node:fs';

const DTYPES = {
  F32: { array: Float32Array, ort: 'float32' },
  F64: { array: Float64Array, ort: 'float64' },
  I64: { array: BigInt64Array, ort: 'int64' },
  I32: { array: Int32Array, ort: 'int32' },
  I8: { array: Int8Array, ort: 'int8' },
  U8: { array: Uint8Array, ort: 'uint8' },
  F16: { array: Uint16Array, ort: 'float16' },
};
const ORT_TO_ST = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', int8: 'I8', uint8: 'U8', float16: 'F16' };

/** Read a file into {name: {dtype, ort, shape, data}} (data a typed array copy). */
export function readSafetensors(path) {
  const buf = fs.readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const base = 8 + n;
  const out = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dt = DTYPES[info.dtype];
    if (!dt) throw new Error(`${path}: tensor ${name} has unsupported dtype ${info.dtype}`);
    const [b, e] = info.data_offsets;
    const bytes = buf.subarray(base + b, base + e);
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    out[name] = { dtype: info.dtype, ort: dt.ort, shape: info.shape, data: new dt.array(copy.buffer) };
  }
  return out;
}

/** Write {name: {type (ort name), dims, data}} (onnxruntime Tensors qualify). */
export function writeSafetensors(path, tensors) {
  const header = {};
  const chunks = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = ORT_TO_ST[t.type];
    if (!dtype) throw new Error(`cannot store ${name} of type ${t.type}`);
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype, shape: Array.from(t.dims, Number), data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const tmp = path + '.tmp';
  fs.writeFileSync(tmp, Buffer.concat([len, Buffer.from(json, 'utf8'), ...chunks]));
  fs.renameSync(tmp, path);
}
