#!/usr/bin/python3
"""ncsn_ctypes.py - ncsn.h from Python through ctypes and the shared library `make shared` builds.

    make shared
    python3 python/ncsn_ctypes.py DATA.csv MODEL.safetensors --steps 2000 -n 1000 > samples.csv

trains a score network on the points of DATA.csv with ncsn.h's data-driven recipe (ncsn_trainer),
writes it to MODEL.safetensors, and prints n samples drawn by annealed Langevin dynamics, exactly
as `ncsn train DATA.csv -o MODEL.safetensors --steps N` then `ncsn sample MODEL.safetensors -n N`
would: the same bits (make check-shared compares them). The library: --lib, else $NCSN_LIB, else
build/default/libncsn.so next to this checkout, else libncsn.so on the loader's path.

As a module: lib = load(); train(lib, ...), sample(lib, ...); the structures below mirror ncsn.h's
(ncsn_config, ncsn_train_opts, ncsn_trainer, ncsn_sampler_opts, ncsn_stdz, ...), so any API
function can be called as lib.ncsn_<name>. Standard library and numpy.
"""
import argparse
import ctypes as C
import os
import sys

import numpy as np

F = C.POINTER(C.c_float)
NCSN_MAX_HIDDEN = 16
NCSN_OK, NCSN_ERR_NONFINITE = 0, 5


class Config(C.Structure):          # ncsn_config
    _fields_ = [("dim", C.c_int), ("n_hidden", C.c_int), ("hidden", C.c_int * NCSN_MAX_HIDDEN), ("cond", C.c_int),
                ("sigma_input", C.c_int), ("embed_dim", C.c_int), ("act", C.c_int), ("scale_by_sigma", C.c_int),
                ("zero_init_output", C.c_int), ("precond", C.c_int), ("sigma_data", C.c_float)]


class TrainOpts(C.Structure):       # ncsn_train_opts
    _fields_ = [("net", Config), ("steps", C.c_long), ("levels", C.c_int), ("sigmas", F), ("sigma_max", C.c_float),
                ("sigma_min", C.c_float), ("schedule", C.c_int), ("weighting", C.c_int), ("batch", C.c_int),
                ("lr", C.c_float), ("lr_decay_steps", C.c_long), ("ema_rate", C.c_float), ("standardize", C.c_int),
                ("seed", C.c_uint64), ("stream", C.c_uint64), ("threads", C.c_int),
                ("stable_target", C.c_int)]


class Rng(C.Structure):             # ncsn_rng
    _fields_ = [("state", C.c_uint64), ("inc", C.c_uint64)]


class Adam(C.Structure):            # ncsn_adam
    _fields_ = [("lr", C.c_float), ("beta1", C.c_float), ("beta2", C.c_float), ("eps", C.c_float),
                ("weight_decay", C.c_float), ("step", C.c_long), ("n", C.c_size_t), ("m", F), ("v", F)]


class DsmBatch(C.Structure):        # ncsn_dsm_batch
    _fields_ = [("level", C.POINTER(C.c_int)), ("sigma", F), ("eps", F), ("xt", F), ("pred", F), ("dpred", F),
                ("cap", C.c_int), ("dim", C.c_int)]


class Stdz(C.Structure):            # ncsn_stdz
    _fields_ = [("dim", C.c_int), ("loc", F), ("scale", F), ("center", F), ("radius", C.c_float)]


class Trainer(C.Structure):         # ncsn_trainer (read-only here: step, loss, L, ...)
    _fields_ = [("opts", TrainOpts), ("model", C.c_void_p), ("adam", Adam), ("dsm", DsmBatch), ("ema", F), ("rng", Rng),
                ("L", C.c_int), ("sigmas", F), ("stdz", Stdz), ("n", C.c_int), ("dim", C.c_int), ("data", F),
                ("perm", C.POINTER(C.c_int)), ("xb", F), ("batch", C.c_int), ("step", C.c_long), ("loss", C.c_float),
                ("sigma_max_exact", C.c_int)]


