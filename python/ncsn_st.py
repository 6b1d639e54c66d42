"""ncsn_st.py - ncsn.h's safetensors files for Python and PyTorch (standard library + numpy; torch
optional). docs/python.md has the example; in short:

    import ncsn_st
    state_dict, sigmas, settings = ncsn_st.load_model("model.safetensors")
    model = ncsn_st.ScoreNetwork(settings)          # or the documents' ScoreNet / NCSNScoreNetwork
    model.load_state_dict(state_dict, strict=True)
    ncsn_st.save_model("back.safetensors", model, sigmas, settings)

The format (ncsn.h section 14): an 8-byte little-endian header length N, N bytes of JSON
    {"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}, ...}
padded with spaces to a multiple of 8, then the tensors' bytes, which they cover exactly. A model
file holds the network's tensors under PyTorch's state_dict names ("net.0.weight" [out, in], ...,
"sigma_embed.1.weight" for the sinusoidal embedding), all F32, and may hold the noise levels
("sigmas" [L], strictly decreasing), the data's standardisation ("data.loc", "data.scale",
"data.center" [dim]) and, in a checkpoint, Adam's moments ("adam.m.*", "adam.v.*"), the EMA weights
("ema.*") and the minibatch order ("train.perm"). The metadata says what the shapes cannot: "act"
(silu | softplus), "scale_by_sigma" (0 | 1: s = net / sigma), "sigma_input" (absent or raw: the
network sees sigma; log: ln sigma), "precond_sigma_data" (absent: none; a float sd > 0: the
preconditioned output s = (c_skip x + c_out F(c_in x) - x) / sigma^2 with v = sigma^2 + sd^2,
c_in = 1/sqrt(v), c_skip = sd^2/v, c_out = sigma sd/sqrt(v)), "ncsn.zero_init_output", and the
training settings.

load_model returns the network's tensors alone (a state_dict that loads with strict=True), the
levels, and everything else in `settings`; save_model writes a network back with the metadata
ncsn.h needs. Files are read as untrusted: a malformed one raises ValueError naming the problem.
"""
import json
import math
import os
import re
import struct
import tempfile

import numpy as np

__all__ = ["read", "write", "load_model", "save_model", "settings_for", "ScoreNetwork"]

