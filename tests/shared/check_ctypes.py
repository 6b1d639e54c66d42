#!/usr/bin/python3
"""check_ctypes.py LIB NCSN - python/ncsn_ctypes.py's example (train, save, sample through the shared
library) against the ncsn command built from the same header (make check-shared): the model files
must hold the same tensors bit for bit and the samples must be the same bytes."""
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import ncsn_st  # noqa: E402

STEPS, N, SEED, T = "150", "64", "3", "10"


def one_case(lib, ncsn, tmp, name, x, T):
    """train and sample x through ctypes and through the ncsn command; the number of failed checks"""
    failed = 0
    data = os.path.join(tmp, name + ".csv")
    np.savetxt(data, x, delimiter=",", fmt="%.9g")
    py_model, cli_model = os.path.join(tmp, name + "_py.safetensors"), os.path.join(tmp, name + "_cli.safetensors")
    t_args = ["--steps-per-level", T] if T else []
    py = subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "python", "ncsn_ctypes.py"), data, py_model, "--steps", STEPS,
                         "-n", N, "--seed", SEED, "--lib", lib] + t_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sys.stderr.write(py.stderr.decode())
    subprocess.run([ncsn, "train", data, "-o", cli_model, "--steps", STEPS, "-q", "--checkpoint-every", "0"], check=True)
    cli = subprocess.run([ncsn, "sample", cli_model, "-n", N, "--seed", SEED, "-q"] + t_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ok = py.returncode == cli.returncode and py.returncode in (0, 3)
    print("%s  %s: exit codes: ncsn_ctypes.py %d, ncsn sample %d" % ("ok  " if ok else "FAIL", name, py.returncode, cli.returncode))
    failed += not ok
    (tp, _), (tc, _) = ncsn_st.read(py_model), ncsn_st.read(cli_model)
    ok = list(tp) == list(tc) and all(tp[k].tobytes() == tc[k].tobytes() for k in tp)
    print("%s  %s: the model trained through ctypes has the same %d tensors as ncsn train's, bit for bit" % ("ok  " if ok else "FAIL", name, len(tp)))
    failed += not ok
    ok = py.stdout == cli.stdout and py.stdout.count(b"\n") > int(N) // 2
    print("%s  %s: the samples are the same bytes as ncsn sample's (%d rows)" % ("ok  " if ok else "FAIL", name, py.stdout.count(b"\n")))
    failed += not ok
    return failed


def main():
    lib, ncsn = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="ncsn_ctypes_") as tmp:
        rng = np.random.default_rng(7)
        x = np.concatenate([rng.normal((-2, 1), 0.4, (200, 2)), rng.normal((2, -1), 0.6, (200, 2))]).astype(np.float32)
        failed = one_case(lib, ncsn, tmp, "2-D", x, T)
        # above 16 columns the recipe differs (ncsn_train_defaults_for, ncsn_sampler_recipe_model): the defaults' T
        x = rng.normal(0.0, 1.0, (300, 20)).astype(np.float32)
        failed += one_case(lib, ncsn, tmp, "20-D", x, None)
    print("%d passed, %d failed" % (6 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
