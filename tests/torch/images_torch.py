#!/usr/bin/python3
"""images_torch.py - the images run's recipe trained with PyTorch, for `make images-torch`.

    /usr/bin/python3 tests/torch/images_torch.py --data DIR --like C_MODEL --steps N --out TORCH_MODEL

Trains the network of C_MODEL (a model file written by `images train`: its width, depth, ln sigma
concatenated, the preconditioned output with its sigma_data, its noise levels) on the same
training images (the first --n-train of DIR's train-images-idx3-ubyte) with the same recipe:
batch 128 drawn as torch.randperm(n)[:128], a uniform level per image, EDM's unit-weight loss on
F (the target (x - c_skip x~)/c_out), Adam lr 1e-3, EMA 0.999 with the trainer's warm-up
min(0.999, (1 + k)/(10 + k)), PyTorch's default initialisation with the output layer zeroed (as
ncsn_config_default). Writes the EMA weights as TORCH_MODEL (python/ncsn_st.py), which
`images eval` samples with the same sampler and measures with the same classifier as the C
model, and prints the training throughput:
    torch: trained N steps in T s (R images/s, K threads)
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import ncsn_st  # noqa: E402


def idx_images(path, n):
    """The first n images of an IDX3 file as float32 [n, rows * cols] in [0, 1]."""
    with open(path, "rb") as f:
        head = f.read(16)
        if len(head) != 16 or head[:4] != b"\x00\x00\x08\x03":
            raise ValueError("%s: not an IDX3 file of unsigned bytes" % path)
        count, rows, cols = (int.from_bytes(head[k:k + 4], "big") for k in (4, 8, 12))
        if n > count:
            raise ValueError("%s: %d images, %d asked for" % (path, count, n))
        data = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    return torch.from_numpy(data.reshape(n, rows * cols).astype(np.float32) / np.float32(255.0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--like", required=True, help="the C model whose network, sigma_data and levels to use")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--n-train", type=int, default=50000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=15)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    state, sigmas, s = ncsn_st.load_model(a.like, as_numpy=True)
    sd = s["precond_sigma_data"]
    if sd is None or s["cond"] != "concat" or s["sigma_input"] != "log":
        raise SystemExit("images_torch.py: %s is not a preconditioned network on ln sigma, concatenated" % a.like)
    x = idx_images(os.path.join(a.data, "train-images-idx3-ubyte"), a.n_train)
    model = ncsn_st.ScoreNetwork(s)
    with torch.no_grad():
        model.net[-1].weight.zero_()
        model.net[-1].bias.zero_()
    sig = torch.from_numpy(np.asarray(sigmas, dtype=np.float32))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ema = [p.detach().clone() for p in model.parameters()]
    B, L = 128, sig.numel()
    t0 = time.perf_counter()
    for k in range(a.steps):
        xb = x[torch.randperm(x.shape[0])[:B]]
        sg = sig[torch.randint(L, (B,))].unsqueeze(1)
        xt = xb + sg * torch.randn_like(xb)
        v = sg * sg + sd * sd
        c_in, c_skip, c_out = 1 / v.sqrt(), sd * sd / v, sg * sd / v.sqrt()
        F = model.net(torch.cat([c_in * xt, torch.log(sg)], dim=1))
        loss = ((F - (xb - c_skip * xt) / c_out) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        rate = min(0.999, (1.0 + k) / (10.0 + k))
        with torch.no_grad():
            for e, p in zip(ema, model.parameters()):
                e.mul_(rate).add_(p, alpha=1 - rate)
        if (k + 1) % max(1, a.steps // 10) == 0:
            print("  torch step %6d  loss %.4f  %.0f s" % (k + 1, loss.item(), time.perf_counter() - t0), flush=True)
    dt = time.perf_counter() - t0
    print("torch: trained %d steps in %.0f s (%.0f images/s, %d threads)" % (a.steps, dt, a.steps * B / dt, a.threads), flush=True)
    names = [n for n, _ in model.named_parameters()]
    out = {n: e.contiguous() for n, e in zip(names, ema)}
    ncsn_st.save_model(a.out, out, sigmas, s)


if __name__ == "__main__":
    main()
