#!/usr/bin/python3
"""bench_torch.py - the PyTorch side of `make bench` (bench/run.py runs it next to bench/bench.c).

    bench_torch.py W1..W14 [--threads 1,2] [--reps 5] [--rep-time 0.15] [--models DIR]
    bench_torch.py e2e000|e2e001 [--threads 1,2] [--train-steps N] [--chains N] [--steps-per-level N]
    bench_torch.py info

The workloads are the seeds' own code (tests/torch/seed_models.py, copied verbatim from the seeds;
seed 000's sampler, which seed_models.py does not hold, is copied verbatim below):
  W1  S.seed000_train_step_fixed: seed 000's training-loop body, full batch 5000, ScoreNet(128).
      Seed 000's own loss line crashes torch at batch 5000 (see seed_models.py, ERRATUM); the
      fixed line (sigma ** 2 with sigma of shape (B, 1)) is the only change, as parity.py does.
  W2  seed 001's loop body: idx = torch.randperm(len(samples))[:256]; ncsn.train_step(samples[idx])
      with NCSNScoreNetwork(2, [128, 128, 128]) and NCSN(score_net, 0.01, 5.0, 10).
  W3  seed 000's annealed_langevin_dynamics (one chain, batch 1, grad mode on as the seed runs it:
      the seed has no torch.no_grad), called as the seed calls it with sigmas.numpy(), eps 5e-5;
      time per Langevin step. Also timed under torch.no_grad() (variant "no_grad", for reference).
  W4  seed 001's annealed_langevin_dynamics with 1000 chains (step_size 1e-4, sigmas 5 -> 0.01);
      time per Langevin step.
  W5  785-1024-1024-784 (seed 000's ScoreNet pattern, widened: nn.Linear/nn.SiLU, sigma
      concatenated to x), batch 128 of U[0,1)^784 data, sigmas 1 -> 0.01 (10 levels), trained by
      S.seed000_train_step_fixed (sigma^2 DSM + Adam lr 1e-3).
  W6, W7, W8  W4 (seed 001's sampler and network) with 1, 100 and 10 000 chains.
  W9, W10  W5's network (freshly initialised) sampling 1 and 128 chains: seed 000's sampler loop
      written for a batch (SONG step, eps 5e-5, sigmas 1 -> 0.01, start N(0, I)), under
      torch.no_grad() (it is not a seed's code; a user writing it for images would add that).
  W13, W14  the recipe's training step up to 16 columns (ncsn train's default on 2-D data), written
      here: batch 512 (torch.randperm(5000)[:512] of a Swiss roll), NCSNScoreNetwork(2, [128]*3)
      with s = net/sigma, sigma^2 DSM + Adam; W13 with the stable target (each noised point's
      target the score of the batch's own noised density: softmax of -|x~ - x_j|^2 / 2 sigma^2 over
      torch.cdist in float64, as ncsn.h computes the distances in double), W14 without.
W3, W4 and W6..W8 load the weights that `bench prep` (the C side) saved, so both sides sample with the
same network.

Threads: for each thread count n (each sized by its own warm-up), torch.set_num_threads(n) (intra-op/OpenMP) and
openblas_set_num_threads(n) (OpenBLAS's own pthread pool, which torch.set_num_threads does not
touch). Reps alternate between thread counts. OPENBLAS_CORETYPE (if set by run.py) is read by
OpenBLAS when it loads.

Output: lines "JSON {...}" (times: wall seconds per iteration; cpu: process CPU seconds per
iteration, all threads; vmhwm_kb: peak resident set from /proc/self/status).
"""
import argparse
import ctypes
import json
import math
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "torch"))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:  # pragma: no cover
    sys.stderr.write("bench_torch.py: cannot import %s. On Debian: sudo apt-get install python3-torch "
                     "libopenblas0-pthread (for /usr/bin/python3)\n" % e.name)
    sys.exit(2)

import seed_models as S  # noqa: E402  (the seeds' code, verbatim)
import ncsn_st as st  # noqa: E402  (the project's safetensors reader)


# ---- seed 000 (the article's annealed Langevin sampler), verbatim ----------------------------------------
def annealed_langevin_dynamics(score_net, sigmas, n_steps=100,
                                eps=0.00005, dim=2):
    """Generate samples using Annealed Langevin Dynamics."""
    # Start from random noise
    x = torch.randn(1, dim)

    for sigma in sigmas:
        # Step size for this noise level
        alpha = eps * (sigma / sigmas[-1]) ** 2

        for t in range(n_steps):
            # Predict score at current position and noise level
            sigma_tensor = torch.full((1,), sigma)
            score = score_net(x, sigma_tensor)

            # Langevin update
            noise = torch.randn_like(x)
            x = x + alpha * score + (2 * alpha) ** 0.5 * noise

    return x
