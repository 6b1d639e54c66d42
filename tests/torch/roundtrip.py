#!/usr/bin/python3
"""roundtrip.py - python/ncsn_st.py both ways, run by `make check-torch`:

    /usr/bin/python3 tests/torch/roundtrip.py --ncsn build/default/ncsn --driver build/default/parity

C -> torch -> C: `ncsn train` writes a model (seed 000's and seed 001's presets, the default
recipe, and softplus on ln sigma); ncsn_st.load_model gives a state_dict that loads with
strict=True into the documents' class (seed_models.py) or ncsn_st.ScoreNetwork, whose scores are
compared with `ncsn score`; ncsn_st.save_model writes it back, and the file must hold the same
tensors bit for bit and the same metadata (but "library"), and `ncsn sample` must print the same
bytes from both files.
torch -> C -> torch: torch models (ScoreNet, NCSNScoreNetwork, ScoreNetwork on ln sigma with
softplus and s = net/sigma) are saved by save_model, read and written back by ncsn.h (the parity
driver's resave: ncsn_checkpoint_load, ncsn_checkpoint_save) and loaded again: every tensor, the
levels and the settings must be equal; ncsn.h's scores on the torch-written file must match the
torch model's (1e-5, as parity.py).
Then what ncsn.h would refuse must be refused by the module too. Ends with "N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import ncsn_st  # noqa: E402
import seed_models as S  # noqa: E402

TOL_SCORE = 1e-5   # max-norm relative error of scores, as parity.py
passed = failed = 0


def check(ok, what):
    global passed, failed
    print("%s  %s" % ("ok  " if ok else "FAIL", what))
    if ok:
        passed += 1
    else:
        failed += 1


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def same_bits(a, b):
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.PIPE, **kw).stdout


def torch_model(settings):
    """The documents' class when one fits (as settings["document_model"] names it), else ScoreNetwork."""
    doc = settings["document_model"]
    if doc is None:
        return ncsn_st.ScoreNetwork(settings), "ncsn_st.ScoreNetwork"
    return eval("S." + doc), doc   # a class name and keyword arguments written by ncsn_st


