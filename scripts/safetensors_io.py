#!/usr/bin/python3
"""Minimal hand-written safetensors reader/writer (no `safetensors` package needed).

File layout:
  [8 bytes]  little-endian u64 N = header length
  [N bytes]  UTF-8 JSON header:
             {"__metadata__": {str: str},                      (optional)
              name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
             offsets are relative to the first byte after the header.
             The header is right-padded with spaces so that 8 + N is a multiple of 8.
  [rest]     raw little-endian tensor data, C-contiguous, row-major.

Writer: tensors are laid out in sorted-name order and the JSON is written with sorted
keys and no whitespace, so the output is byte-for-byte deterministic.
"""
import json
import struct
import sys

import numpy as np
import torch

# dtype string -> (torch dtype, numpy dtype used for the raw bytes, element size)
_DTYPES = {
    "F64": (torch.float64, np.dtype("<f8"), 8),
    "F32": (torch.float32, np.dtype("<f4"), 4),
    "F16": (torch.float16, np.dtype("<f2"), 2),
    "BF16": (torch.bfloat16, np.dtype("<i2"), 2),  # raw bits; re-viewed as bfloat16
    "I64": (torch.int64, np.dtype("<i8"), 8),
    "I32": (torch.int32, np.dtype("<i4"), 4),
    "I16": (torch.int16, np.dtype("<i2"), 2),
    "I8": (torch.int8, np.dtype("i1"), 1),
    "U8": (torch.uint8, np.dtype("u1"), 1),
    "BOOL": (torch.bool, np.dtype("?"), 1),
}
_TORCH_TO_STR = {v[0]: k for k, v in _DTYPES.items()}

if sys.byteorder != "little":  # pragma: no cover
    raise RuntimeError("safetensors_io assumes a little-endian host")


def _tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_file(tensors, path, metadata=None):
    """Write a dict {name: torch.Tensor} to `path`. `metadata` is an optional {str: str}."""
    if not isinstance(tensors, dict):
        raise TypeError("tensors must be a dict")
    header = {}
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("metadata must be a dict of str -> str")
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved")
        t = tensors[name]
        if not isinstance(t, torch.Tensor):
            raise TypeError("%s is not a torch.Tensor" % name)
        if t.dtype not in _TORCH_TO_STR:
            raise TypeError("unsupported dtype %s for %s" % (t.dtype, name))
        data = _tensor_bytes(t)
        header[name] = {
            "dtype": _TORCH_TO_STR[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    hbytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    pad = (8 - (8 + len(hbytes)) % 8) % 8
    hbytes += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for c in chunks:
            f.write(c)


def read_header(path):
    """Return (header dict incl. '__metadata__' if present, data start offset, file bytes)."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: file too small for a safetensors header" % path)
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError("%s: header length %d exceeds file size" % (path, n))
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("%s: header is not a JSON object" % path)
    return header, 8 + n, buf


def load_metadata(path):
    header, _, _ = read_header(path)
    return dict(header.get("__metadata__", {}) or {})


def load_file(path):
    """Read `path` into an (ordered by offset) dict {name: torch.Tensor} (CPU, owning memory)."""
    header, start, buf = read_header(path)
    data_len = len(buf) - start
    out = {}
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    entries.sort(key=lambda kv: (kv[1]["data_offsets"][0], kv[0]))
    for name, info in entries:
        dt = info["dtype"]
        if dt not in _DTYPES:
            raise ValueError("%s: unsupported dtype %s for %s" % (path, dt, name))
        tdtype, npdtype, esize = _DTYPES[dt]
        shape = [int(s) for s in info["shape"]]
        b, e = (int(x) for x in info["data_offsets"])
        numel = 1
        for s in shape:
            if s < 0:
                raise ValueError("%s: negative dim in %s" % (path, name))
            numel *= s
        if not (0 <= b <= e <= data_len) or e - b != numel * esize:
            raise ValueError("%s: bad data_offsets %s for %s (%s %s)" % (path, [b, e], name, dt, shape))
        arr = np.frombuffer(buf, dtype=npdtype, count=numel, offset=start + b).copy()
        t = torch.from_numpy(arr).reshape(shape)
        if tdtype == torch.bfloat16:
            t = t.view(torch.bfloat16)
        out[name] = t
    return out


if __name__ == "__main__":
    # Tiny CLI: print the header of a file.
    import argparse

    ap = argparse.ArgumentParser(description="print a safetensors header")
    ap.add_argument("file")
    a = ap.parse_args()
    h, _, _ = read_header(a.file)
    meta = h.pop("__metadata__", None)
    if meta:
        print("__metadata__:", json.dumps(meta, sort_keys=True))
    for k in sorted(h):
        print("%-70s %-5s %s" % (k, h[k]["dtype"], h[k]["shape"]))
