#!/usr/bin/env python3
"""The debiased Sinkhorn divergence, sliced W2 and MMD² of `meanfield bench metrics` side by side with
POT and GeomLoss on the same points (issue 19 item 5; figures in benchmarks/RESULTS.md).

    python3 benchmarks/metrics_vs_pot_geomloss.py --binary .build/release/meanfield \
        --sizes 1000,2000,5000,10000,20000 --dimension 16 --repeats 3

Needs numpy, safetensors, torch, pot and geomloss (a virtual environment: pip install numpy
safetensors "torch==2.13.0+cpu" pot geomloss). One process per size for MeanField; POT and GeomLoss run
in this process, all in float64 on the same thread count (--threads).

What is compared, for x ~ N(0, I_p) (n points) and y ~ N(0.25, 1.2² I_p) (n points):
- Sinkhorn: S_ε = OT_ε(x, y) − ½ OT_ε(x, x) − ½ OT_ε(y, y) with the cost |x − y|² and
  OT_ε = min ⟨C, π⟩ + ε KL(π | a⊗b) (docs/theory.md §1.5). ε defaults to 10% of 2p
  (E|x − x'|² = 2p for the first cloud), where the plans spread over several neighbours; at 1% they
  are nearly permutations in 16 dimensions and the cross problem's Sinkhorn iterations converge
  slowly for every solver (--epsilon).
  * POT: `ot.sinkhorn(..., method="sinkhorn_log")` on the stored cost matrix, OT_ε from the dual
    potentials (f = ε(log u − log a), g = ε(log v − log b), OT_ε = ⟨a, f⟩ + ⟨b, g⟩), iterated to an
    L2 marginal error of 1e-5/√n (≥ MeanField's L1 tolerance 1e-5). This is the reference value.
  * GeomLoss: `SamplesLoss("sinkhorn", p=2, blur=√(ε/2), debias=True, backend="tensorized")`;
    its cost is |x − y|²/2 with ε_G = blur², so S_ε = 2 × its value. GeomLoss runs a fixed ε-scaling
    schedule (no convergence test), so its value is off by an amount set by `scaling`: both 0.5 (its
    default) and 0.9 are timed.
  * MeanField: `meanfield bench metrics` (streaming soft-min, ε-scaling 0.5, then iterations at ε
    until the L1 marginal error is ≤ 1e-5).
- Sliced W2 over the same 128 unit directions (written into the file for MeanField, passed to
  `ot.sliced_wasserstein_distance(..., projections=...)`): the two must agree to rounding.
- MMD² (biased, Gaussian kernel exp(−|x − y|²/2h²), h = √p): against GeomLoss's
  `SamplesLoss("gaussian", blur=h)`, which computes the same V-statistic (times ½).

Sizes whose stored n×n float64 matrices would not fit in half of the available memory are skipped for
POT and GeomLoss (and said so); POT is also skipped above --pot-max-n (its plain log-domain iterations take about a minute per call at
n = 1,000 and three at n = 2,000 here), GeomLoss at scaling 0.9 above --geomloss-fine-max-n.
"""
import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def available_bytes():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30