class SamplerOpts(C.Structure):     # ncsn_sampler_opts
    _fields_ = [("form", C.c_int), ("eps", C.c_float), ("steps_per_level", C.c_int), ("init", C.c_int),
                ("init_lo", C.c_float), ("init_hi", C.c_float), ("denoise_final", C.c_int), ("callback", C.c_void_p),
                ("callback_user", C.c_void_p), ("fine_factor", C.c_int), ("fine_sigma", C.c_float),
                ("predictor", C.c_int)]


class NcsnError(RuntimeError):
    pass


# the signatures this module calls (restype, argtypes)
_SIGNATURES = {
    "ncsn_last_error": (C.c_char_p, []),
    "ncsn_simd_name": (C.c_char_p, []),
    "ncsn_selftest": (C.c_int, []),
    "ncsn_free": (None, [C.c_void_p]),
    "ncsn_csv_load": (C.c_int, [C.c_char_p, C.c_void_p, C.POINTER(F), C.POINTER(C.c_int), C.POINTER(C.c_int), C.c_char_p, C.c_size_t]),
    "ncsn_train_defaults_for": (TrainOpts, [C.c_int]),
    "ncsn_trainer_create": (C.c_int, [C.POINTER(C.POINTER(Trainer)), C.POINTER(TrainOpts), F, C.c_int, C.c_int, C.POINTER(Rng)]),
    "ncsn_trainer_step": (C.c_int, [C.POINTER(Trainer)]),
    "ncsn_trainer_save_model": (C.c_int, [C.POINTER(Trainer), C.c_char_p, C.c_void_p]),
    "ncsn_trainer_free": (None, [C.POINTER(Trainer)]),
    "ncsn_checkpoint_load": (C.c_int, [C.POINTER(C.c_void_p), C.c_char_p, C.c_void_p, C.c_void_p, F, C.c_int,
                                       C.POINTER(C.c_int), C.c_void_p]),
    "ncsn_stdz_load": (C.c_int, [C.POINTER(Stdz), C.c_char_p, C.c_int]),
    "ncsn_stdz_free": (None, [C.POINTER(Stdz)]),
    "ncsn_model_free": (None, [C.c_void_p]),
    "ncsn_model_set_threads": (C.c_int, [C.c_void_p, C.c_int]),
    "ncsn_sampler_recipe_model": (SamplerOpts, [C.c_void_p, F, C.c_int, C.c_int]),
    "ncsn_rng_seed": (None, [C.POINTER(Rng), C.c_uint64, C.c_uint64]),
    "ncsn_sample_data": (C.c_int, [C.c_void_p, C.POINTER(Stdz), F, C.c_int, C.POINTER(SamplerOpts), C.POINTER(Rng), F,
                                   C.c_int, C.POINTER(C.c_ubyte), C.POINTER(C.c_int)]),
}


def load(path=None):
    """The shared library with the signatures above set."""
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "build", "default", "libncsn.so")
    lib = C.CDLL(path or os.environ.get("NCSN_LIB") or (built if os.path.exists(built) else "libncsn.so"))
    for name, (res, args) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


def check(lib, status, what):
    if status != NCSN_OK:
        raise NcsnError("%s: %s" % (what, lib.ncsn_last_error().decode(errors="replace")))


def fptr(a):
    return a.ctypes.data_as(F)


