"""wiener_skip.py - a measurement, not a test: does a per-direction skip fix wide, low-rank tables?

ncsn.h's preconditioned output (Karras et al. 2022) is D(x~) = c_skip x~ + c_out F(c_in x~, sigma)
with one sigma_data for every direction. On a table whose variance sits in a few principal
directions, F must cancel the skip in all the others, a map of high rank that a 256-wide MLP cannot
carry (docs/training.md, "Not yet good: a wide table"). This script trains the same kind of network
in torch two ways on a CSV's columns, standardised as `ncsn train` does:

  edm     the library's form: c_skip = 1/(1 + sigma^2), c_out = sigma/sqrt(1 + sigma^2)
  wiener  the linear part is the Wiener filter of the data's covariance C = V diag(lam) V^T:
          D_lin = mu + V diag(lam/(lam + sigma^2)) V^T (x~ - mu), and c_out is that filter's RMS
          error, sqrt(mean(lam sigma^2/(lam + sigma^2))), so F learns only what is not Gaussian

then samples with the library's recipe above 16 columns (annealed Langevin, the mean of two draws
per step, 10 steps per level, eps = 0.1 sigma_L^2, a final denoising step) and writes the samples
in the data's units. Compare them with `ncsn compare DATA SAMPLES`.

  python3 tests/torch/wiener_skip.py DATA.csv edm|wiener STEPS OUT.csv [HEADER_LINES]
"""
import math
import sys

import numpy as np
import torch


def levels(z, sigma_min=0.1):
    """sigma_1 from the largest distance to a sweep of points, a geometric ladder to sigma_min"""
    n, d = z.shape
    step = max(1, n // 200)
    smax = max(np.linalg.norm(z[i] - z, axis=1).max() for i in range(0, n, step))
    ratio = 1.137 if d > 100 else 1.25
    count = int(math.ceil(math.log(smax / sigma_min) / math.log(ratio))) + 1
    return smax, torch.tensor(np.geomspace(smax, sigma_min, count), dtype=torch.float32)


class Denoiser:
    def __init__(self, z, mode):
        self.mode = mode
        d = z.shape[1]
        lam, vec = np.linalg.eigh(np.cov(z.T, bias=True))
        self.mu = torch.tensor(z.mean(0), dtype=torch.float32)
        self.vec = torch.tensor(vec, dtype=torch.float32)
        self.lam = torch.tensor(np.maximum(lam, 1e-8), dtype=torch.float32)
        width = 256
        self.net = torch.nn.Sequential(
            torch.nn.Linear(d + 1, width), torch.nn.SiLU(), torch.nn.Linear(width, width), torch.nn.SiLU(),
            torch.nn.Linear(width, width), torch.nn.SiLU(), torch.nn.Linear(width, d))

    def parts(self, xt, s):
        """the linear part, c_out and c_in at noise levels s [B, 1]"""
        c_in = 1.0 / (s ** 2 + 1.0).sqrt()
        if self.mode == "edm":
            return xt / (s ** 2 + 1.0), s * c_in, c_in
        shrink = self.lam / (self.lam + s ** 2)
        lin = self.mu + (((xt - self.mu) @ self.vec) * shrink) @ self.vec.T
        c_out = (self.lam * s ** 2 / (self.lam + s ** 2)).mean(1, keepdim=True).sqrt()
        return lin, c_out, c_in

    def f(self, xt, s, c_in):
        return self.net(torch.cat([c_in * xt, s.log()], 1))

    def __call__(self, xt, s):
        lin, c_out, c_in = self.parts(xt, s)
        return lin + c_out * self.f(xt, s, c_in)


def train(model, z, sigmas, steps, batch=512, lr=1e-3, ema_rate=0.999):
    data = torch.tensor(z, dtype=torch.float32)
    opt = torch.optim.Adam(model.net.parameters(), lr)
    ema = [p.detach().clone() for p in model.net.parameters()]
    for it in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * (1.0 - 0.99 * it / steps)   # falling to 1/100, as ncsn train's rate
        x = data[torch.randint(0, len(data), (batch,))]
        s = sigmas[torch.randint(0, len(sigmas), (batch,))][:, None]
        xt = x + s * torch.randn_like(x)
        lin, c_out, c_in = model.parts(xt, s)
        loss = ((model.f(xt, s, c_in) - (x - lin) / c_out) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema, model.net.parameters()):
                e.mul_(ema_rate).add_(p, alpha=1.0 - ema_rate)
        if it % 5000 == 0:
            print("step %d loss %.4f" % (it, loss.item()), flush=True)
    with torch.no_grad():
        for e, p in zip(ema, model.net.parameters()):
            p.copy_(e)


@torch.no_grad()
def sample(model, sigmas, n, dim, steps_per_level=10):
    eps = 0.1 * sigmas[-1] ** 2
    x = torch.randn(n, dim) * sigmas[0]
    prev = torch.randn(n, dim)
    for sigma in sigmas:
        a = eps * sigma ** 2 / sigmas[-1] ** 2
        s = torch.full((n, 1), float(sigma))
        for _ in range(steps_per_level):
            score = (model(x, s) - x) / sigma ** 2
            z = torch.randn(n, dim)
            x = x + a * score + (2 * a).sqrt() * (z + prev) / 2
            prev = z
    return model(x, torch.full((n, 1), float(sigmas[-1])))


def main():
    path, mode, steps, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    header = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = np.loadtxt(path, delimiter=",", skiprows=header)
    loc, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    z = (x - loc) / scale
    smax, sigmas = levels(z)
    model = Denoiser(z, mode)
    train(model, z, sigmas, steps)
    zs = sample(model, sigmas, 1000, z.shape[1]).numpy()
    radius = np.linalg.norm(z - z.mean(0), axis=1).max()
    kept = np.isfinite(zs).all(1) & (np.linalg.norm(zs - z.mean(0), axis=1) < radius + smax)
    print("diverged %d of %d" % ((~kept).sum(), len(zs)))
    np.savetxt(out, zs[kept] * scale + loc, delimiter=",", fmt="%.9g")


if __name__ == "__main__":
    main()