def timed(function, repeats, warm_up=False):
    """(value of the last call, [min, median, max] seconds), after one untimed call if `warm_up`."""
    seconds = []
    value = function() if warm_up else None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    return value, [seconds[0], seconds[len(seconds) // 2], seconds[-1]]


def pot_entropic_ot(ot, x, y, epsilon, tolerance):
    a = np.full(len(x), 1 / len(x))
    b = np.full(len(y), 1 / len(y))
    cost = ot.dist(x, y)  # squared Euclidean
    _, log = ot.sinkhorn(a, b, cost, epsilon, method="sinkhorn_log", numItermax=100_000,
                         stopThr=tolerance, log=True, warn=False)
    f = epsilon * (log["log_u"] - np.log(a))
    g = epsilon * (log["log_v"] - np.log(b))
    return float(a @ f + b @ g), int(log["niter"])


def streaming_check(args):
    """MeanField's peak memory on clouds whose cost matrix could not be stored (n = 10⁵, p = 64: 80 GB)."""
    from safetensors.numpy import save_file
    n, p = (int(v) for v in args.streaming_check.lower().split("x"))
    rng = np.random.default_rng(n)
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as folder:
        path = os.path.join(folder, "clouds.safetensors")
        save_file({"x": rng.standard_normal((n, p)), "y": rng.standard_normal((n, p)) * 1.2 + 0.25}, path)
        epsilon = args.epsilon if args.epsilon is not None else 0.2 * p
        command = [args.binary, "bench", "metrics", "--clouds", path, "--metrics", "sinkhorn", "--epsilon", repr(epsilon),
                   "--max-iterations", "1", "--repeats", "1", "--threads", str(args.threads), "--json"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed: {done.stderr.strip()}")
        ours = json.loads(done.stdout)
    sinkhorn = ours["sinkhorn"]
    # Soft-min passes: per problem one diameter pass, then per iteration 2 (cross) or 1 (symmetric),
    # plus the symmetric problems' final pass.
    passes = 3 + 2 * sinkhorn["iterations"][0] + sinkhorn["iterations"][1] + sinkhorn["iterations"][2] + 2
    seconds = sinkhorn["seconds"][1]
    print(f"CPU: {cpu_model()}; threads {args.threads}; n = {n}, p = {p}, ε = {epsilon:g}: "
          f"peak resident memory {ours['peak_rss_mb']:.0f} MiB (the cost matrix alone would be {n * n * 8 / 2**30:.0f} GiB); "
          f"{seconds:.1f} s for {passes} passes over the {n}×{n} pairs ({seconds / passes:.1f} s per pass, "
          f"{seconds / passes / (n * n) * 1e9 * args.threads:.2f} ns per pair per thread)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/meanfield")
    parser.add_argument("--sizes", default="1000,2000,5000,10000,20000")
    parser.add_argument("--dimension", type=int, default=16)
    parser.add_argument("--epsilon", type=float, default=None, help="default: 0.1 · 2p")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--pot-max-n", type=int, default=1000)
    parser.add_argument("--geomloss-fine-max-n", type=int, default=5000, help="largest n for GeomLoss at scaling 0.9")
    parser.add_argument("--metrics", default="sinkhorn,sliced,mmd")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--streaming-check", metavar="NxP",
                        help="instead: MeanField's Sinkhorn alone on N points in P dimensions with 1 iteration per "
                             "problem (the memory check: peak resident memory and seconds per soft-min pass)")
    args = parser.parse_args()
    if args.streaming_check:
        streaming_check(args)
        return

    import torch
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)
    import ot
    import geomloss
    from safetensors.numpy import save_file

    p = args.dimension
    epsilon = args.epsilon if args.epsilon is not None else 0.2 * p
    metrics = args.metrics.split(",")
    print(f"CPU: {cpu_model()}; threads {args.threads}; POT {ot.__version__}, GeomLoss {geomloss.__version__}, "
          f"torch {torch.__version__}, NumPy {np.__version__}; p = {p}, ε = {epsilon:g}; "
          f"min / median / max of {args.repeats} in seconds", flush=True)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        rng = np.random.default_rng(n)
        x = rng.standard_normal((n, p))
        y = rng.standard_normal((n, p)) * 1.2 + 0.25
        directions = rng.standard_normal((128, p))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        stored_fits = 4 * n * n * 8 <= available_bytes() / 2
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "clouds.safetensors")
            save_file({"x": x, "y": y, "directions": directions}, path)
            command = [args.binary, "bench", "metrics", "--clouds", path, "--metrics", args.metrics,
                       "--epsilon", repr(epsilon), "--bandwidth", repr(math.sqrt(p)), "--repeats", str(args.repeats),
                       "--threads", str(args.threads), "--json"]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{' '.join(command)} failed: {done.stderr.strip()}")
            ours = json.loads(done.stdout)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        if "sinkhorn" in metrics:
            row = {"metric": "sinkhorn", "n": n, "p": p, "epsilon": epsilon,
                   "meanfield": {"value": ours["sinkhorn"]["value"], "seconds": ours["sinkhorn"]["seconds"],
                                 "iterations": ours["sinkhorn"]["iterations"], "peak_rss_mb": ours["peak_rss_mb"]}}
            if n <= args.pot_max_n and stored_fits:
                tolerance = 1e-5 / math.sqrt(n)

                def pot():
                    xy, i1 = pot_entropic_ot(ot, x, y, epsilon, tolerance)
                    xx, i2 = pot_entropic_ot(ot, x, x, epsilon, tolerance)
                    yy, i3 = pot_entropic_ot(ot, y, y, epsilon, tolerance)
                    return xy - xx / 2 - yy / 2, [i1, i2, i3]
                (value, iterations), seconds = timed(pot, args.repeats)
                row["pot"] = {"value": value, "seconds": seconds, "iterations": iterations}
            else:
                row["pot"] = {"skipped": "n > --pot-max-n" if stored_fits else "stored matrices exceed half the memory"}
            for scaling in (0.5, 0.9):
                key = f"geomloss_{scaling}"
                if scaling == 0.9 and n > args.geomloss_fine_max_n:
                    row[key] = {"skipped": "n > --geomloss-fine-max-n"}
                elif stored_fits:
                    loss = geomloss.SamplesLoss("sinkhorn", p=2, blur=math.sqrt(epsilon / 2), scaling=scaling,
                                                debias=True, backend="tensorized")
                    value, seconds = timed(lambda: 2 * loss(tx, ty).item(), args.repeats, warm_up=True)
                    row[key] = {"value": value, "seconds": seconds}
                else:
                    row[key] = {"skipped": "stored matrices exceed half the memory"}
            reference = row["pot"].get("value", row["meanfield"]["value"])
            row["reference"] = "pot" if "value" in row["pot"] else "meanfield"
            for key in ("meanfield", "pot", "geomloss_0.5", "geomloss_0.9"):
                if "value" in row[key]:
                    row[key]["relative_to_reference"] = abs(row[key]["value"] - reference) / abs(reference)
            rows.append(row)
            cells = []
            for key in ("meanfield", "pot", "geomloss_0.5", "geomloss_0.9"):
                if "seconds" in row[key]:
                    s = row[key]["seconds"]
                    cells.append(f"{key} {s[0]:.3f}/{s[1]:.3f}/{s[2]:.3f} s (off {row[key]['relative_to_reference']:.1e})")
                else:
                    cells.append(f"{key} skipped ({row[key]['skipped']})")
            print(f"sinkhorn n = {n}: S = {reference:.10g}; " + "; ".join(cells)
                  + f"; meanfield peak RSS {ours['peak_rss_mb']:.0f} MiB", flush=True)
        if "sliced" in metrics:
            value, seconds = timed(lambda: float(ot.sliced_wasserstein_distance(x, y, projections=directions.T, p=2)),
                                   args.repeats)
            row = {"metric": "sliced", "n": n, "p": p,
                   "meanfield": {"value": ours["sliced"]["value"], "seconds": ours["sliced"]["seconds"]},
                   "pot": {"value": value, "seconds": seconds}}
            row["meanfield"]["relative_to_reference"] = abs(ours["sliced"]["value"] - value) / value
            rows.append(row)
            s, t = row["meanfield"]["seconds"], seconds
            print(f"sliced W2 n = {n}: {value:.12g}; meanfield {s[0]:.4f}/{s[1]:.4f}/{s[2]:.4f} s "
                  f"(off {row['meanfield']['relative_to_reference']:.1e}); pot {t[0]:.4f}/{t[1]:.4f}/{t[2]:.4f} s", flush=True)
        if "mmd" in metrics:
            row = {"metric": "mmd", "n": n, "p": p, "bandwidth": math.sqrt(p),
                   "meanfield": {"value": ours["mmd"]["value"], "seconds": ours["mmd"]["seconds"]}}
            if stored_fits:
                loss = geomloss.SamplesLoss("gaussian", blur=math.sqrt(p), backend="tensorized")
                value, seconds = timed(lambda: 2 * loss(tx, ty).item(), args.repeats, warm_up=True)
                row["geomloss"] = {"value": value, "seconds": seconds}
                row["meanfield"]["relative_to_reference"] = abs(ours["mmd"]["value"] - value) / value
            else:
                row["geomloss"] = {"skipped": "stored matrices exceed half the memory"}
            rows.append(row)
            s = row["meanfield"]["seconds"]
            other = row["geomloss"]
            tail = (f"geomloss {other['seconds'][0]:.4f}/{other['seconds'][1]:.4f}/{other['seconds'][2]:.4f} s "
                    f"(meanfield off {row['meanfield']['relative_to_reference']:.1e})") if "seconds" in other else "geomloss skipped"
            print(f"MMD² n = {n}: {ours['mmd']['value']:.12g}; meanfield {s[0]:.4f}/{s[1]:.4f}/{s[2]:.4f} s; {tail}", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cpu": cpu_model(), "threads": args.threads, "rows": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