def c_to_torch_to_c(ncsn, tmp, data_csv, label, train_args):
    f1, f2 = os.path.join(tmp, label + ".safetensors"), os.path.join(tmp, label + ".back.safetensors")
    run(ncsn, "train", data_csv, "-o", f1, "--steps", "30", "-q", "--checkpoint-every", "0", "--threads", "1", *train_args)
    sd, sigmas, settings = ncsn_st.load_model(f1)
    model, cls = torch_model(settings)
    try:
        model.load_state_dict(sd, strict=True)
        check(True, "%s: load_model -> %s.load_state_dict(strict=True)" % (label, cls))
    except RuntimeError as e:
        check(False, "%s: %s.load_state_dict(strict=True): %s" % (label, cls, e))
        return
    # scores in the user's units, as `ncsn score` gives them: s(z) / scale at z = (x - loc) / scale
    x = np.loadtxt(data_csv, delimiter=",", dtype=np.float32)[::7]
    pts = os.path.join(tmp, label + ".points.csv")
    np.savetxt(pts, x, delimiter=",", fmt="%.9g")
    st = settings["standardization"] or {"loc": np.zeros(2, np.float32), "scale": np.ones(2, np.float32)}
    for level in (0, len(sigmas) - 1):
        c = np.loadtxt(run(ncsn, "score", f1, "--level", level, "--input", pts, "--threads", "1").decode().splitlines(),
                       delimiter=",", dtype=np.float64)
        with torch.no_grad():
            z = torch.from_numpy((x - st["loc"]) / st["scale"])
            t = model(z, sigmas[level].expand(len(x))).numpy() / st["scale"]
        r, tol = rel(c, t), TOL_SCORE   # precond too: both take (c_skip - 1)/sigma^2 as -1/(sigma^2 + sd^2)
        check(r <= tol, "%s: torch scores vs ncsn score at sigma_%d = %.4g: rel %.2g <= %.2g"
              % (label, level, float(sigmas[level]), r, tol))
    ncsn_st.save_model(f2, model, sigmas, settings)
    (t1, m1), (t2, m2) = ncsn_st.read(f1), ncsn_st.read(f2)
    check(list(t1) == list(t2) and all(same_bits(t1[n], t2[n]) for n in t1),
          "%s: save_model wrote the same %d tensors, bit for bit" % (label, len(t1)))
    diff = sorted(k for k in set(m1) | set(m2) if k != "library" and m1.get(k) != m2.get(k))
    check(not diff, "%s: the same metadata but 'library' (%d keys)%s" % (label, len(m1), "; differ: %s" % diff if diff else ""))
    # 30 steps of training: some chains may diverge (exit 3, said on stderr), the same ones from both files
    s1, s2 = (subprocess.run([str(ncsn), "sample", f, "-n", "64", "--seed", "5", "--steps-per-level", "10", "-q", "--threads", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for f in (f1, f2))
    check(s1.returncode in (0, 3) and (s1.returncode, s1.stdout, s1.stderr) == (s2.returncode, s2.stdout, s2.stderr) and s1.stdout,
          "%s: ncsn sample prints the same bytes from the file and from its torch round trip (%d lines, exit %d)"
          % (label, s1.stdout.count(b"\n"), s1.returncode))


def torch_to_c_to_torch(driver, tmp, label, model, sigmas, settings, rng):
    t1, t2 = os.path.join(tmp, label + ".t.safetensors"), os.path.join(tmp, label + ".t.back.safetensors")
    ncsn_st.save_model(t1, model, sigmas, settings)
    run(driver, "resave", t1, t2)
    sd, sig2, set2 = ncsn_st.load_model(t2)
    fresh = torch_model(set2)[0]
    fresh.load_state_dict(sd, strict=True)
    orig = model.state_dict()
    check(all(torch.equal(fresh.state_dict()[n], orig[n]) for n in orig) and list(sd) == list(orig),
          "%s: torch -> ncsn.h -> torch: the %d tensors equal" % (label, len(orig)))
    check(torch.equal(sig2, sigmas.float()), "%s: the %d noise levels equal" % (label, len(sigmas)))
    want = settings or ncsn_st.settings_for(orig)
    keys = ("dim", "hidden", "cond", "embed_dim", "act", "scale_by_sigma", "sigma_input", "precond_sigma_data")
    check(all(set2.get(k) == want.get(k) for k in keys), "%s: the settings equal (%s)" % (label, ", ".join("%s %s" % (k, set2[k]) for k in keys)))
    # ncsn.h's scores on the torch-written file against the torch model
    B, D = 64, set2["dim"]
    x = rng.standard_normal((B, D)).astype(np.float32)
    sig = np.asarray(sigmas, np.float32)[rng.integers(0, len(sigmas), B)]
    paths = [os.path.join(tmp, "%s.%s" % (label, n)) for n in ("x", "s", "dout", "score", "dx", "grads")]
    for p, a in zip(paths[:3], (x, sig, np.zeros((B, D), np.float32))):
        a.tofile(p)
    run(driver, "forward", t1, B, *paths)
    c = np.fromfile(paths[3], dtype="<f4").reshape(B, D)
    with torch.no_grad():
        t = model(torch.from_numpy(x), torch.from_numpy(sig)).numpy()
    r = rel(c, t)
    check(r <= TOL_SCORE, "%s: ncsn.h's scores on the torch-written file vs torch: rel %.2g <= %g" % (label, r, TOL_SCORE))


def docs_example(ncsn, tmp, model_file):
    """docs/python.md's example, run as written in a directory holding its model.safetensors."""
    text = open(os.path.join(HERE, "..", "..", "docs", "python.md")).read()
    code = text.split("## A model file in PyTorch and back", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    d = os.path.join(tmp, "docs_example")
    os.makedirs(d)
    with open(model_file, "rb") as f, open(os.path.join(d, "model.safetensors"), "wb") as g:
        g.write(f.read())
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "..", "python"))
    r = subprocess.run([sys.executable, "-c", code], cwd=d, env=env, stderr=subprocess.PIPE)
    check(r.returncode == 0 and code.count("\n") == 5, "docs/python.md's example (%d lines) runs%s"
          % (code.count("\n"), "" if r.returncode == 0 else ": " + r.stderr.decode()[-300:]))
    out = os.path.join(d, "from_torch.safetensors")
    info = subprocess.run([str(ncsn), "info", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE) if os.path.exists(out) else None
    check(info is not None and info.returncode == 0 and re.search(rb"noise levels: [1-9]", info.stdout) is not None,
          "ncsn info reads the file the example wrote, with its noise levels")


def refusals(tmp):
    """What ncsn.h refuses, refused before a file is written (or read)."""
    torch.manual_seed(3)
    m = S.ScoreNet(hidden_dim=16)
    p = os.path.join(tmp, "refused.safetensors")
    cases = [("levels that do not decrease", lambda: ncsn_st.save_model(p, m, torch.tensor([1.0, 2.0]))),
             ("a zero level", lambda: ncsn_st.save_model(p, m, torch.tensor([1.0, 0.0]))),
             ("float64 weights", lambda: ncsn_st.save_model(p, S.ScoreNet(hidden_dim=16).double())),
             ("an odd embedding size", lambda: ncsn_st.save_model(p, S.NCSNScoreNetwork(2, [8], sigma_embed_dim=5))),
             ("a tensor that is not the network's", lambda: ncsn_st.save_model(p, dict(m.state_dict(), extra=torch.zeros(1))))]
    for what, fn in cases:
        try:
            fn()
            check(False, "save_model refuses %s" % what)
        except ValueError as e:
            check(not os.path.exists(p), "save_model refuses %s: %s" % (what, e))
    ncsn_st.save_model(p, m)
    buf = open(p, "rb").read()
    for what, bad in (("a truncated file", buf[:-4]), ("a header longer than the file", b"\xff" * 8 + buf[8:])):
        try:
            ncsn_st.read(bad)
            check(False, "read refuses %s" % what)
        except ValueError as e:
            check(True, "read refuses %s: %s" % (what, e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ncsn", default="build/default/ncsn")
    ap.add_argument("--driver", default="build/default/parity")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="ncsn_roundtrip_") as tmp:
        rng = np.random.default_rng(16)
        x = np.concatenate([rng.normal(-2, 0.5, (150, 2)), rng.normal(2, 0.5, (150, 2))])
        data = os.path.join(tmp, "data.csv")
        np.savetxt(data, x, delimiter=",", fmt="%.9g")
        print("C -> torch -> C")
        c_to_torch_to_c(args.ncsn, tmp, data, "seed000", ["--preset", "seed000", "--width", "32"])
        c_to_torch_to_c(args.ncsn, tmp, data, "seed001", ["--preset", "seed001", "--width", "32"])
        c_to_torch_to_c(args.ncsn, tmp, data, "default", ["--width", "32", "--depth", "2"])
        c_to_torch_to_c(args.ncsn, tmp, data, "concat-softplus", ["--width", "32", "--depth", "2", "--embed", "0", "--act", "softplus"])
        c_to_torch_to_c(args.ncsn, tmp, data, "precond", ["--width", "32", "--depth", "2", "--output-form", "precond"])
        docs_example(args.ncsn, tmp, os.path.join(tmp, "default.safetensors"))
        print("torch -> C -> torch")
        torch.manual_seed(16)
        torch_to_c_to_torch(args.driver, tmp, "ScoreNet", S.ScoreNet(hidden_dim=32), S.seed000_sigmas(), None, rng)
        m = S.NCSNScoreNetwork(input_dim=2, hidden_dims=[32, 32, 32], sigma_embed_dim=16)
        torch.nn.init.normal_(m.net[-1].weight, std=0.1)   # the seed zeroes the output layer: make it count
        torch_to_c_to_torch(args.driver, tmp, "NCSNScoreNetwork", m, S.create_noise_schedule(0.01, 5.0, 10), None, rng)
        s = {"dim": 3, "hidden": [24, 24], "cond": "embed", "embed_dim": 8, "act": "softplus", "scale_by_sigma": True,
             "sigma_input": "log", "zero_init_output": False, "standardization": None, "metadata": {}, "document_model": None}
        torch_to_c_to_torch(args.driver, tmp, "ScoreNetwork-log-softplus", ncsn_st.ScoreNetwork(s),
                            S.create_noise_schedule(0.05, 3.0, 6), s, rng)
        print("refusals")
        refusals(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
