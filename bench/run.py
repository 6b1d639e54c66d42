#!/usr/bin/python3
"""run.py - `make bench`: ncsn.h (bench/bench.c) against PyTorch (bench/bench_torch.py) and oneDNN
(bench/bench_dnnl.cpp) on the seeds' workloads, side by side in one run, and the draft of
docs/performance.md.

    /usr/bin/python3 bench/run.py --build build/bench [--rounds 2] [--reps 5] [--quick] [--no-e2e]

What it does (each side's workload runs in its own process; the sides alternate, process by
process, and the order flips every round, so that the load of a shared machine falls on all):
  1. peak FP32 FMA throughput of this machine, 1 and 2 threads (bench/peak.c), at the start and
     at the end (the larger value is used: noise only lowers a peak measurement);
  2. `bench prep` once: the networks W3/W4/W6..W8 sample with (every side loads the same file),
     then `bench_dnnl check`: one training step and one score evaluation by oneDNN against
     ncsn.h on the same weights and draws (the relative differences are in the output; a
     difference over its tolerance stops the run);
  3. W1..W14: per round, for 1 and 2 threads, one process each of: ncsn.h built with
     -O3 -march=native (`bench`), the same code built with baseline flags (-O3 alone,
     `bench_base`; bounded by --base-max-seconds, as a build without a fast kernel path can be
     ~50x slower), oneDNN (`bench_dnnl`, not W2), and torch per OpenBLAS core type (see below);
     each process times --reps reps after a warm-up; after round 1, a thread count more than
     --prune (2) times slower than the other one of the same configuration is skipped;
  4. E2E: the seed examples (build/bench/seed00x_*, -O3 -march=native) against the seeds'
     scripts (bench_torch.py e2e00x), with reduced step counts scaled back linearly;
  5. prints the table and writes the docs/performance.md draft (--readme) and all raw numbers
     (--json).

OpenBLAS core type: OpenBLAS 0.3.21 (Debian 12) picks its kernels from the CPUID model; on CPUs
it does not know (new models, or a hypervisor's) it falls back to "Prescott" (SSE3, no FMA), ~4x
slower on large GEMMs here. run.py then also runs torch with OPENBLAS_CORETYPE forced to the
best kernel the CPU supports (SkylakeX for AVX-512, Haswell for AVX2) and compares ncsn.h with
the FASTER torch configuration; the as-installed (auto-detected) torch is reported beside it.

Times: median over all reps of all processes of one configuration; the spread shown is the
interquartile range relative to the median, and the ratio's range over rounds (per-round medians).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# the speed targets the project set itself: torch / ncsn.h per workload, the fraction of the
# 2-core FMA peak, oneDNN / ncsn.h on the training steps, and the baseline-flag build's speed against
# -march=native on every workload
TARGETS = {"W1": 3.0, "W2": 4.0, "W3": 30.0, "W4": 4.0, "W5": 3.0}
PEAK_TARGET = {"W1": 0.60, "W5": 0.60}
ONEDNN_TARGET = {"W1": 1.0, "W5": 1.0}
BASE_TARGET = 0.9
ALL_WORKLOADS = "W1,W2,W3,W4,W5,W6,W7,W8,W9,W10,W11,W12,W13,W14"
# seed 001's and the recipe's training steps (the embedding's backward), the guided score and the
# stable target are not written for oneDNN
NO_ONEDNN = {"W2", "W11", "W12", "W13", "W14"}
DESC = {
    "W1": "W1 seed-000 train step, B=5000, 3-128-128-128-2",
    "W2": "W2 seed-001 train step, B=256, emb 64, 128x3",
    "W3": "W3 seed-000 sampler, 1 chain, per step",
    "W4": "W4 seed-001 sampler, 1000 chains, per step",
    "W5": "W5 wide MLP train step, B=128, 785-1024-1024-784",
    "W6": "W6 seed-001 sampler, 1 chain, per step",
    "W7": "W7 seed-001 sampler, 100 chains, per step",
    "W8": "W8 seed-001 sampler, 10000 chains, per step",
    "W9": "W9 wide MLP sampler, 1 chain, per step",
    "W10": "W10 wide MLP sampler, 128 chains, per step",
    "W11": "W11 wide MLP guided inpainting score, 128 chains, per call",
    "W12": "W12 wide MLP score, 128 chains, per call (W11 without guidance)",
    "W13": "W13 recipe train step, B=512, emb 64, 128x3, stable target",
    "W14": "W14 recipe train step, B=512 (W13 without the stable target)",
}
SHORT = {"W1": "W1 seed-000 training step (B 5000)", "W2": "W2 seed-001 training step (B 256)",
         "W3": "W3 seed-000 sampler, 1 chain (per step)", "W4": "W4 seed-001 sampler, 1000 chains (per step)",
         "W5": "W5 wide MLP training step (B 128, 784-d)",
         "W6": "W6 seed-001 sampler, 1 chain (per step)", "W7": "W7 seed-001 sampler, 100 chains (per step)",
         "W8": "W8 seed-001 sampler, 10 000 chains (per step)", "W9": "W9 wide MLP sampler, 1 chain (per step)",
         "W10": "W10 wide MLP sampler, 128 chains (per step)",
         "W11": "W11 wide MLP guided inpainting score, 128 chains (per call)",
         "W12": "W12 wide MLP score, 128 chains (per call)",
         "W13": "W13 recipe training step with the stable target (B 512)",
         "W14": "W14 recipe training step, plain DSM (B 512)"}


# ---- FLOP counting (the same count for both sides) -----------------------------------------------
def linear_flops(layers, train, dx_cols):
    """layers: [(in, out)] of the Linear layers one sample passes through; dx_cols[i]: how many
    of layer i's inputs need a gradient (0 for a layer fed by data only). Forward 2*in*out per
    layer; backward dW 2*in*out + dX 2*dx_cols*out. Only the matrix products are counted (not
    bias adds, activations, loss, Adam: O(width) or O(params) per sample/step, not O(in*out))."""
    f = sum(2 * i * o for i, o in layers)
    if train:
        f += sum(2 * i * o for i, o in layers) + sum(2 * c * o for c, (i, o) in zip(dx_cols, layers))
    return f


def flops_per_iteration(w):
    concat = [(3, 128), (128, 128), (128, 128), (128, 2)]
    emb = [(64, 64), (64, 64)]
    main = [(66, 128), (128, 128), (128, 128), (128, 2)]
    wide = [(785, 1024), (1024, 1024), (1024, 784)]
    if w == "W1":
        return 5000 * linear_flops(concat, True, [0, 128, 128, 128])
    if w == "W2":   # embedding per sample, as the model is defined (ncsn.h computes it once per level)
        return 256 * linear_flops(emb + main, True, [0, 64, 64, 128, 128, 128])
    if w in ("W13", "W14"):   # the network's products only (the stable target's B^2 D is not a product)
        return 512 * linear_flops(emb + main, True, [0, 64, 64, 128, 128, 128])
    if w == "W3":
        return 1 * linear_flops(concat, False, None)
    seed001_chains = {"W4": 1000, "W6": 1, "W7": 100, "W8": 10000}
    if w in seed001_chains:
        return seed001_chains[w] * linear_flops(emb + main, False, None)
    if w == "W5":
        return 128 * linear_flops(wide, True, [0, 1024, 1024])
    if w in ("W9", "W10", "W12"):
        return (1 if w == "W9" else 128) * linear_flops(wide, False, None)
    if w == "W11":   # forward, then the gradient to every layer's input (no weight gradient)
        return 128 * (linear_flops(wide, False, None) + sum(2 * i * o for i, o in wide))
    raise KeyError(w)


# ---- processes ------------------------------------------------------------------------------------
def run_proc(cmd, env=None, label=""):
    """Runs cmd; returns (JSON records, stdout, wall seconds, ru_maxrss in kB from wait4)."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    out, err = p.communicate()
    # peak RSS: each process reports its own getrusage(RUSAGE_SELF).ru_maxrss in its last JSON line
    wall = time.time() - t0
    out = out.decode(errors="replace")
    if p.returncode != 0:
        sys.stderr.write("run.py: %s failed (exit %d):\n%s\n%s\n" % (label or cmd, p.returncode, out[-2000:], err.decode(errors="replace")[-4000:]))
        raise SystemExit(1)
    recs = [json.loads(l[5:]) for l in out.splitlines() if l.startswith("JSON ")]
    return recs, out, wall