def train(lib, data_csv, model_path, steps, seed=42, threads=1, log_every=0):
    """ncsn train DATA.csv -o MODEL --steps N --seed S: the data-driven recipe, the EMA weights saved."""
    data, n, dim = F(), C.c_int(), C.c_int()
    check(lib, lib.ncsn_csv_load(data_csv.encode(), None, C.byref(data), C.byref(n), C.byref(dim), None, 0), "ncsn_csv_load")
    opts = lib.ncsn_train_defaults_for(dim)   # the recipe for the data's dimension, as ncsn train
    opts.steps, opts.seed, opts.threads = steps, seed, threads
    if opts.lr_decay_steps > 0:
        opts.lr_decay_steps = steps   # the rate decays over the run, as ncsn train --steps N does
    t = C.POINTER(Trainer)()
    try:
        check(lib, lib.ncsn_trainer_create(C.byref(t), C.byref(opts), data, n, dim, None), "ncsn_trainer_create")
    finally:
        lib.ncsn_free(data)   # the trainer keeps its own copy
    try:
        while t.contents.step < steps:
            check(lib, lib.ncsn_trainer_step(t), "ncsn_trainer_step")
            if log_every and (t.contents.step % log_every == 0 or t.contents.step == steps):
                print("step %d  loss %.5g" % (t.contents.step, t.contents.loss), file=sys.stderr)
        check(lib, lib.ncsn_trainer_save_model(t, model_path.encode(), None), "ncsn_trainer_save_model")
    finally:
        lib.ncsn_trainer_free(t)


def sample(lib, model_path, n, seed=1, steps_per_level=0, threads=1):
    """ncsn sample MODEL -n N --seed S: (samples [n, dim] in the data's units, diverged [n] bool)."""
    model, L = C.c_void_p(), C.c_int()
    sigmas = np.zeros(1 << 16, np.float32)
    check(lib, lib.ncsn_checkpoint_load(C.byref(model), model_path.encode(), None, None, fptr(sigmas), sigmas.size,
                                        C.byref(L), None), "ncsn_checkpoint_load")
    stdz = Stdz()
    try:
        dim = C.cast(model, C.POINTER(Config)).contents.dim   # ncsn_model starts with its ncsn_config
        check(lib, lib.ncsn_stdz_load(C.byref(stdz), model_path.encode(), dim), "ncsn_stdz_load")
        if L.value < 1:
            raise NcsnError("%s holds no noise levels" % model_path)
        if threads > 1:
            check(lib, lib.ncsn_model_set_threads(model, threads), "ncsn_model_set_threads")
        so = lib.ncsn_sampler_recipe_model(model, fptr(sigmas), L, steps_per_level)   # as ncsn sample: by dimension and form
        rng = Rng()
        lib.ncsn_rng_seed(C.byref(rng), seed, 54)
        x = np.zeros((n, dim), np.float32)
        diverged = np.zeros(n, np.uint8)
        n_div = C.c_int()
        check(lib, lib.ncsn_sample_data(model, C.byref(stdz), fptr(sigmas), L, C.byref(so), C.byref(rng), fptr(x), n,
                                        diverged.ctypes.data_as(C.POINTER(C.c_ubyte)), C.byref(n_div)), "ncsn_sample_data")
        return x, diverged.astype(bool)
    finally:
        lib.ncsn_stdz_free(C.byref(stdz))
        lib.ncsn_model_free(model)


def main():
    ap = argparse.ArgumentParser(description="train on DATA.csv, write MODEL, print samples (CSV) - ncsn.h through ctypes")
    ap.add_argument("data")
    ap.add_argument("model")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("-n", type=int, default=1000, help="samples")
    ap.add_argument("--seed", type=int, default=1, help="the sampler's seed (training: 42, as ncsn train)")
    ap.add_argument("--steps-per-level", type=int, default=0, help="Langevin steps per level (0: 200)")
    ap.add_argument("--lib", help="libncsn.so to load")
    args = ap.parse_args()
    lib = load(args.lib)
    check(lib, lib.ncsn_selftest(), "ncsn_selftest")
    print("ncsn_ctypes: %s, kernels %s, self-test ok" % (args.lib or "libncsn.so", lib.ncsn_simd_name().decode()), file=sys.stderr)
    train(lib, args.data, args.model, args.steps, log_every=max(1, args.steps // 5))
    x, diverged = sample(lib, args.model, args.n, args.seed, args.steps_per_level)
    for row in x[~diverged]:
        print(",".join("%.9g" % v for v in row))   # what ncsn sample prints: %.9g round-trips a float
    if diverged.any():
        print("ncsn_ctypes: %d of %d chains diverged and were left out" % (diverged.sum(), args.n), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
