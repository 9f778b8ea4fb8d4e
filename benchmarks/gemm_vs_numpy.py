#!/usr/bin/env python3
"""Side-by-side FP32 GEMM throughput: `meanfield bench gemm --json` (Swift kernel and OpenBLAS backends)
against NumPy's matmul (NumPy bundles its own OpenBLAS), on the same sizes and thread counts, in one run.

Each NumPy measurement runs in a fresh subprocess whose environment fixes the thread count
(OPENBLAS_NUM_THREADS / OMP_NUM_THREADS), so no threadpoolctl is needed. The "best" figures run with
OPENBLAS_CORETYPE unset (OpenBLAS picks the kernels for this CPU); the "Haswell" ones force
OPENBLAS_CORETYPE=Haswell (AVX2 kernels), as some machines' environments do.

Usage:  python3 benchmarks/gemm_vs_numpy.py [--sizes 128,256,512,1024,2048] [--threads 1,2]
                                            [--repeats 5] [--binary PATH] [--json-out FILE] [--no-haswell]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NUMPY_WORKER = r"""
import json, sys, time
import numpy as np
shapes, repeats, minimum = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(0)
out = []
for shape in shapes:
    m, n, k, batch = shape["m"], shape["n"], shape["k"], shape["batch"]
    lead = () if batch == 1 else (batch,)
    a = rng.standard_normal(lead + (m, k), dtype=np.float32)
    if shape.get("transposeB", False):  # B stored n x k and used transposed (the scores Q.K^T)
        b = np.swapaxes(rng.standard_normal(lead + (n, k), dtype=np.float32), -1, -2)
    else:
        b = rng.standard_normal(lead + (k, n), dtype=np.float32)
    c = np.matmul(a, b)
    start = time.perf_counter(); np.matmul(a, b, out=c); once = max(time.perf_counter() - start, 1e-9)
    iterations = max(1, int(minimum / once + 0.999))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            np.matmul(a, b, out=c)
        samples.append((time.perf_counter() - start) / iterations)
    rates = sorted(2.0 * m * n * k * batch / s / 1e9 for s in samples)
    out.append({"name": shape["name"], "min": rates[0], "median": rates[len(rates) // 2], "max": rates[-1]})
core = "unknown"
try:
    from numpy._core import _multiarray_umath  # noqa
    import ctypes, glob, os
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "scipy_openblas*", "lib", "libscipy_openblas*.so*"))
    libs += glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "libscipy_openblas*.so*"))
    for lib in libs:
        handle = ctypes.CDLL(lib)
        for prefix in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_", "openblas_get_corename"):
            if hasattr(handle, prefix):
                getattr(handle, prefix).restype = ctypes.c_char_p
                core = getattr(handle, prefix)().decode(); break
        if core != "unknown":
            break
except Exception:
    pass