def run_proc_rusage(cmd, env=None, label=""):
    """Like run_proc, for programs that do not report their peak RSS themselves (the examples):
    measured from outside with wait4's ru_maxrss. On Linux ru_maxrss also counts what the forking
    process held before exec, so the program is started through GNU time (a small process) when
    it is installed, else directly (then the number is at least this Python's own RSS)."""
    t0 = time.time()
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    full = ([gnu_time, "-f", "BENCH_MAXRSS_KB %M"] + cmd) if gnu_time else cmd
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.time() - t0
    out = out.decode(errors="replace")
    if p.returncode != 0:
        sys.stderr.write("run.py: %s failed (exit %d):\n%s\n" % (label or cmd, p.returncode, out[-4000:]))
        raise SystemExit(1)
    m = re.search(r"BENCH_MAXRSS_KB (\d+)", out)
    return out, wall, int(m.group(1)) if m else ru.ru_maxrss


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---- machine ---------------------------------------------------------------------------------------
def cpu_info():
    model, flags = "?", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "?":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    lscpu = {}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                lscpu[k.strip()] = v.strip()
    except OSError:
        pass
    return {"model": model, "logical_cpus": os.cpu_count(), "flags": flags,
            "cores_per_socket": lscpu.get("Core(s) per socket"), "sockets": lscpu.get("Socket(s)"),
            "threads_per_core": lscpu.get("Thread(s) per core"), "hypervisor": lscpu.get("Hypervisor vendor"),
            "cpu_family": lscpu.get("CPU family"), "cpu_model": lscpu.get("Model"),
            "l2": lscpu.get("L2 cache"), "l3": lscpu.get("L3 cache")}


def tool_version(cmd):
    try:
        r = subprocess.run(shlex.split(cmd) + ["--version"], capture_output=True, text=True)
        return r.stdout.splitlines()[0].strip() if r.stdout else "?"
    except OSError:
        return "not found"


def cc_real(cc):
    """' (cc -> x86_64-linux-gnu-gcc-12)' when the compiler command is a link."""
    import shutil
    path = shutil.which(shlex.split(cc)[0]) if cc else None
    if not path:
        return ""
    real = os.path.basename(os.path.realpath(path))
    return "" if real == os.path.basename(path) else " (%s -> %s)" % (os.path.basename(path), real)