# ---- end of the verbatim block ----------------------------------------------------------------


class WideScoreNet(nn.Module):
    """W5: seed 000's ScoreNet with data dimension 784 and two hidden layers of 1024."""
    def __init__(self, dim=784, hidden=1024):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim + 1, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, dim))

    def forward(self, x, sigma):
        return self.net(torch.cat([x, sigma.view(-1, 1)], dim=1))


@torch.no_grad()
def wide_sampler(model, sigmas, n, n_steps, eps=5e-5):
    """W9/W10: seed 000's annealed_langevin_dynamics, for n chains of W5's 784-d network."""
    x = torch.randn(n, 784)
    for sigma in sigmas:
        alpha = eps * (sigma / sigmas[-1]) ** 2
        sigma_tensor = torch.full((n,), float(sigma))
        for t in range(n_steps):
            score = model(x, sigma_tensor)
            noise = torch.randn_like(x)
            x = x + alpha * score + (2 * alpha) ** 0.5 * noise
    return x


SEED001_CHAINS = {"W4": 1000, "W6": 1, "W7": 100, "W8": 10000}
WIDE_CHAINS = {"W9": 1, "W10": 128}


def inpaint_scores(model, guided, weight=4.0, sigma=0.5):
    """W11/W12: the score of 128 chains of W5's network with the upper half of each known, as
    bench.c times it. W11 (guided): s + w (r + sigma^2 J^T r) / sigma^2 with r = mask (known - D(x)),
    D(x) = x + sigma^2 s, written as autograd of 0.5 |r|^2 with respect to x alone (the weights
    need no gradient), whose gradient is -(r + sigma^2 J^T r); W12: the score alone."""
    x = torch.randn(128, 784)
    known = torch.rand(128, 784)
    mask = (torch.arange(784) < 392).float().expand(128, 784)
    sig = torch.full((128,), sigma)
    for p in model.parameters():
        p.requires_grad_(False)

    def one():
        if not guided:
            with torch.no_grad():
                return model(x, sig)
        xr = x.detach().requires_grad_(True)
        s = model(xr, sig)
        r = mask * (known - (xr + sigma * sigma * s))
        g, = torch.autograd.grad(0.5 * (r * r).sum(), xr)
        return s.detach() - (weight / (sigma * sigma)) * g

    def block(k):
        for _ in range(k):
            one()
        return k
    return block


# ---- OpenBLAS control ---------------------------------------------------------------------------
def _openblas():
    """The OpenBLAS library this process loaded (via torch's libblas.so.3), or None."""
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1] if len(line.split()) >= 6 else ""
            if "openblas" in os.path.basename(p):
                paths.add(p)
    for p in sorted(paths):
        try:
            lib = ctypes.CDLL(p)
            lib.openblas_set_num_threads
            return lib, p
        except (OSError, AttributeError):
            continue
    return None, None


def blas_info():
    lib, path = _openblas()
    if lib is None:
        return {"blas": "not OpenBLAS (no libopenblas mapped)", "corename": None, "blas_path": None}
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    return {"blas": lib.openblas_get_config().decode(), "corename": lib.openblas_get_corename().decode(),
            "blas_path": os.path.realpath(path), "openblas_threads": lib.openblas_get_num_threads()}


def set_threads(n):
    torch.set_num_threads(n)
    lib, _ = _openblas()
    if lib is not None:
        lib.openblas_set_num_threads(n)


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def vmhwm_kb():
    """Peak resident set in kB (VmHWM: reset at exec, unlike ru_maxrss, which on Linux also
    remembers the memory of the process that forked this one)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return maxrss_kb()


def emit(d):
    print("JSON " + json.dumps(d), flush=True)


# ---- the workloads -------------------------------------------------------------------------------
def load_into(model, path):
    tensors, _ = st.read(path)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}, strict=True)
    return model


def recipe_step(net, opt, x, sigmas, stable):
    """W13 / W14: one step of the recipe's sigma^2 DSM on s = net/sigma, with or without the stable target."""
    B = x.shape[0]
    sigma = sigmas[torch.randint(0, len(sigmas), (B,))].view(B, 1)
    eps = torch.randn_like(x)
    xt = x + sigma * eps
    target = -eps / sigma
    if stable:
        with torch.no_grad():
            xd, sd = x.double(), sigma.double()
            w = torch.softmax(-torch.cdist(xt.double(), xd).square() / (2 * sd * sd), dim=1)
            target = target + ((w @ xd - xd) / (sd * sd)).float()
    opt.zero_grad()
    s = net(xt, sigma.view(-1)) / sigma
    loss = (sigma.square() * (s - target).square()).mean()
    loss.backward()
    opt.step()


