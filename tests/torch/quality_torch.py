#!/usr/bin/python3
"""quality_torch.py - the seeds' recipes trained and sampled in PyTorch on `make quality`'s data,
measured by the same C tool as ncsn.h's rows (run by `make quality-torch`, docs/quality.md):

    /usr/bin/python3 tests/torch/quality_torch.py --data DIR --out DIR --quality build/default/quality
                     [--ncsn build/default/ncsn]

Reads DIR/two_gaussians.csv and DIR/swiss_roll.csv (written by `quality gen`) and for each:
  seed 000 on the two Gaussians: the document's ScoreNet (128 x 3, sigma concatenated), its 10
      levels 10 -> 0.01, its training-loop body (seed_models.seed000_train_step_fixed: the loss
      erratum fixed) on the full batch for 2000 Adam steps at 1e-3; its sampler: x + a s + sqrt(2a) z,
      a = 5e-5 sigma_i^2 / sigma_L^2, 100 steps per level, from N(0, I);
  seed 001 on the Swiss roll: the document's NCSN class (NCSNScoreNetwork 128 x 3, embedding 64,
      levels 5 -> 0.01, Adam 1e-3), train_step on torch.randperm(n)[:256] for 10 000 steps, and
      NCSN.sample (100 steps per level, step 1e-4, from N(0, sigma_1^2 I)).
These are the recipes `ncsn train --preset seed000|seed001` reproduces. The samples go to
OUT/torch_SET.samples.csv and the network to OUT/torch_SET.model (python/ncsn_st.py), and
`quality eval` prints the table row: the energy distance, floor, mode and score errors are
computed by the same C code as for ncsn.h's samples; a chain is left out (diverged) by ncsn.h's
rule: not finite, or farther from the data's mean than its radius + sigma_1. With --ncsn, each recipe's ncsn.h row comes
first: `ncsn train DATA --preset seed000|seed001`, `ncsn sample` (the preset's sampler), the same
`quality eval`. The last column is torch's training CPU
seconds (this process, all threads). One thread (torch.set_num_threads), seeded by --seed.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import ncsn_st  # noqa: E402
import seed_models as S  # noqa: E402


def load_csv(path):
    return torch.tensor(np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2))


@torch.no_grad()
def seed000_sample(model, sigmas, n, dim, T=100, eps=5e-5):
    """Seed 000's sampler (Song's form, the CLI's --preset seed000 sampler)."""
    x = torch.randn(n, dim)
    for sigma in sigmas:
        a = eps * (sigma / sigmas[-1]) ** 2
        for _ in range(T):
            x = x + a * model(x, sigma.expand(n)) + torch.sqrt(2 * a) * torch.randn_like(x)
    return x


def left_in(data, x, sigma1):
    """ncsn.h's divergence rule for an unstandardised model (the presets): finite and within the
    data's radius (largest distance from its mean) + sigma_1 of the mean; in double here"""
    d = data.double()
    center = d.mean(0)
    bound = (d - center).norm(dim=1).max() + sigma1
    return torch.isfinite(x).all(dim=1) & ((x.double() - center).norm(dim=1) <= bound)


def run_seed000(data, n_samples):
    model = S.ScoreNet(hidden_dim=128)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sigmas = S.seed000_sigmas()
    c0 = time.process_time()
    for _ in range(2000):
        S.seed000_train_step_fixed(model, opt, data, sigmas, len(sigmas))
    cpu = time.process_time() - c0
    return model, sigmas, seed000_sample(model, sigmas, n_samples, data.shape[1]), cpu


def run_seed001(data, n_samples):
    net = S.NCSNScoreNetwork(data.shape[1], hidden_dims=[128, 128, 128], sigma_embed_dim=64)
    ncsn = S.NCSN(net, sigma_min=0.01, sigma_max=5.0, n_sigmas=10, lr=1e-3)
    c0 = time.process_time()
    for _ in range(10000):
        ncsn.train_step(data[torch.randperm(data.shape[0])[:256]])
    cpu = time.process_time() - c0
    return net, ncsn.sigmas, ncsn.sample(n_samples, n_steps_per_sigma=100, step_size=1e-4), cpu


RECIPES = {"two_gaussians": (run_seed000, "seed000"), "swiss_roll": (run_seed001, "seed001")}


def evaluate(a, label, name, data_csv, samples_path, model_path, cpu):
    """quality eval's row for these samples, the data set's name replaced by label in the row and
    in its comments (the score errors per level, and the verdict against make quality's targets,
    which are the defaults' and which the seeds' recipes are not expected to meet)"""
    r = subprocess.run([a.quality, "eval", name, data_csv, samples_path, model_path, str(a.samples), "%.1f" % cpu],
                       stdout=subprocess.PIPE, universal_newlines=True)
    out = r.stdout.replace("| %s |" % name, "| %s |" % label, 1).replace("<!-- %s: " % name, "<!-- %s: " % label)
    sys.stdout.write(out)
    sys.stdout.flush()
    return r.returncode


def run_ncsn(a, name, preset, data_csv):
    """the same recipe with ncsn.h: ncsn train --preset, ncsn sample (the preset's sampler)"""
    model_path = os.path.join(a.out, "ncsn_%s.model" % name)
    samples_path = os.path.join(a.out, "ncsn_%s.samples.csv" % name)
    c0 = os.times()
    subprocess.run([a.ncsn, "train", data_csv, "-o", model_path, "--preset", preset, "-q", "--checkpoint-every", "0",
                    "--threads", "1"], check=True)
    c1 = os.times()
    with open(samples_path, "w") as f:
        rc = subprocess.run([a.ncsn, "sample", model_path, "-n", str(a.samples), "-q", "--threads", "1"], stdout=f).returncode
    if rc not in (0, 3):
        raise RuntimeError("ncsn sample %s: exit %d" % (model_path, rc))
    cpu = c1.children_user + c1.children_system - c0.children_user - c0.children_system
    return evaluate(a, "%s, %s, ncsn.h" % (name, preset), name, data_csv, samples_path, model_path, cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory of quality gen's CSV files")
    ap.add_argument("--out", required=True, help="directory for the samples and models")
    ap.add_argument("--quality", required=True, help="the quality tool (build/default/quality)")
    ap.add_argument("--ncsn", help="the CLI (build/default/ncsn): also the ncsn.h row of each recipe")
    ap.add_argument("--sets", default="two_gaussians,swiss_roll")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    rc = 0
    for name in a.sets.split(","):
        recipe, preset = RECIPES[name]
        data_csv = os.path.join(a.data, name + ".csv")
        if a.ncsn:
            rc |= run_ncsn(a, name, preset, data_csv)
        torch.manual_seed(a.seed)
        model, sigmas, x, cpu = recipe(load_csv(data_csv), a.samples)
        ok = left_in(load_csv(data_csv), x, float(sigmas[0]))
        model_path = os.path.join(a.out, "torch_%s.model" % name)
        samples_path = os.path.join(a.out, "torch_%s.samples.csv" % name)
        ncsn_st.save_model(model_path, model, sigmas)
        np.savetxt(samples_path, x[ok].numpy(), delimiter=",", fmt="%.9g")
        rc |= evaluate(a, "%s, %s, torch" % (name, preset), name, data_csv, samples_path, model_path, cpu)
    return rc


if __name__ == "__main__":
    sys.exit(main())