def dnnl_verbose(out):
    """oneDNN's version, ISA and the implementations it ran, from its verbose lines (ONEDNN_VERBOSE=1)."""
    ver = re.search(r"oneDNN v([\d.]+)", out)
    isa = re.search(r"isa:([^,\n]+)", out)
    impls = sorted({"%s %s %s" % m for m in re.findall(r"exec,cpu,(inner_product|eltwise),([^,]+),(\w+)", out)})
    deb = None
    try:
        deb = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libdnnl-dev"], capture_output=True, text=True).stdout.strip() or None
    except OSError:
        pass
    return {"version": ver.group(1) if ver else "?", "isa": isa.group(1).strip() if isa else "?",
            "impls": ", ".join(impls) or "?", "deb": deb}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def peak(build):
    recs = {}
    out = subprocess.run([os.path.join(build, "peak"), "2", "15"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"PEAK threads=(\d+) gflops=([\d.]+) isa=(.*?) trials=(.*)", line)
        if m:
            recs[int(m.group(1))] = {"gflops": float(m.group(2)), "isa": m.group(3),
                                     "trials": [float(x) for x in m.group(4).split(",")]}
    return recs


# ---- statistics ------------------------------------------------------------------------------------
def quantile(xs, q):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def fmt_time(s):
    if s >= 1.0:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.2f ms" % (s * 1e3)
    return "%.1f us" % (s * 1e6)


def fmt_mb(kb):
    return "%.0f MB" % (kb / 1024.0) if kb >= 10 * 1024 else "%.1f MB" % (kb / 1024.0)


# ---- main --------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5, help="timed reps per thread count per process")
    ap.add_argument("--rep-time", type=float, default=0.15)
    ap.add_argument("--workloads", default=ALL_WORKLOADS)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--coretype", default="auto",
                    help="auto: also force the CPU's best OpenBLAS kernel if detection fell back; none; or a name")
    ap.add_argument("--prune", type=float, default=2.0,
                    help="after round 1, skip configurations this many times slower than their side's best (0: never)")
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help="also profile the ncsn.h side of each workload (perf record, 1 thread) and add the top functions")
    ap.add_argument("--quick", action="store_true", help="1 round, 3 reps, smaller E2E, --base-max-seconds 2")
    ap.add_argument("--base-max-seconds", type=float, default=None,
                    help="bound on the reps of one baseline-flag process (default 5 s, --quick 2 s; each thread count still gets one rep)")
    ap.add_argument("--no-onednn", action="store_true", help="leave oneDNN out (also when build/bench/bench_dnnl is missing)")
    ap.add_argument("--no-base", action="store_true", help="leave the baseline-flag build out")
    ap.add_argument("--torch-python", default=sys.executable)
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--cflags", default="-O3 -march=native")
    ap.add_argument("--base-cflags", default="-O3", help="the flags bench_base was built with (named in the output)")
    ap.add_argument("--readme", default=os.path.join(ROOT, "build", "bench_performance.md"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--command", default="make bench", help="the command named in the draft")
    ap.add_argument("--render", metavar="RESULTS_JSON", help="only re-print the table and rewrite the draft from a saved results.json")
    args = ap.parse_args()
    if args.render:
        with open(args.render) as f:
            R = json.load(f)
        R["peak"] = [{int(k): v for k, v in p.items()} for p in R["peak"]]
        print(render_terminal(R))
        with open(args.readme, "w") as f:
            f.write(render_markdown(R))
        log("bench: docs/performance.md draft in %s" % args.readme)
        return
    if args.quick:
        args.rounds, args.reps = 1, 3
    if args.base_max_seconds is None:
        args.base_max_seconds = 2.0 if args.quick else 5.0
    build = args.build
    js = args.json or os.path.join(build, "results.json")
    workloads = args.workloads.split(",")
    t_start = time.time()
    load_start = loadavg()

    bench_bin = os.path.join(build, "bench")
    base_bin = os.path.join(build, "bench_base")
    dnnl_bin = os.path.join(build, "bench_dnnl")
    use_base = not args.no_base and os.access(base_bin, os.X_OK)
    use_dnnl = not args.no_onednn and os.access(dnnl_bin, os.X_OK)
    if not args.no_onednn and not use_dnnl:
        log("bench: WARNING: %s is missing: no oneDNN column (Debian: sudo apt-get install libdnnl-dev)" % dnnl_bin)
    tpy = [args.torch_python, os.path.join(HERE, "bench_torch.py")]
    cpu = cpu_info()

    # 1. machine, torch, peak
    log("bench: machine: %s, %s logical CPUs, load average %s" % (cpu["model"], cpu["logical_cpus"], load_start))
    info, _, _ = run_proc(tpy + ["info"], label="bench_torch.py info")
    info = info[0]
    try:
        info["deb"] = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "python3-torch"],
                                     capture_output=True, text=True).stdout.strip() or None
    except OSError:
        info["deb"] = None
    log("bench: torch %s, %s (core %s)" % (info["torch"], info["blas"], info["corename"]))
    if info["corename"] is None:
        log("bench: WARNING: torch does not use OpenBLAS here; install libopenblas0-pthread "
            "(sudo apt-get install libopenblas0-pthread) for the configuration the issue asks for")
    peaks = [peak(build)]
    log("bench: peak FP32 FMA %.1f GFLOP/s (1 thread), %.1f GFLOP/s (2 threads), %s"
        % (peaks[0][1]["gflops"], peaks[0].get(2, peaks[0][1])["gflops"], peaks[0][1]["isa"]))

    # OpenBLAS core types to run torch with
    coretypes = [None]
    forced = None
    if args.coretype == "auto":
        weak = info["corename"] in ("Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai",
                                    "Coppermine", "Northwood", "Banias", "Sandybridge")
        if info["corename"] is not None and weak:
            if "avx512f" in cpu["flags"]:
                forced = "SkylakeX"
            elif "avx2" in cpu["flags"] and "fma" in cpu["flags"]:
                forced = "Haswell"
    elif args.coretype not in ("none", ""):
        forced = args.coretype
    if forced:
        coretypes.append(forced)
        log("bench: OpenBLAS detected core %s on a CPU with %s: torch also runs with OPENBLAS_CORETYPE=%s"
            % (info["corename"], "AVX-512" if "avx512f" in cpu["flags"] else "AVX2", forced))

    # 2. models for W3/W4
    models = os.path.join(build, "models")
    if not (os.path.exists(os.path.join(models, "seed000.safetensors")) and
            os.path.exists(os.path.join(models, "seed001.safetensors"))):
        os.makedirs(models, exist_ok=True)
        log("bench: training the sampler networks once (bench prep) ...")
        _, out, _ = run_proc([bench_bin, "prep", models], label="bench prep")
        log("bench: " + out.strip())
    checks, dnnl_info = [], {}
    if use_dnnl:   # oneDNN against ncsn.h on the same weights: its times mean nothing if this fails
        env = dict(os.environ, DNNL_VERBOSE="1", ONEDNN_VERBOSE="1")   # oneDNN names its version, ISA and kernels
        checks, out, _ = run_proc([dnnl_bin, "check", "--threads", "1", "--models", models], env=env, label="bench_dnnl check")
        dnnl_info = dnnl_verbose(out)
        log("bench: oneDNN %s, %s; kernels: %s" % (dnnl_info["version"], dnnl_info["isa"], dnnl_info["impls"]))
        log("bench: oneDNN check against ncsn.h (relative difference): " +
            "; ".join("%s %s %.2g" % (c["check"], c["what"], c["rel"]) for c in checks))
        bad = [c for c in checks if not c["ok"]]
        if bad:
            sys.stderr.write("run.py: oneDNN disagrees with ncsn.h: %s\n" % bad)
            raise SystemExit(1)

    # 3. the workloads, interleaved: one process per (side, configuration, thread count). torch gets its
    # thread count from the environment too (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS), as a user
    # would set it: switching thread counts inside one torch process leaves OpenMP workers
    # spinning into the next measurement.
    base = ["--reps", str(args.reps), "--rep-time", str(args.rep_time), "--models", models]
    thread_list = [int(t) for t in args.threads.split(",")]
    raw = []   # dicts with config, workload, variant, threads, round, times, cpu
    mem = {}   # (config, workload) -> [peak RSS kB, ...]
    mem_setup = {}
    nonfinite = {}
    sides = [("ncsn", None)] + ([("base", None)] if use_base else []) + ([("onednn", None)] if use_dnnl else [])
    configs = [(side, core, th) for th in thread_list for side, core in sides + [("torch", c) for c in coretypes]]
    simd = {}   # config -> the kernel path the ncsn.h build reports (ncsn_simd_name)
    pruned = []
    n_done = 0
    for rnd in range(args.rounds):
        for w in workloads:
            order = configs if rnd % 2 == 0 else list(reversed(configs))
            for side, core, th in order:
                cfg = "torch:" + (core or "auto") if side == "torch" else side
                if (cfg, w, th) in pruned or (side == "onednn" and w in NO_ONEDNN):
                    continue
                env = dict(os.environ)
                for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                    env.pop(k, None)
                if side in ("torch", "onednn"):
                    env["OMP_NUM_THREADS"] = str(th)
                if side == "torch":
                    env["OPENBLAS_NUM_THREADS"] = str(th)
                    if core:
                        env["OPENBLAS_CORETYPE"] = core
                prog = {"ncsn": [bench_bin], "base": [base_bin], "onednn": [dnnl_bin], "torch": tpy}[side]
                cmd = prog + [w, "--threads", str(th)] + base
                if side == "base":
                    cmd += ["--max-seconds", str(args.base_max_seconds)]
                recs, _, wall = run_proc(cmd, env=env, label="%s %s" % (cfg, w))
                n_done += 1
                for r in recs:
                    if "times" in r:
                        raw.append({"config": cfg, "workload": w, "variant": r.get("variant", ""),
                                    "threads": r["threads"], "round": rnd, "k": r["k"], "times": r["times"],
                                    "cpu": r.get("cpu", []), "corename": r.get("corename")})
                    elif "vmhwm_kb" in r:
                        mem.setdefault((cfg, w), []).append(r["vmhwm_kb"])
                        if "simd" in r:
                            simd[cfg] = r["simd"]
                        if "vmhwm_setup_kb" in r:
                            mem_setup.setdefault((cfg, w), []).append(r["vmhwm_setup_kb"])
                        if r.get("nonfinite_chains"):
                            key = "%s %s" % (w, cfg)
                            nonfinite[key] = nonfinite.get(key, 0) + r["nonfinite_chains"]
                log("bench: round %d %-3s %-15s %d thread(s) %5.1f s" % (rnd + 1, w, cfg, th, wall))
        if rnd == 0 and args.rounds > 1 and args.prune > 0:
            # a thread count more than --prune times slower in round 1 than the best thread count
            # of the same configuration (ncsn.h; torch with a given OpenBLAS core type) cannot be
            # that configuration's best; later rounds skip it (listed in the output)
            for w in workloads:
                for cfg0 in {r["config"] for r in raw if r["workload"] == w}:
                    med = {}
                    for r in raw:
                        if r["workload"] == w and r["config"] == cfg0 and r["variant"] == "":
                            med.setdefault((r["config"], r["threads"]), []).extend(r["times"])
                    if not med:
                        continue
                    best = min(statistics.median(v) for v in med.values())
                    for (cfg, th), v in med.items():
                        if statistics.median(v) > args.prune * best:
                            pruned.append((cfg, w, th))
            if pruned:
                log("bench: after round 1, skipping (more than %gx slower than the other thread count): %s"
                    % (args.prune, ", ".join("%s %s@%d" % (w, c, t) for c, w, t in pruned)))

    # 4. E2E
    e2e = {}
    if not args.no_e2e:
        e2e = run_e2e(args, build, tpy, raw, coretypes, workloads)

    profile = run_profile(bench_bin, workloads, models, build) if args.profile else {}

    peaks.append(peak(build))
    peak1 = max(p[1]["gflops"] for p in peaks)
    peak2_measured = max(p.get(2, p[1])["gflops"] for p in peaks)
    # the 2-core peak: the measured 2-thread best, or twice the 1-thread best if larger (on a
    # shared machine the second core is often busy; the larger denominator is the cautious one)
    peak2 = max(peak2_measured, 2 * peak1)
    load_end = loadavg()

    # 5. summarise
    rows = []
    for w in workloads:
        rows.append(summarise(w, raw, mem, mem_setup, peak2, coretypes, args.rounds))
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {k: v for k, v in cpu.items() if k != "flags"},
        "avx512": "avx512f" in cpu["flags"], "load_start": load_start, "load_end": load_end,
        "cc": tool_version(args.cc) + cc_real(args.cc), "cflags": args.cflags, "torch": info, "coretypes": coretypes,
        "peak": peaks, "peak1": peak1, "peak2": peak2, "peak2_measured": peak2_measured, "rows": rows, "e2e": e2e, "raw": raw,
        "mem": {"%s|%s" % k: v for k, v in mem.items()}, "nonfinite": nonfinite,
        "elapsed_s": time.time() - t_start, "command": args.command, "base_cflags": args.base_cflags,
        "simd": simd, "checks": checks, "base_max_seconds": args.base_max_seconds,
        "dnnl_version": dnnl_info.get("version"), "dnnl_isa": dnnl_info.get("isa"), "dnnl_impls": dnnl_info.get("impls"),
        "rounds": args.rounds, "reps": args.reps, "pruned": pruned, "profile": profile,
    }
    os.makedirs(os.path.dirname(js), exist_ok=True)
    with open(js, "w") as f:
        json.dump(result, f, indent=1)
    text = render_terminal(result)
    print(text)
    md = render_markdown(result)
    os.makedirs(os.path.dirname(args.readme), exist_ok=True)
    with open(args.readme, "w") as f:
        f.write(md)
    log("bench: %.0f s in all; raw numbers in %s, docs/performance.md draft in %s" % (time.time() - t_start, js, args.readme))