_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8")}
_NAMES = {v: k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 << 20   # what a safetensors reader accepts (100 MB)
_NET = re.compile(r"^(net\.(\d+)|sigma_embed\.([13]))\.(weight|bias)$")
# metadata describing the network: save_model writes these from the settings, never copied over
_MODEL_KEYS = ("format", "library", "cond", "act", "scale_by_sigma", "sigma_input", "precond_sigma_data", "ncsn.kind", "ncsn.dim",
               "ncsn.hidden", "ncsn.embed_dim", "ncsn.zero_init_output", "ncsn.levels", "ncsn.data.radius")
# a checkpoint's optimizer and random state: meaningless once the weights are written elsewhere
_CHECKPOINT_PREFIXES = ("ncsn.adam.", "ncsn.rng.")
LIBRARY = "ncsn_st.py (ncsn.h 0.1 file format)"


# ---- the file format --------------------------------------------------------------------------
def _radius(v, what):
    """The data's radius, which a file with their statistics must hold: finite and > 0 (ncsn.h refuses
    0, "unknown", there, since it turns the divergence check off; docs/reliability.md)."""
    try:
        r = float(np.float32(v))
    except (TypeError, ValueError):
        r = float("nan")
    if not (np.isfinite(r) and r > 0):
        raise ValueError("%s: ncsn.data.radius = %r must be a finite number > 0 with data.loc, data.scale, data.center" % (what, v))
    return r

def read(source):
    """A safetensors file (a path, or its bytes) as (dict name -> numpy array, dict metadata), in
    the file's order. Raises ValueError if it is malformed: header outside the file or not a JSON
    object, an unknown dtype, offsets that do not hold the shape, gaps, overlaps or trailing bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        buf, what = bytes(source), "safetensors data"
    else:
        with open(source, "rb") as f:
            buf = f.read()
        what = str(source)
    if len(buf) < 8:
        raise ValueError("%s: %d bytes, too short for a safetensors header" % (what, len(buf)))
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8 or n > _MAX_HEADER:
        raise ValueError("%s: header length %d exceeds the file (%d bytes) or %d" % (what, n, len(buf), _MAX_HEADER))
    def unique(pairs):   # a name given twice would let two readers see different tensors
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("a key appears twice: %r" % sorted(k for k in keys if keys.count(k) > 1)[0])
        return dict(pairs)
    try:
        header = json.loads(buf[8:8 + n].decode("utf-8"), object_pairs_hook=unique)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ValueError("%s: the header is not UTF-8 JSON (%s)" % (what, e))
    if not isinstance(header, dict):
        raise ValueError("%s: the header is not a JSON object" % what)
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise ValueError("%s: __metadata__ must map strings to strings" % what)
    data = memoryview(buf)[8 + n:]
    tensors, spans = {}, []
    for name, e in header.items():
        if not isinstance(e, dict) or e.get("dtype") not in _DTYPES:
            raise ValueError("%s: tensor %r: dtype %r is not one of %s" % (what, name, isinstance(e, dict) and e.get("dtype"), sorted(_DTYPES)))
        dt = _DTYPES[e["dtype"]]
        shape, offs = e.get("shape"), e.get("data_offsets")
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)) or \
           not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)):
            raise ValueError("%s: tensor %r: shape %r / data_offsets %r are not lists of integers" % (what, name, shape, offs))
        b, end = offs
        count = math.prod(shape)
        if not (0 <= b <= end <= len(data)) or end - b != count * dt.itemsize:
            raise ValueError("%s: tensor %r: data_offsets [%d, %d] do not hold shape %s of %s within %d data bytes"
                             % (what, name, b, end, shape, e["dtype"], len(data)))
        spans.append((b, end, name))
        tensors[name] = np.frombuffer(data[b:end], dtype=dt).reshape(shape).copy()
    pos = 0
    for b, end, name in sorted(spans):
        if b != pos:
            raise ValueError("%s: tensor %r starts at byte %d, expected %d (a gap or an overlap)" % (what, name, b, pos))
        pos = end
    if pos != len(data):
        raise ValueError("%s: %d data bytes after the last tensor" % (what, len(data) - pos))
    return tensors, dict(meta)


def _numpy(t):
    """A numpy array from a numpy array or a torch tensor (without importing torch)."""
    if hasattr(t, "detach"):
        t = t.detach().cpu().numpy()
    return np.asarray(t)


def write(path, tensors, metadata=None):
    """Writes dict name -> array (numpy or torch; F32, F64, I32 or I64) in the dict's order, the
    header padded to 8 bytes as ncsn.h writes it. Atomic: a temporary file renamed over path."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(_numpy(t))
        dt = a.dtype.newbyteorder("<")
        if dt not in _NAMES:
            raise ValueError("write: tensor %r has dtype %s (F32, F64, I32 or I64 only)" % (name, a.dtype))
        b = a.astype(dt, copy=False).tobytes()
        header[name] = {"dtype": _NAMES[dt], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp.", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(h)))
            f.write(h)
            for b in blobs:
                f.write(b)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ---- models -------------------------------------------------------------------------------------
def _net_layout(names, shape_of, what):
    """dim, hidden widths, embed_dim (0: concat) from the network tensors' names and shapes, checked
    as ncsn.h checks them (Linear layers net.0, net.2, ..., each input the previous output)."""
    idx = sorted(int(m.group(2)) for m in map(_NET.match, names) if m and m.group(2) is not None and m.group(4) == "weight")
    if len(idx) < 2 or idx != list(range(0, 2 * len(idx), 2)):
        raise ValueError("%s: the network layers are %s, expected net.0, net.2, ... (at least 2 Linear layers)" % (what, idx))
    embed = "sigma_embed.1.weight" in names
    want = ["net.%d.%s" % (i, w) for i in idx for w in ("weight", "bias")]
    if embed:
        want += ["sigma_embed.%d.%s" % (i, w) for i in (1, 3) for w in ("weight", "bias")]
    if sorted(want) != sorted(names):
        raise ValueError("%s: network tensors %s, expected %s" % (what, sorted(names), sorted(want)))
    if len(idx) - 1 > 16:
        raise ValueError("%s: %d hidden layers; ncsn.h has at most 16 (NCSN_MAX_HIDDEN)" % (what, len(idx) - 1))
    widths = [shape_of("net.%d.weight" % i) for i in idx]
    E = shape_of("sigma_embed.1.weight")[0] if embed else 0
    if embed and (E < 4 or E % 2):
        raise ValueError("%s: sigma embedding size %d must be even and >= 4, as ncsn.h requires" % (what, E))
    dim = widths[-1][0]
    prev = dim + (E if embed else 1)
    for i, s in zip(idx, widths):
        if len(s) != 2 or s[1] != prev or shape_of("net.%d.bias" % i) != [s[0]]:
            raise ValueError("%s: net.%d has weight %s and bias %s, expected [out, %d] and [out]" % (what, i, s, shape_of("net.%d.bias" % i), prev))
        prev = s[0]
    if embed and any(shape_of(n) != s for n, s in (("sigma_embed.1.weight", [E, E]), ("sigma_embed.1.bias", [E]),
                                                    ("sigma_embed.3.weight", [E, E]), ("sigma_embed.3.bias", [E]))):
        raise ValueError("%s: sigma_embed tensors must be [E, E] and [E] with E = %d" % (what, E))
    return dim, [s[0] for s in widths[:-1]], E


def _choice(meta, key, allowed, default, what):
    v = meta.get(key, default)
    if v not in allowed:
        raise ValueError("%s: metadata %s = %r must be one of %s" % (what, key, v, allowed))
    return v


def _levels(sigmas, what):
    """The noise levels as float32, checked as ncsn.h checks them: 1-D, finite normal floats,
    strictly decreasing."""
    s = np.asarray(_numpy(sigmas), dtype=np.float32)
    if s.ndim != 1 or s.size < 1:
        raise ValueError("%s: sigmas must have shape [L], L >= 1 (got %s)" % (what, list(s.shape)))
    for i, v in enumerate(s):
        if not (np.isfinite(v) and v >= np.finfo(np.float32).tiny):
            raise ValueError("%s: sigmas[%d] = %r must be a finite normal float > 0" % (what, i, float(v)))
        if i and not v < s[i - 1]:
            raise ValueError("%s: sigmas[%d] = %r is not below sigmas[%d] = %r (levels must decrease)" % (what, i, float(v), i - 1, float(s[i - 1])))
    return s


def load_model(path, weights="model", as_numpy=False):
    """(state_dict, sigmas, settings) of a model or checkpoint file written by ncsn.h (or by
    save_model). state_dict holds exactly the network's tensors (float32; torch tensors if torch
    is importable and as_numpy is False), ready for load_state_dict(strict=True). weights="ema"
    takes a checkpoint's EMA weights ("ema.*") instead. sigmas: the file's noise levels, or None.
    settings: dim, hidden, cond ("concat" | "embed"), embed_dim, act, scale_by_sigma, sigma_input
    ("raw" | "log"), zero_init_output, standardization (None or loc, scale, center, radius),
    document_model (the seeds' class that fits, or None), metadata (the file's, all of it) and
    extra (every other tensor: Adam's moments, EMA weights, ...)."""
    tensors, meta = read(path)
    what = str(path)
    pre = {"model": "", "ema": "ema."}.get(weights)
    if pre is None:
        raise ValueError("load_model: weights = %r must be 'model' or 'ema'" % weights)
    net = [n for n in tensors if _NET.match(n)]
    dim, hidden, E = _net_layout(net, lambda n: list(tensors[n].shape) if n in tensors else None, what)
    if pre and not all(pre + n in tensors for n in net):
        raise ValueError("%s: weights='ema' but the file has no ema.* copy of every network tensor" % what)
    for n in net:
        t = tensors[pre + n]
        if t.dtype != np.float32:
            raise ValueError("%s: tensor %s is %s; ncsn.h's networks are F32" % (what, pre + n, t.dtype))
        bad = np.flatnonzero(~np.isfinite(t))
        if bad.size:
            raise ValueError("%s: tensor %s element %d is not finite" % (what, pre + n, bad[0]))
    settings = {
        "dim": dim, "hidden": hidden, "cond": "embed" if E else "concat", "embed_dim": E,
        "act": _choice(meta, "act", ("silu", "softplus"), "silu", what),
        "scale_by_sigma": _choice(meta, "scale_by_sigma", ("0", "1"), "0", what) == "1",
        "sigma_input": _choice(meta, "sigma_input", ("raw", "log"), "raw", what),
        "zero_init_output": _choice(meta, "ncsn.zero_init_output", ("0", "1"), "0", what) == "1",
        "precond_sigma_data": _precond(meta, what), "standardization": None, "metadata": meta,
    }
    if settings["precond_sigma_data"] is not None and settings["scale_by_sigma"]:
        raise ValueError("%s: precond_sigma_data with scale_by_sigma = 1: a network has one output form" % what)
    if "ncsn.dim" in meta and meta["ncsn.dim"] != str(dim):
        raise ValueError("%s: metadata ncsn.dim = %r, but the tensors have dim %d" % (what, meta["ncsn.dim"], dim))
    sigmas = _levels(tensors["sigmas"], what) if "sigmas" in tensors else None
    if "data.loc" in tensors:
        st = {k: np.asarray(tensors.get("data." + k), np.float32) for k in ("loc", "scale", "center")}
        if any(v.shape != (dim,) or not np.all(np.isfinite(v)) for v in st.values()) or not np.all(st["scale"] > 0):
            raise ValueError("%s: data.loc, data.scale, data.center must be [%d] finite floats, scale > 0" % (what, dim))
        st["radius"] = _radius(meta.get("ncsn.data.radius"), what)
        settings["standardization"] = st
    settings["document_model"] = _document_model(settings)
    keep = set(net) | {"sigmas", "data.loc", "data.scale", "data.center"}
    settings["extra"] = {n: t for n, t in tensors.items() if n not in keep}
    state = {n: tensors[pre + n] for n in net}
    if not as_numpy:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            state = {n: torch.from_numpy(t) for n, t in state.items()}
            sigmas = None if sigmas is None else torch.from_numpy(sigmas)
    return state, sigmas, settings


def _precond(meta, what):
    """The file's precond_sigma_data as a float32 value, or None; anything outside [1e-18, 1e18] raises."""
    v = meta.get("precond_sigma_data")
    if v is None:
        return None
    try:
        f = float(np.float32(float(v)))
    except (TypeError, ValueError):
        raise ValueError("%s: metadata precond_sigma_data = %r is not a number" % (what, v))
    if not (float(np.float32(1e-18)) <= f <= float(np.float32(1e18))):   # as ncsn.h: its square must be a normal float32
        raise ValueError("%s: metadata precond_sigma_data = %r must be a number in [1e-18, 1e18]" % (what, v))
    return f


def _document_model(s):
    """The seeds' PyTorch class this network is, as code, or None (then use ScoreNetwork)."""
    if s["act"] != "silu" or s["scale_by_sigma"] or s.get("precond_sigma_data") or s["sigma_input"] != "raw" or len(set(s["hidden"])) != 1:
        return None
    w, depth = s["hidden"][0], len(s["hidden"])
    if s["cond"] == "concat":
        return "ScoreNet(hidden_dim=%d)" % w if s["dim"] == 2 and depth == 3 else None
    return "NCSNScoreNetwork(input_dim=%d, hidden_dims=%s, sigma_embed_dim=%d)" % (s["dim"], [w] * depth, s["embed_dim"])


def settings_for(state_dict, act="silu", scale_by_sigma=False, sigma_input="raw", zero_init_output=False, precond_sigma_data=None):
    """The settings of a network given only its tensors (a torch model's state_dict): what
    save_model needs for a model that was never an ncsn.h file. The documents' ScoreNet and
    NCSNScoreNetwork use the defaults."""
    names = list(state_dict)
    dim, hidden, E = _net_layout(names, lambda n: list(_numpy(state_dict[n]).shape) if n in state_dict else None, "settings_for")
    s = {"dim": dim, "hidden": hidden, "cond": "embed" if E else "concat", "embed_dim": E, "act": act,
         "scale_by_sigma": bool(scale_by_sigma), "sigma_input": sigma_input, "zero_init_output": bool(zero_init_output),
         "precond_sigma_data": precond_sigma_data,
         "standardization": None, "metadata": {}, "extra": {}}
    s["document_model"] = _document_model(s)
    return s


def save_model(path, model, sigmas=None, settings=None):
    """Writes a network (a torch module, or a state_dict of torch tensors or numpy arrays) as an
    ncsn.h model file: its tensors (F32 only), the noise levels if given (strictly decreasing, what
    ncsn.h requires), the standardisation in settings if any, and the metadata: the network's keys
    from the settings (settings_for(state_dict) when None), then every other key of
    settings["metadata"] (training settings, your own), except a checkpoint's Adam and RNG keys."""
    sd = model.state_dict() if hasattr(model, "state_dict") else dict(model)
    arrays = {}
    for n, t in sd.items():
        if not _NET.match(n):
            raise ValueError("save_model: tensor %r is not part of an ncsn.h network (net.N.*, sigma_embed.1/3.*)" % n)
        a = _numpy(t)
        if a.dtype != np.float32:
            raise ValueError("save_model: tensor %s is %s; ncsn.h reads F32 only (use model.float())" % (n, a.dtype))
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            raise ValueError("save_model: tensor %s element %d is not finite (ncsn.h would refuse the file)" % (n, bad[0]))
        arrays[n] = a
    s = settings if settings is not None else settings_for(arrays)
    dim, hidden, E = _net_layout(list(arrays), lambda n: list(arrays[n].shape) if n in arrays else None, "save_model")
    if (dim, hidden, E) != (s["dim"], list(s["hidden"]), s["embed_dim"] if s["cond"] == "embed" else 0):
        raise ValueError("save_model: the tensors are dim %d, hidden %s, embed %d; the settings say dim %d, hidden %s, embed %d"
                         % (dim, hidden, E, s["dim"], s["hidden"], s["embed_dim"]))
    for k, allowed in (("act", ("silu", "softplus")), ("sigma_input", ("raw", "log"))):
        if s[k] not in allowed:
            raise ValueError("save_model: settings[%r] = %r must be one of %s" % (k, s[k], allowed))
    meta = {"format": "pt", "library": LIBRARY, "cond": s["cond"], "act": s["act"],
            "scale_by_sigma": "1" if s["scale_by_sigma"] else "0"}
    if s["sigma_input"] == "log":
        meta["sigma_input"] = "log"
    if s.get("precond_sigma_data") is not None:
        meta["precond_sigma_data"] = "%.9g" % float(np.float32(s["precond_sigma_data"]))   # as ncsn.h writes it
    meta.update({"ncsn.kind": "model", "ncsn.dim": str(dim), "ncsn.hidden": ",".join(map(str, hidden)),
                 "ncsn.embed_dim": str(E), "ncsn.zero_init_output": "1" if s["zero_init_output"] else "0"})
    if sigmas is not None:
        arrays["sigmas"] = _levels(sigmas, "save_model")
        meta["ncsn.levels"] = str(arrays["sigmas"].size)
    st = s.get("standardization")
    if st is not None:
        for k in ("loc", "scale", "center"):
            arrays["data." + k] = np.asarray(_numpy(st[k]), np.float32).reshape(dim)
        meta["ncsn.data.radius"] = "%.9g" % _radius(st.get("radius"), "save_model")
    for k, v in s.get("metadata", {}).items():
        if k not in _MODEL_KEYS and not k.startswith(_CHECKPOINT_PREFIXES):
            meta[k] = v
    write(path, arrays, meta)


# ---- the network in PyTorch ---------------------------------------------------------------------
def ScoreNetwork(settings):
    """A torch.nn.Module computing what ncsn.h computes for these settings (every conditioning,
    activation and output scaling), with the same state_dict names as the documents' ScoreNet and
    NCSNScoreNetwork. forward(x [N, dim], sigma [N] or a scalar) -> scores [N, dim]."""
    import torch
    import torch.nn as nn

    s = settings
    log_sigma, E = s["sigma_input"] == "log", (s["embed_dim"] if s["cond"] == "embed" else 0)
    act = nn.SiLU if s["act"] == "silu" else nn.Softplus

    class _Sinusoid(nn.Module):
        def forward(self, c):
            half = E // 2
            # ncsn.h: f_j = f0 exp(-j ln(base) / (half - 1)); raw sigma base 10000, f0 1 (seed 001);
            # ln sigma base 16, f0 1/4
            base, f0 = (16.0, 0.25) if log_sigma else (10000.0, 1.0)
            f = f0 * torch.exp(torch.arange(half, device=c.device) * -(math.log(base) / (half - 1)))
            arg = c.unsqueeze(-1) * f.to(c.dtype).unsqueeze(0)
            return torch.cat([arg.sin(), arg.cos()], dim=-1)

    class _Net(nn.Module):
        def __init__(self):
            super().__init__()
            if E:
                self.sigma_embed = nn.Sequential(_Sinusoid(), nn.Linear(E, E), nn.SiLU(), nn.Linear(E, E))
            dims = [s["dim"] + (E if E else 1)] + list(s["hidden"])
            layers = []
            for a, b in zip(dims[:-1], dims[1:]):
                layers += [nn.Linear(a, b), act()]
            layers.append(nn.Linear(dims[-1], s["dim"]))
            self.net = nn.Sequential(*layers)

        def forward(self, x, sigma):
            sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
            if sigma.dim() == 0:
                sigma = sigma.expand(x.shape[0])
            sigma = sigma.reshape(-1)
            c = torch.log(sigma) if log_sigma else sigma
            cond = self.sigma_embed(c) if E else c.unsqueeze(1)
            sd = s.get("precond_sigma_data")
            if sd:   # ncsn.h's ncsn_config.precond: F sees c_in x, s = (c_skip x + c_out F - x) / sigma^2
                sg = sigma.unsqueeze(1)
                v = sg * sg + sd * sd
                c_in, c_out = 1 / v.sqrt(), sg * sd / v.sqrt()
                F = self.net(torch.cat([c_in * x, cond], dim=1))
                # (c_skip - 1)/sigma^2 = -1/v exactly: c_skip - 1 from a rounded c_skip loses v/sigma^2
                return c_out / (sg * sg) * F - x / v
            out = self.net(torch.cat([x, cond], dim=1))
            return out / sigma.unsqueeze(1) if s["scale_by_sigma"] else out

    return _Net()
