"""safetensors_lite.py - a minimal safetensors reader/writer (pure Python: struct + json + numpy).

The `safetensors` package is not installed here and PyPI is unreachable, so parity.py uses this.
Format: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
    {"__metadata__": {str: str}, "name": {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}, ...}
then the raw little-endian tensor data; offsets are relative to the first byte after the header.
Only the dtypes this project needs are supported (F32 for the models; F64, I32, I64 for tests).
The reader checks what the format requires: header inside the file, offsets in bounds, sizes
matching shapes, tensors contiguous and non-overlapping, covering the data section exactly.
"""
import json
import struct

import numpy as np

_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8")}
_NAMES = {v: k for k, v in _DTYPES.items()}


def save(path, tensors, metadata=None):
    """tensors: dict name -> numpy array or torch tensor (written in the dict's order)."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name, t in tensors.items():
        if hasattr(t, "detach"):  # torch tensor
            t = t.detach().cpu().contiguous().numpy()
        a = np.ascontiguousarray(t)
        dt = a.dtype.newbyteorder("<")
        if dt not in _NAMES:
            raise ValueError("safetensors_lite.save: %s has unsupported dtype %s" % (name, a.dtype))
        b = a.astype(dt, copy=False).tobytes()
        header[name] = {"dtype": _NAMES[dt], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)  # data 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns (dict name -> numpy array, metadata dict). Raises ValueError on a malformed file."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: %d bytes, too short for a safetensors header" % (path, len(buf)))
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8:
        raise ValueError("%s: header length %d exceeds the file (%d bytes)" % (path, n, len(buf)))
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("%s: header is not a JSON object" % path)
    data = memoryview(buf)[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    out, spans = {}, []
    for name, e in header.items():
        if e.get("dtype") not in _DTYPES:
            raise ValueError("%s: tensor %s has unsupported dtype %r" % (path, name, e.get("dtype")))
        dt = _DTYPES[e["dtype"]]
        shape = tuple(int(s) for s in e["shape"])
        b, end = (int(v) for v in e["data_offsets"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not (0 <= b <= end <= len(data)) or end - b != count * dt.itemsize:
            raise ValueError("%s: tensor %s: data_offsets [%d, %d] do not hold shape %s of %s within %d bytes"
                             % (path, name, b, end, shape, e["dtype"], len(data)))
        spans.append((b, end, name))
        out[name] = np.frombuffer(data[b:end], dtype=dt).reshape(shape).copy()
    spans.sort()
    pos = 0
    for b, end, name in spans:
        if b != pos:
            raise ValueError("%s: tensor %s starts at %d, expected %d (gap or overlap)" % (path, name, b, pos))
        pos = end
    if pos != len(data):
        raise ValueError("%s: %d trailing data bytes after the last tensor" % (path, len(data) - pos))
    return out, meta


def state_dict_from(path):
    """A file's tensors as a torch state_dict (float32 tensors), plus its metadata."""
    import torch
    arrs, meta = load(path)
    return {k: torch.from_numpy(v) for k, v in arrs.items()}, meta