print(json.dumps({"numpy": np.__version__, "core": core, "results": out}))
"""


def environment(threads, coretype):
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["OMP_NUM_THREADS"] = str(threads)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def run_numpy(shapes, threads, repeats, coretype):
    result = subprocess.run([sys.executable, "-c", NUMPY_WORKER, json.dumps(shapes), str(repeats), "0.05"],
                            env=environment(threads, coretype), capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def run_meanfield(binary, sizes, threads, repeats, backends, coretype):
    command = [binary, "bench", "gemm", "--json", "--sizes", sizes, "--threads", threads,
               "--repeats", str(repeats), "--backends", backends]
    env = environment(1, coretype)
    env.pop("OPENBLAS_NUM_THREADS"); env.pop("OMP_NUM_THREADS")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def find_binary(explicit):
    if explicit:
        return explicit
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    binary = os.path.join(bin_path, "meanfield")
    print(f"building {binary} (swift build -c release --product meanfield)...", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--product", "meanfield"], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    return binary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="128,256,512,1024,2048")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--binary", help="meanfield executable (default: build the release one)")
    parser.add_argument("--json-out", help="also write every raw figure to this JSON file")
    parser.add_argument("--no-haswell", action="store_true", help="skip the OPENBLAS_CORETYPE=Haswell runs")
    args = parser.parse_args()

    binary = find_binary(args.binary)
    started = time.time()
    best = run_meanfield(binary, args.sizes, args.threads, args.repeats, "swift,blas,auto", None)
    haswell = None if args.no_haswell else run_meanfield(binary, args.sizes, args.threads, args.repeats, "blas", "Haswell")
    shapes, seen = [], set()
    for entry in best["measurements"]:
        if entry["shape"]["name"] not in seen:
            seen.add(entry["shape"]["name"]); shapes.append(entry["shape"])
    numpy_best, numpy_haswell = {}, {}
    for threads in [int(t) for t in args.threads.split(",")]:
        numpy_best[threads] = run_numpy(shapes, threads, args.repeats, None)
        if not args.no_haswell:
            numpy_haswell[threads] = run_numpy(shapes, threads, args.repeats, "Haswell")

    def ours(report, name, backend, threads):
        for entry in report["measurements"]:
            if entry["shape"]["name"] == name and entry["backend"].startswith(backend) and entry["threads"] == threads:
                return entry
        return None

    def numpy_figure(table, name, threads):
        for entry in table[threads]["results"]:
            if entry["name"] == name:
                return entry
        return None

    machine = best["machine"]
    peak = machine["peakGFLOPSPerCore"]
    print(f"# machine: {machine['cpuModel']}, {machine['processors']} processors, kernel level {machine['cpuLevel']}, "
          f"measured FP32 peak {peak:.1f} GFLOP/s per core (FMA loop; ~{machine['flopsPerCycle']:.0f} FLOP/cycle at the "
          f"measured {machine['measuredGHz']:.2f} GHz, cpuinfo {machine['cpuinfoMHz']:.0f} MHz)")
    print(f"# meanfield: {best['backendDescription']}")
    first = next(iter(numpy_best.values()))
    print(f"# numpy {first['numpy']}, its OpenBLAS core (OPENBLAS_CORETYPE unset): {first['core']}")
    print(f"# load average at start: {os.getloadavg()}")
    print("# GFLOP/s median (min-max) over repeats; ratios of medians; 'auto' shows which backend it picked")
    header = ["shape", "thr", "swift", "blas", "numpy", "swift/numpy", "blas/numpy", "auto", "swift %peak"]
    if haswell:
        header += ["blas Haswell", "numpy Haswell"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for shape in shapes:
            name = shape["name"]
            swift, blas, auto = ours(best, name, "swift", threads), ours(best, name, "blas", threads), ours(best, name, "auto", threads)
            numpy = numpy_figure(numpy_best, name, threads)

            def cell(entry):
                return "-" if not entry else f"{entry['gflopsMedian'] if 'gflopsMedian' in entry else entry['median']:.1f} " \
                    f"({entry.get('gflopsMin', entry.get('min')):.0f}-{entry.get('gflopsMax', entry.get('max')):.0f})"

            def ratio(a, b):
                return "-" if not a or not b else f"{a['gflopsMedian'] / b['median']:.2f}"
            row = [name, str(threads), cell(swift), cell(blas), cell(numpy), ratio(swift, numpy), ratio(blas, numpy),
                   "-" if not auto else f"{auto['gflopsMedian']:.1f} {auto['backend']}",
                   "-" if not swift else f"{100 * swift['fractionOfPeak']:.0f}%"]
            if haswell:
                row += [cell(ours(haswell, name, "blas", threads)), cell(numpy_figure(numpy_haswell, name, threads))]
            rows.append(row)
            print("| " + " | ".join(row) + " |")
    print(f"# total {time.time() - started:.0f} s; command: python3 benchmarks/gemm_vs_numpy.py "
          f"--sizes {args.sizes} --threads {args.threads} --repeats {args.repeats}")
    if args.json_out:
        with open(args.json_out, "w") as handle:
            json.dump({"meanfield": best, "meanfield_haswell": haswell, "numpy": numpy_best,
                       "numpy_haswell": numpy_haswell}, handle, indent=1)


if __name__ == "__main__":
    main()