def summarise(w, raw, mem, mem_setup, peak2, coretypes, rounds):
    fl = flops_per_iteration(w)

    def times_of(cfg, th, variant=""):
        return [t for r in raw if r["config"] == cfg and r["workload"] == w and r["threads"] == th
                and r["variant"] == variant for t in r["times"]]

    def round_median(cfg, th, rnd, variant=""):
        ts = [t for r in raw if r["config"] == cfg and r["workload"] == w and r["threads"] == th
              and r["variant"] == variant and r["round"] == rnd for t in r["times"]]
        return statistics.median(ts) if ts else None

    def cpu_of(cfg, th, variant=""):
        return [t for r in raw if r["config"] == cfg and r["workload"] == w and r["threads"] == th
                and r["variant"] == variant for t in r["cpu"]]

    threads = sorted({r["threads"] for r in raw if r["workload"] == w})
    per = {}   # (cfg, th) -> stats
    for cfg in ["ncsn", "base", "onednn"] + ["torch:" + (c or "auto") for c in coretypes]:
        for th in threads:
            ts = times_of(cfg, th)
            if ts:
                med = statistics.median(ts)
                cs = cpu_of(cfg, th)
                per[(cfg, th)] = {"median": med, "p25": quantile(ts, 0.25), "p75": quantile(ts, 0.75),
                                  "min": min(ts), "max": max(ts), "n": len(ts),
                                  "cpu_median": statistics.median(cs) if cs else None}

    def best(pred):   # the fastest (config, threads) among those pred accepts, or None
        ks = [k for k in per if pred(k[0])]
        return min(ks, key=lambda k: per[k]["median"]) if ks else None

    def entry(k):
        return {"config": k[0], "threads": k[1], **per[k]}

    best_n = best(lambda c: c == "ncsn")
    best_t = best(lambda c: c.startswith("torch:"))
    auto_t = best(lambda c: c == "torch:auto")
    best_b, best_d = best(lambda c: c == "base"), best(lambda c: c == "onednn")
    tn, tt = per[best_n]["median"], per[best_t]["median"]
    ratios = []
    for rnd in range(rounds):
        a, b = round_median(best_t[0], best_t[1], rnd), round_median(best_n[0], best_n[1], rnd)
        if a and b:
            ratios.append(a / b)
    row = {
        "workload": w, "flops": fl,
        "ncsn": entry(best_n), "torch": entry(best_t), "torch_auto": entry(auto_t),
        "all": {"%s@%d" % k: v for k, v in per.items()},
        "ratio": tt / tn, "ratio_rounds": ratios, "ratio_auto": per[auto_t]["median"] / tn,
        "gflops_ncsn": fl / tn / 1e9, "gflops_torch": fl / tt / 1e9,
        "peak_frac_ncsn": fl / tn / 1e9 / peak2, "peak_frac_torch": fl / tt / 1e9 / peak2,
        "mem_ncsn_kb": max(mem.get(("ncsn", w), [0])), "mem_torch_kb": max(mem.get((best_t[0], w), [0])),
        "mem_torch_setup_kb": max(mem_setup.get((best_t[0], w), [0])),
        "target": TARGETS.get(w), "peak_target": PEAK_TARGET.get(w), "onednn_target": ONEDNN_TARGET.get(w),
    }
    if best_d:   # oneDNN / ncsn.h: above 1, ncsn.h is faster
        row["onednn"] = entry(best_d)
        row["ratio_onednn"] = per[best_d]["median"] / tn
        row["gflops_onednn"] = fl / per[best_d]["median"] / 1e9
        row["mem_onednn_kb"] = max(mem.get(("onednn", w), [0]))
        if row["onednn_target"]:
            row["onednn_met"] = row["ratio_onednn"] >= row["onednn_target"]
    if best_b:   # the baseline-flag build's speed relative to -march=native: 1 = as fast
        row["base"] = entry(best_b)
        row["base_speed"] = tn / per[best_b]["median"]
        row["base_met"] = row["base_speed"] >= BASE_TARGET
    if w == "W3":
        ng_stats = {}
        for cfg in ["torch:" + (c or "auto") for c in coretypes]:
            for th in threads:
                ts = times_of(cfg, th, "no_grad")
                if ts:
                    ng_stats[(cfg, th)] = statistics.median(ts)
        if ng_stats:
            k = min(ng_stats, key=ng_stats.get)
            row["torch_no_grad"] = {"config": k[0], "threads": k[1], "median": ng_stats[k]}
            row["ratio_no_grad"] = ng_stats[k] / tn
    # cross-check less sensitive to the machine's load: CPU time per iteration, 1 thread each side
    t1 = [k for k in per if k[0].startswith("torch:") and k[1] == 1 and per[k]["cpu_median"]]
    if ("ncsn", 1) in per and per[("ncsn", 1)]["cpu_median"] and t1:
        kt = min(t1, key=lambda k: per[k]["cpu_median"])
        row["ratio_cpu_1t"] = per[kt]["cpu_median"] / per[("ncsn", 1)]["cpu_median"]
        row["cpu_1t"] = {"torch": per[kt]["cpu_median"], "torch_config": kt[0], "ncsn": per[("ncsn", 1)]["cpu_median"]}
        if ("onednn", 1) in per and per[("onednn", 1)]["cpu_median"]:
            row["ratio_onednn_cpu_1t"] = per[("onednn", 1)]["cpu_median"] / per[("ncsn", 1)]["cpu_median"]
    row["met"] = row["target"] is not None and row["ratio"] >= row["target"]
    if row["peak_target"]:
        row["peak_met"] = row["peak_frac_ncsn"] >= row["peak_target"]
    return row