def setup(w, models):
    """Returns block(k) -> iterations run (>= k), and a dict of variants (name -> block)."""
    torch.manual_seed(2019)
    np.random.seed(2019)
    if w == "W1":
        model = S.ScoreNet(hidden_dim=128)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        data = S.generate_data(5000)
        sigmas = S.seed000_sigmas()

        def block(k):
            for _ in range(k):
                S.seed000_train_step_fixed(model, optimizer, data, sigmas, 10)
            return k
        return {"": block}
    if w == "W2":
        samples = S.swiss_roll(5000)
        score_net = S.NCSNScoreNetwork(input_dim=2, hidden_dims=[128, 128, 128])
        ncsn = S.NCSN(score_net, sigma_min=0.01, sigma_max=5.0, n_sigmas=10)

        def block(k):
            for _ in range(k):   # seed 001's loop body
                idx = torch.randperm(len(samples))[:256]
                ncsn.train_step(samples[idx])
            return k
        return {"": block}
    if w in ("W13", "W14"):
        samples = S.swiss_roll(5000)
        net = S.NCSNScoreNetwork(input_dim=2, hidden_dims=[128, 128, 128])
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        sigmas = S.create_noise_schedule(0.01, 5.0, 10)

        def block(k):
            for _ in range(k):
                recipe_step(net, opt, samples[torch.randperm(len(samples))[:512]], sigmas, w == "W13")
            return k
        return {"": block}
    if w == "W3":
        model = S.ScoreNet(hidden_dim=128)
        if models:
            load_into(model, os.path.join(models, "seed000.safetensors"))
        sigmas = S.seed000_sigmas()

        def run(k, grad):
            per = 100 if k >= 1000 else max(1, (k + 9) // 10)
            done = 0
            while done < k:
                if grad:   # as the seed runs it
                    annealed_langevin_dynamics(model, sigmas.numpy(), n_steps=per, eps=5e-5)
                else:
                    with torch.no_grad():
                        annealed_langevin_dynamics(model, sigmas.numpy(), n_steps=per, eps=5e-5)
                done += 10 * per
            return done
        return {"": lambda k: run(k, True), "no_grad": lambda k: run(k, False)}
    if w in SEED001_CHAINS:
        score_net = S.NCSNScoreNetwork(input_dim=2, hidden_dims=[128, 128, 128])
        if models:
            load_into(score_net, os.path.join(models, "seed001.safetensors"))
        sigmas = S.create_noise_schedule(0.01, 5.0, 10)

        def block(k):
            per = max(1, (k + 9) // 10)
            S.annealed_langevin_dynamics(score_net, sigmas, SEED001_CHAINS[w], 2, n_steps_per_sigma=per, step_size=1e-4)
            return 10 * per
        return {"": block}
    if w in WIDE_CHAINS:
        model = WideScoreNet()
        sigmas = torch.tensor([1.0 * (0.01 / 1.0) ** (i / 9) for i in range(10)])

        def block(k):
            per = max(1, (k + 9) // 10)
            wide_sampler(model, sigmas, WIDE_CHAINS[w], per)
            return 10 * per
        return {"": block}
    if w in ("W11", "W12"):
        return {"": inpaint_scores(WideScoreNet(), w == "W11")}
    if w == "W5":
        model = WideScoreNet()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        data = torch.rand(128, 784)
        sigmas = torch.tensor([1.0 * (0.01 / 1.0) ** (i / 9) for i in range(10)])

        def block(k):
            for _ in range(k):
                S.seed000_train_step_fixed(model, optimizer, data, sigmas, 10)
            return k
        return {"": block}
    raise SystemExit("bench_torch.py: unknown workload %s" % w)


def bench(args):
    threads = [int(t) for t in args.threads.split(",")]
    variants = setup(args.workload, args.models)
    rss_setup = vmhwm_kb()
    ks, times, cpus = {}, {}, {}
    for v, block in variants.items():   # per configuration: warm-up, which also sizes its reps
        for n in threads:
            set_threads(n)
            block(1)
            t0, done = time.perf_counter(), 0
            while time.perf_counter() - t0 < 0.3 * args.rep_time or done < 2:
                done += block(1)
            k = max(1, int(math.ceil(args.rep_time / ((time.perf_counter() - t0) / done))))
            if args.workload == "W3" and k > 1000:
                k = (k + 999) // 1000 * 1000
            if args.workload in SEED001_CHAINS or args.workload in WIDE_CHAINS:
                k = (k + 9) // 10 * 10
            ks[(v, n)], times[(v, n)], cpus[(v, n)] = k, [], []
    for _ in range(args.reps):   # timed reps, alternating between the configurations
        for v, block in variants.items():
            for n in threads:
                set_threads(n)
                block(1)   # untimed
                c = time.process_time()
                t = time.perf_counter()
                d = block(ks[(v, n)])
                times[(v, n)].append((time.perf_counter() - t) / d)
                cpus[(v, n)].append((time.process_time() - c) / d)
    info = blas_info()
    for (v, n), ts in times.items():
        emit({"side": "torch", "workload": args.workload, "variant": v, "threads": n, "k": ks[(v, n)], "times": ts, "cpu": cpus[(v, n)],
              "corename": info["corename"]})
    emit({"side": "torch", "workload": args.workload, "vmhwm_kb": vmhwm_kb(), "ru_maxrss_kb": maxrss_kb(), "vmhwm_setup_kb": rss_setup,
          "corename": info["corename"]})


# ---- end to end: the seeds' scripts as written (reduced step counts, scaled back linearly) ------
def e2e000(train_steps, chains):
    """Seed 000's script (lines 263-326): data, sigmas, ScoreNet, Adam, the training loop (2000
    epochs; its loss line fixed, see W1), then 500 chains of its sampler one at a time."""
    data = S.generate_data(5000)
    sigmas = S.seed000_sigmas()
    L = 10
    model = S.ScoreNet(hidden_dim=128)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for epoch in range(train_steps):
        loss = S.seed000_train_step_fixed(model, optimizer, data, sigmas, L)
        if (epoch + 1) % 500 == 0:
            print(f"Epoch {epoch+1}, Loss: {loss.item():.4f}", file=sys.stderr)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    samples = []
    for _ in range(chains):
        s = annealed_langevin_dynamics(model, sigmas.numpy(),
                                       n_steps=100, eps=5e-5)
        samples.append(s.detach().numpy())
    samples = np.concatenate(samples, axis=0)
    t_sample = time.perf_counter() - t0
    return t_train, t_sample


def e2e001(train_steps, steps_per_level):
    """Seed 001's script (section 5.1): Swiss roll, NCSNScoreNetwork, NCSN, 10000 epochs of
    randperm[:256] + train_step, then ncsn.sample(1000, n_steps_per_sigma=100, step_size=1e-4)."""
    samples = S.swiss_roll(5000)
    score_net = S.NCSNScoreNetwork(input_dim=2, hidden_dims=[128, 128, 128])
    ncsn = S.NCSN(score_net, sigma_min=0.01, sigma_max=5.0, n_sigmas=10)
    t0 = time.perf_counter()
    for epoch in range(train_steps):
        idx = torch.randperm(len(samples))[:256]
        metrics = ncsn.train_step(samples[idx])
        if (epoch + 1) % 1000 == 0:
            print(f"Epoch {epoch+1}: Loss = {metrics['loss']:.4f}", file=sys.stderr)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    ncsn.sample(1000, n_steps_per_sigma=steps_per_level, step_size=1e-4)
    t_sample = time.perf_counter() - t0
    return t_train, t_sample


def e2e(args):
    threads = [int(t) for t in args.threads.split(",")]
    for n in threads:
        set_threads(n)
        torch.manual_seed(2019)
        np.random.seed(2019)
        if args.workload == "e2e000":
            full_train, full_sample, red_sample = 2000, 500, args.chains
            tt, ts = e2e000(args.train_steps, args.chains)
        else:
            full_train, full_sample, red_sample = 10000, 100, args.steps_per_level
            tt, ts = e2e001(args.train_steps, args.steps_per_level)
        emit({"side": "torch", "workload": args.workload, "threads": n,
              "train_s": tt, "train_steps": args.train_steps, "train_full_s": tt * full_train / args.train_steps,
              "sample_s": ts, "sample_scale": full_sample / red_sample, "sample_full_s": ts * full_sample / red_sample,
              "corename": blas_info()["corename"]})
    emit({"side": "torch", "workload": args.workload, "vmhwm_kb": vmhwm_kb(), "ru_maxrss_kb": maxrss_kb()})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rep-time", type=float, default=0.15)
    ap.add_argument("--models", default=None)
    ap.add_argument("--train-steps", type=int, default=100)
    ap.add_argument("--chains", type=int, default=10)
    ap.add_argument("--steps-per-level", type=int, default=20)
    args = ap.parse_args()
    if args.workload == "info":
        d = {"side": "torch", "workload": "info", "torch": torch.__version__, "numpy": np.__version__,
             "python": sys.version.split()[0], "torch_default_threads": torch.get_num_threads(),
             "vmhwm_kb": vmhwm_kb(), "ru_maxrss_kb": maxrss_kb()}
        d.update(blas_info())
        emit(d)
    elif args.workload.startswith("e2e"):
        e2e(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