def run_profile(bench_bin, workloads, models, build):
    """perf record (cpu-clock sampling works without a hardware PMU, e.g. in a VM) of the ncsn.h
    side of each workload at 1 thread; returns workload -> [(percent, symbol), ...]."""
    res = {}
    for w in workloads:
        data = os.path.join(build, "perf_%s.data" % w)
        for f in (data, data + ".old"):   # perf would keep the previous file as .old
            if os.path.exists(f):
                os.remove(f)
        r = subprocess.run(["perf", "record", "-q", "-F", "2000", "-o", data, bench_bin, w, "--threads", "1",
                            "--reps", "5", "--models", models], capture_output=True, text=True, cwd=ROOT)
        if r.returncode != 0:
            log("bench: perf record failed (%s); no profile" % (r.stderr.strip().splitlines() or ["?"])[-1])
            return {}
        rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", "sym"],
                             capture_output=True, text=True, cwd=ROOT).stdout
        top = []
        for line in rep.splitlines():
            m = re.match(r"\s+([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
            if m and len(top) < 8:
                top.append((float(m.group(1)), m.group(2).replace(".part.0", "").replace(".constprop.0", "")))
        res[w] = top
        log("bench: profile %s: %s" % (w, ", ".join("%s %.0f%%" % (n, p) for p, n in top[:5])))
    return res


def run_e2e(args, build, tpy, raw, coretypes, workloads):
    """The seed examples (C) against the seeds' scripts (torch), reduced and scaled back."""
    res = {}
    q = args.quick
    plan = {
        # name: (example, C train steps, full train, torch train steps, torch sampling arg)
        "e2e000": ("seed000_two_gaussians", 100 if q else 200, 2000, 50 if q else 100, ["--chains", "5" if q else "10"]),
        "e2e001": ("seed001_swiss_roll", 500 if q else 1000, 10000, 500 if q else 1000, ["--steps-per-level", "10" if q else "20"]),
    }
    # each side's configuration for E2E: the one that won the matching training workload (W1 for
    # seed 000, W2 for seed 001): torch's OpenBLAS core type and thread count, ncsn.h's thread count
    def best(w, side):
        acc = {}
        for r in raw:
            if r["workload"] == w and r["config"].startswith(side) and r["variant"] == "":
                acc.setdefault((r["config"], r["threads"]), []).extend(r["times"])
        if not acc:
            return None, int(args.threads.split(",")[0])
        cfg, th = min(acc, key=lambda k: statistics.median(acc[k]))
        core = cfg.split(":", 1)[1] if ":" in cfg else None
        return (None if core == "auto" else core), th
    for name, (ex, c_steps, full, t_steps, t_extra) in plan.items():
        wl = "W1" if name == "e2e000" else "W2"
        core, t_threads = best(wl, "torch")
        _, c_threads = best(wl, "ncsn")
        exe = os.path.join(build, ex)
        c_runs = []
        for th in [c_threads]:
            env = dict(os.environ)
            env["NCSN_THREADS"] = str(th)
            out, wall, rss = run_proc_rusage([exe, str(c_steps)], env=env, label=ex)
            m = re.search(r"time: training ([\d.]+) s \(([\d.]+) ms/step\)", out)
            if name == "e2e000":
                s = re.search(r"eps 5e-05.*?sampling ([\d.]+) s", out, re.S)
            else:
                s = re.search(r"sampling ([\d.]+) s", out)
            if not m or not s:
                sys.stderr.write("run.py: cannot parse the output of %s:\n%s\n" % (ex, out))
                raise SystemExit(1)
            train_full = float(m.group(2)) * 1e-3 * full
            c_runs.append({"threads": th, "train_steps": c_steps, "train_full_s": train_full,
                           "sample_full_s": float(s.group(1)), "total_s": train_full + float(s.group(1)),
                           "maxrss_kb": rss, "wall_s": wall})
            log("bench: E2E %s ncsn.h %d thread(s): %.1f s" % (name, th, wall))
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(t_threads)
        if core:
            env["OPENBLAS_CORETYPE"] = core
        recs, _, wall = run_proc(tpy + [name, "--threads", str(t_threads), "--train-steps", str(t_steps)] + t_extra,
                                 env=env, label="torch " + name)
        log("bench: E2E %s torch (core %s, %d thread(s)): %.1f s" % (name, core or "auto", t_threads, wall))
        t_runs = [r for r in recs if "train_s" in r]
        t_mem = [r["vmhwm_kb"] for r in recs if "vmhwm_kb" in r]
        for r in t_runs:
            r["total_s"] = r["train_full_s"] + r["sample_full_s"]
        bc = min(c_runs, key=lambda r: r["total_s"])
        bt = min(t_runs, key=lambda r: r["total_s"])
        res[name] = {"ncsn": c_runs, "torch": t_runs, "torch_core": core or "auto", "best_ncsn": bc, "best_torch": bt,
                     "ratio": bt["total_s"] / bc["total_s"], "mem_ncsn_kb": max(r["maxrss_kb"] for r in c_runs),
                     "mem_torch_kb": max(t_mem) if t_mem else 0,
                     "c_train_steps": c_steps, "t_train_steps": t_steps, "full_train_steps": full,
                     "t_sample_arg": t_extra}
    return res


# ---- output -----------------------------------------------------------------------------------------
def spread(s):
    return "%.0f%%" % (100.0 * (s["p75"] - s["p25"]) / (2 * s["median"]))


def cfg_name(c):
    if not c["config"].startswith("torch:"):
        return "%dt" % c["threads"]
    core = c["config"].split(":", 1)[1]
    return "%dt,%s" % (c["threads"], {"auto": "auto", "SkylakeX": "skx", "Haswell": "hsw"}.get(core, core))


def render_terminal(R):
    L = []
    L.append("")
    L.append("ncsn.h vs PyTorch %s (%s)%s on %s, %s logical CPUs; peak FP32 FMA %.1f GFLOP/s (1 thread), %.1f (2 threads); "
             "2-core peak used: %.1f" % (R["torch"]["torch"], R["torch"]["blas"].split(" NO_")[0],
                                         " and oneDNN %s" % R["dnnl_version"] if R.get("dnnl_version") else "",
                                         R["machine"]["model"], R["machine"]["logical_cpus"], R["peak1"], R["peak2_measured"], R["peak2"]))
    L.append("times: median of %d rounds x %d reps per configuration (+-: half the interquartile range); best of 1 and 2 threads each side"
             % (R["rounds"], R["reps"]))
    L.append("ncsn.h: `%s` (kernels %s); baseline: the same code built `%s` (kernels %s), its reps bounded to %g s per process"
             % (R["cflags"], R.get("simd", {}).get("ncsn", "?"), R.get("base_cflags", "?"), R.get("simd", {}).get("base", "?"), R.get("base_max_seconds", 0)))
    hdr = "%-48s %-22s %-22s %-20s %7s %-11s %7s %-6s %8s %-6s %-22s %8s %-6s %12s %6s %6s %10s %7s %7s" % (
        "workload", "torch (cfg)", "oneDNN (cfg)", "ncsn.h (cfg)", "torch/c", "(rounds)", "target", "", "oneDNN/c", "",
        "baseline (cfg)", "base spd", "", "cpu-1t", "GF/s t", "GF/s c", "%peak c(t)", "RSS t", "RSS c")
    L.append(hdr)
    L.append("-" * len(hdr))

    def met(ok):
        return "" if ok is None else "MET" if ok else "MISSED"
    for r in R["rows"]:
        rr = r["ratio_rounds"]
        rng = "(%.1f-%.1f)" % (min(rr), max(rr)) if len(rr) > 1 else ""
        d, b = r.get("onednn"), r.get("base")
        L.append("%-48s %-22s %-22s %-20s %6.2fx %-11s %7s %-6s %8s %-6s %-22s %8s %-6s %12s %6.1f %6.1f %10s %7s %7s" % (
            DESC[r["workload"]],
            "%s +-%s %s" % (fmt_time(r["torch"]["median"]), spread(r["torch"]), cfg_name(r["torch"])),
            "%s +-%s %s" % (fmt_time(d["median"]), spread(d), cfg_name(d)) if d else "-",
            "%s +-%s %s" % (fmt_time(r["ncsn"]["median"]), spread(r["ncsn"]), cfg_name(r["ncsn"])),
            r["ratio"], rng, ">=%gx" % r["target"] if r["target"] else "", met(r["met"] if r["target"] else None),
            "%.2fx" % r["ratio_onednn"] if d else "-", met(r.get("onednn_met")),
            "%s +-%s %s" % (fmt_time(b["median"]), spread(b), cfg_name(b)) if b else "-",
            "%.3fx" % r["base_speed"] if b else "-", met(r.get("base_met")),
            ("%.2fx" % r["ratio_cpu_1t"] if "ratio_cpu_1t" in r else "-") +
            ("/%.2fx" % r["ratio_onednn_cpu_1t"] if "ratio_onednn_cpu_1t" in r else ""),
            r["gflops_torch"], r["gflops_ncsn"], "%.0f%% (%.0f%%)" % (100 * r["peak_frac_ncsn"], 100 * r["peak_frac_torch"]),
            fmt_mb(r["mem_torch_kb"]), fmt_mb(r["mem_ncsn_kb"])))
    L.append("torch/c, oneDNN/c: time of torch, of oneDNN, over ncsn.h's (above 1: ncsn.h faster; targets: TARGETS in bench/run.py); "
             "base spd: ncsn.h -march=native time over the baseline build's (1: as fast; target >= %g)" % BASE_TARGET)
    if R.get("checks"):
        L.append("oneDNN against ncsn.h, same weights and draws (relative difference): " +
                 "; ".join("%s %s %.2g" % (c["check"], c["what"], c["rel"]) for c in R["checks"]))
    L.append("cpu-1t: the ratio of CPU time per iteration at 1 thread each side, torch/ncsn.h and oneDNN/ncsn.h (other processes on the machine disturb it less than wall time)")
    for r in R["rows"]:
        if r.get("peak_target"):
            L.append("  %s: ncsn.h at %.0f%% of the 2-core FMA peak (%.1f of %.1f GFLOP/s), target >= %.0f%%: %s"
                     % (r["workload"], 100 * r["peak_frac_ncsn"], r["gflops_ncsn"], R["peak2"], 100 * r["peak_target"],
                        "MET" if r["peak_met"] else "MISSED"))
    L.append("")
    L.append("torch as installed (OpenBLAS core auto-detected: %s), best of 1/2 threads, and the ratio against it:" % R["torch"]["corename"])
    for r in R["rows"]:
        extra = ""
        if r["workload"] == "W3" and "torch_no_grad" in r:
            extra = ";  W3 torch under torch.no_grad() (not how the seed runs it): %s -> ratio %.1fx" % (
                fmt_time(r["torch_no_grad"]["median"]), r["ratio_no_grad"])
        L.append("  %s: %s (%s) -> ratio %.2fx%s" % (r["workload"], fmt_time(r["torch_auto"]["median"]), cfg_name(r["torch_auto"]),
                                                     r["ratio_auto"], extra))
    L.append("every configuration (wall median +- IQR/2; cpu/wall = process CPU time over wall time, 1.0 = one busy core):")
    for r in R["rows"]:
        L.append("  %s: %s" % (r["workload"], ";  ".join(
            "%s %s +-%s (cpu/wall %.2f)" % (k, fmt_time(v["median"]), spread(v), (v["cpu_median"] or 0) / v["median"])
            for k, v in sorted(r["all"].items()))))
    if R.get("pruned"):
        L.append("skipped after round 1 (more than 2x slower than the other thread count of the same configuration; their numbers are round 1's): " +
                 ", ".join("%s %s@%d" % (w, c, t) for c, w, t in R["pruned"]))
    L.append("FLOPs per iteration (matrix products only, per the model definition, same count both sides): " +
             ", ".join("%s %.4g" % (r["workload"], r["flops"]) for r in R["rows"]))
    if R["nonfinite"]:
        L.append("non-finite chains (sampling continues, as the seeds'): %s" % R["nonfinite"])
    if R["e2e"]:
        L.append("")
        L.append("E2E: the examples (ncsn.h) against the seeds' scripts (torch), full-size times extrapolated linearly from reduced runs")
        for name, e in R["e2e"].items():
            bc, bt = e["best_ncsn"], e["best_torch"]
            L.append("  %s: torch %.1f s (train %.1f + sample %.1f, %dt, core %s)  ncsn.h %.1f s (train %.1f + sample %.1f, %dt)  ratio %.1fx  RSS %s / %s"
                     % (name, bt["total_s"], bt["train_full_s"], bt["sample_full_s"], bt["threads"], e["torch_core"],
                        bc["total_s"], bc["train_full_s"], bc["sample_full_s"], bc["threads"], e["ratio"],
                        fmt_mb(e["mem_torch_kb"]), fmt_mb(e["mem_ncsn_kb"])))
    L.append("load average at start %s, at end %s; %.0f s" % (R["load_start"], R["load_end"], R["elapsed_s"]))
    return "\n".join(L)


def render_markdown(R):
    m = R["machine"]
    tor = R["torch"]
    L = []
    L.append("## Measurements")
    L.append("")
    L.append("`%s` runs ncsn.h, PyTorch and oneDNN on the seeds' own workloads in one invocation, each side's "
             "workload in its own process, alternating, and prints this table (numbers below: %s)." % (R["command"], R["date"][:10]))
    L.append("PyTorch runs the seeds' code itself (`tests/torch/seed_models.py`); ncsn.h runs what the examples run, "
             "built twice from the same source: with `%s` (kernels: %s) and with the baseline flags `%s` (no `-m` "
             "options; kernels: %s); oneDNN runs the same networks by its primitives (`bench/bench_dnnl.cpp`). "
             "Times are medians over %d rounds × %d reps (± is half the interquartile range); each side is "
             "shown at its best of 1 and 2 threads. Ratios are times over ncsn.h's `-march=native` time (above 1×: "
             "ncsn.h is faster); the baseline column's ratio is the baseline build's speed relative to "
             "`-march=native` (1× = as fast)." % (
                 R["cflags"], R.get("simd", {}).get("ncsn", "?"), R.get("base_cflags", "?"), R.get("simd", {}).get("base", "?"), R["rounds"], R["reps"]))
    L.append("")
    L.append("| workload | torch | oneDNN | ncsn.h | torch ÷ ncsn.h (target) | oneDNN ÷ ncsn.h (target) | "
             "ncsn.h, baseline flags: time, speed vs native (target ≥ %g×) | ratio by CPU time, 1 thread: torch (oneDNN) | "
             "%% of 2-core peak, ncsn.h (torch) | peak RSS, ncsn.h (torch) |" % BASE_TARGET)
    L.append("|---|---|---|---|---|---|---|---|---|---|")

    def verdict(ok):
        return "met" if ok else "**missed**"
    for r in R["rows"]:
        pk = "%.0f%% (%.0f%%)" % (100 * r["peak_frac_ncsn"], 100 * r["peak_frac_torch"])
        if r.get("peak_target"):
            pk += " — target %.0f%%: %s" % (100 * r["peak_target"], verdict(r["peak_met"]))
        rr = r["ratio_rounds"]
        rng = "rounds %.1f–%.1f" % (min(rr), max(rr)) if len(rr) > 1 else ""
        tgt = "≥ %g×: %s" % (r["target"], verdict(r["met"])) if r["target"] else ""
        d, b = r.get("onednn"), r.get("base")
        dn = "—"
        if d:
            dn = "**%.2f×**" % r["ratio_onednn"]
            if r.get("onednn_target"):
                dn += " (≥ %g×: %s)" % (r["onednn_target"], verdict(r["onednn_met"]))
        cpu1 = "%.2f×" % r["ratio_cpu_1t"] if "ratio_cpu_1t" in r else "—"
        if "ratio_onednn_cpu_1t" in r:
            cpu1 += " (%.2f×)" % r["ratio_onednn_cpu_1t"]
        L.append("| %s | %s ±%s | %s | %s ±%s | **%.2f×**%s | %s | %s | %s | %s | %s (%s) |" % (
            SHORT[r["workload"]], fmt_time(r["torch"]["median"]), spread(r["torch"]),
            "%s ±%s" % (fmt_time(d["median"]), spread(d)) if d else "—",
            fmt_time(r["ncsn"]["median"]), spread(r["ncsn"]), r["ratio"],
            " (%s)" % "; ".join(x for x in (rng, tgt) if x) if rng or tgt else "", dn,
            "%s, **%.3f×** (%s)" % (fmt_time(b["median"]), r["base_speed"], verdict(r["base_met"])) if b else "—",
            cpu1, pk, fmt_mb(r["mem_ncsn_kb"]), fmt_mb(r["mem_torch_kb"])))
    for name, e in R["e2e"].items():
        bc, bt = e["best_ncsn"], e["best_torch"]
        label = ("E2E seed 000: 2000 steps + 500 samples" if name == "e2e000" else "E2E seed 001: 10000 steps + 1000 samples")
        L.append("| %s | %.1f s | — | %.1f s | **%.1f×** | — | — | — | — | %s (%s) |" % (
            label, bt["total_s"], bc["total_s"], e["ratio"], fmt_mb(e["mem_ncsn_kb"]), fmt_mb(e["mem_torch_kb"])))
    L.append("")
    L.append("How it was measured:")
    L.append("")
    L.append("- **Threads.** ncsn.h: `ncsn_model_set_threads(m, 1 or 2)`; the better is shown (%s). torch: "
             "`OMP_NUM_THREADS=n OPENBLAS_NUM_THREADS=n`, `torch.set_num_threads(n)` and `openblas_set_num_threads(n)` "
             "(OpenBLAS's own pthread pool ignores `torch.set_num_threads`); the better is shown (%s). oneDNN: "
             "`OMP_NUM_THREADS=n` and `omp_set_num_threads(n)` before its primitives are made (%s). Each thread "
             "count runs in its own process. On this 2-CPU machine, shared with other jobs, torch at 2 threads was "
             "often slower than at 1 (its OpenMP and OpenBLAS pools both spin-wait for a second CPU that may be busy)." % (
                 ", ".join("%s %dt" % (r["workload"], r["ncsn"]["threads"]) for r in R["rows"]),
                 ", ".join("%s %dt" % (r["workload"], r["torch"]["threads"]) for r in R["rows"]),
                 ", ".join("%s %dt" % (r["workload"], r["onednn"]["threads"]) for r in R["rows"] if "onednn" in r) or "not run"))
    if any("base" in r for r in R["rows"]):
        L.append("- **Baseline flags** (`%s`): what a host project that does not pass `-march` compiles; the column "
                 "measures whatever kernel path the header then takes (`ncsn --version` and `ncsn_simd_name()` name it: "
                 "here %s). A process's reps stop after %g s (each thread count still gets one rep; a rep is then "
                 "one iteration), so a slow path costs the run a bounded time; reps per configuration here: %s." % (
                     R.get("base_cflags", "?"), R.get("simd", {}).get("base", "?"), R.get("base_max_seconds", 0),
                     ", ".join("%s %d" % (r["workload"], r["base"]["n"]) for r in R["rows"] if "base" in r)))
    if any("onednn" in r for r in R["rows"]):
        L.append("- **oneDNN %s** (Debian `libdnnl-dev`, f32, %s; `bench/bench_dnnl.cpp`) runs the same networks on the "
                 "same weights, data and noise draws as ncsn.h: training (W1, W5) as inner product with bias + eltwise "
                 "swish (α = 1: SiLU) forward, `inner_product_backward_weights` (dW, db), `inner_product_backward_data` "
                 "(dX) and swish's `eltwise_backward`, the loss and Adam in plain loops (Adam under `omp parallel for`); "
                 "sampling (W3, W4, W6–W10) as `forward_inference` inner products with a fused swish post-op, weights "
                 "reordered once to oneDNN's preferred layout, the σ conditioning folded into the first layer's bias "
                 "once per level (as ncsn.h does), and the Langevin update in a loop. Training keeps swish unfused and "
                 "the weights in PyTorch's plain layout: swish's backward needs its input, which a post-op does not "
                 "keep, and Adam updates the weights in place (oneDNN picks its `gemm:jit` inner product then; its "
                 "blocked `brgemm` one was not faster for these training shapes here). W2 (seed 001's training step, "
                 "with the embedding's backward) is not written for oneDNN. Checked against ncsn.h before timing "
                 "(same weights and draws; relative 2-norm differences): %s." % (
                     R.get("dnnl_version") or "?", R.get("dnnl_isa") or "?",
                     "; ".join("%s %s %.1e" % (c["check"], c["what"], c["rel"]) for c in R.get("checks", []))))
    L.append("- **W6–W8** are W4 (seed 001's sampler and network) with 1, 100 and 10 000 chains; **W9/W10** sample "
             "1 and 128 chains with W5's 784-d network (freshly initialised: seed 000's sampler step, ε 5·10⁻⁵, "
             "σ 1 → 0.01; torch runs seed 000's loop for a batch under `torch.no_grad()`). Per Langevin step: the "
             "network's score of every chain, the noise, the update.")
    if len(R["coretypes"]) > 1:
        L.append("- **OpenBLAS kernels.** OpenBLAS %s does not recognise this CPU (CPUID family %s model %s under %s) "
                 "and falls back to its `%s` kernels (SSE3, no FMA). The table compares against torch with "
                 "`OPENBLAS_CORETYPE=%s` (the AVX-512 kernels the CPU can run) whenever that is faster, "
                 "i.e. against the faster torch. As installed (auto-detected kernels) torch takes: %s." % (
                     tor["blas"].split()[1], m["cpu_family"], m["cpu_model"], m["hypervisor"] or "no hypervisor",
                     tor["corename"], R["coretypes"][1],
                     "; ".join("%s %s (ratio %.2f×)" % (r["workload"], fmt_time(r["torch_auto"]["median"]), r["ratio_auto"])
                               for r in R["rows"])))
    w3 = [r for r in R["rows"] if r["workload"] == "W3"]
    if w3 and "torch_no_grad" in w3[0]:
        L.append("- **W3** runs seed 000's `annealed_langevin_dynamics` verbatim: one chain at a time, with autograd "
                 "recording (the seed has no `torch.no_grad()`). Under `torch.no_grad()` torch takes %s per step "
                 "(ratio %.1f×)." % (fmt_time(w3[0]["torch_no_grad"]["median"]), w3[0]["ratio_no_grad"]))
    L.append("- **W3/W4/W6–W8 weights**: every side samples with the same briefly trained networks (`bench prep` "
             "saves them as safetensors; torch loads them with `load_state_dict(strict=True)`, oneDNN through ncsn.h).")
    L.append("- **W1/E2E seed 000**: the seed's loss line crashes torch at batch 5000 (see the errata); torch runs "
             "it with the fixed line `(sigma ** 2 * (pred - target) ** 2).mean()`, as `tests/torch/parity.py` does.")
    L.append("- **W5** is seed 000's `ScoreNet` widened to image-sized data: 784-d input plus σ (785) → 1024 → "
             "1024 → 784, SiLU, batch 128 of U[0,1)^784, σ 1 → 0.01 (10 levels), σ²-weighted DSM + Adam.")
    L.append("- **FLOPs** (for GFLOP/s and %% of peak) count the matrix products of the model as defined, the same "
             "for both sides: forward 2·in·out per `Linear` per sample; backward 2·in·out for dW plus 2·in·out for "
             "dX, except where the input needs no gradient (the data inputs of a first layer, the sinusoid). Bias, "
             "activations, loss and Adam are not counted. ncsn.h computes the σ embedding once per level rather "
             "than per sample, so for W2/W4 its count is \"effective\" FLOPs. Per iteration: %s." % (
                 ", ".join("%s %.3g" % (r["workload"], r["flops"]) for r in R["rows"])))
    if all(r["ncsn"]["threads"] == 1 for r in R["rows"] if r.get("peak_target")):
        L.append("- ncsn.h was fastest at 1 thread in %s here, so against one core's peak its fractions are twice "
                 "those in the table." % ", ".join(r["workload"] for r in R["rows"] if r.get("peak_target")))
    L.append("- **Peak** FP32 FMA throughput: `bench/peak.c`, %d independent FMA chains of %s per thread; best of "
             "15 trials, measured at the start and the end: %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on 2 threads. "
             "The 2-core peak used above is %.1f GFLOP/s: the larger of the 2-thread measurement and twice the "
             "1-thread one (the second core of a shared machine is often busy)." % (
                 24, R["peak"][0][1]["isa"], R["peak1"], R["peak2_measured"], R["peak2"]))
    L.append("- **Memory**: peak resident set (VmHWM, /proc/self/status) of the process that ran the workload, "
             "read by the process itself at its end (not `ru_maxrss` as seen by the parent: on Linux that also "
             "counts what the forking Python held before exec); for the E2E examples, GNU time's %%M. A torch "
             "process holds %s after `import torch` alone." % fmt_mb(tor["vmhwm_kb"]))
    if R["e2e"]:
        e0, e1 = R["e2e"].get("e2e000"), R["e2e"].get("e2e001")
        parts = []
        if e0:
            parts.append("seed 000: ncsn.h trained %d of 2000 steps, torch %d, both scaled ×%g/×%g; the example samples "
                         "500 chains in one batch (full size), the seed's script samples one chain at a time "
                         "(torch ran %s chains, scaled to 500)" % (e0["c_train_steps"], e0["t_train_steps"],
                                                                   2000 / e0["c_train_steps"], 2000 / e0["t_train_steps"],
                                                                   e0["t_sample_arg"][1]))
        if e1:
            parts.append("seed 001: ncsn.h trained %d of 10000 steps, torch %d, scaled linearly; the example samples "
                         "at full size, torch ran %s Langevin steps per level of 100, scaled ×%g" % (
                             e1["c_train_steps"], e1["t_train_steps"], e1["t_sample_arg"][1], 100 / int(e1["t_sample_arg"][1])))
        L.append("- **E2E**: training loop + sampling as the example / the seed's script does it (no process start, "
                 "no imports, no diagnostics), each side in the configuration that won its training workload (%s); "
                 % "; ".join("%s: ncsn.h %dt, torch %dt, OpenBLAS core %s" % (n, e["best_ncsn"]["threads"], e["best_torch"]["threads"],
                                                                            e["torch_core"]) for n, e in R["e2e"].items())
                 + "; ".join(parts) + ".")
    L.append("- **Ratio by CPU time, 1 thread**: process CPU time per iteration with 1 thread on each side. "
             "A single-threaded process that waits for a CPU (other jobs on the machine) loses wall time but not "
             "CPU time, so where the two ratios differ, the machine's load fell unevenly on the two sides and the "
             "CPU-time ratio is the better estimate of the 1-thread speed ratio.")
    ranged = ", ".join("%s %.1f–%.1f×" % (r["workload"], min(r["ratio_rounds"]), max(r["ratio_rounds"]))
                       for r in R["rows"] if len(r["ratio_rounds"]) > 1)
    L.append("- The machine was shared while this ran (load average %s at the start, %s at the end)%s." % (
        R["load_start"], R["load_end"], "; the rounds' torch ÷ ncsn.h ratios ranged: " + ranged if ranged else ""))
    if R.get("profile"):
        L.append("")
        L.append("Where ncsn.h spends its time (`perf record`, 1 thread, share of samples; each kernel is named with "
                 "its path, `ncsn__avx512_gemm_block` ...: `gemm_block` is "
                 "the Y += X·W register tile (forward, and dX in backward) and `gemm_acc` its blocking and panel "
                 "packing, `gemm_tn_block` the dW += Xᵀ·dY tile and `gemm_tn_acc` its packing, `act_*` "
                 "SiLU, `adam` Adam, `ncsn__normals_loop_fma` the normals; self time of `ncsn__linear_bwd` is mostly the "
                 "transposed copy of each W):")
        L.append("")
        L.append("| workload | top functions |")
        L.append("|---|---|")
        for w, top in R["profile"].items():
            L.append("| %s | %s |" % (w, ", ".join("`%s` %.0f%%" % (n, p) for p, n in top[:6])))
    L.append("")
    L.append("Machine: %s (%s, family %s model %s), %s logical CPUs (%s core(s) per socket × %s socket(s), %s thread(s) "
             "per core), L2 %s, L3 %s%s. Compiler: %s, `%s`. PyTorch %s (Debian python3-torch %s, Python %s, numpy %s) "
             "with %s. %s." % (
                 m["model"], "AVX-512" if R["avx512"] else "no AVX-512", m["cpu_family"], m["cpu_model"], m["logical_cpus"],
                 m["cores_per_socket"], m["sockets"], m["threads_per_core"], m["l2"], m["l3"],
                 ", virtual machine (%s)" % m["hypervisor"] if m["hypervisor"] else "", R["cc"], R["cflags"], tor["torch"],
                 tor.get("deb") or "?",
                 tor["python"], tor["numpy"], tor["blas"], platform.platform()))
    if R.get("dnnl_version"):
        L[-1] += " oneDNN %s (OpenMP runtime; ISA: %s; kernels run: %s)." % (R["dnnl_version"], R["dnnl_isa"], R["dnnl_impls"])
    L.append("")
    L.append("Command: `%s` (%.0f s)." % (R["command"], R["elapsed_s"]))
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    main()
