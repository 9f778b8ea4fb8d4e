#!/usr/bin/env python3
"""Measured and projected time per step of one run over K processes, data-parallel and
particle-parallel (docs/distributed.md), from benchmarks/data_parallel_scaling.sh's table.

Bytes per step that each rank sends (s bytes a value: the run's precision, 4 for the Float32 runs
measured here). Both modes sum in rank order with `ProcessGroup.sumInRankOrder` (a reduce-scatter in
rank order, MPI_Alltoallv, then MPI_Allgatherv): N values cost 2·(K − 1) messages of sN/K bytes,
2·sN·(K − 1)/K bytes.
- data-parallel: one sum of N = P + 3 values (the gradients, n_r·R_r, n_r, the stop flag);
- particle-parallel: 2·blocks sums of N = B·n·D values (each block's output forward, ∂R/∂U backward)
  and one of 2 Doubles (the divergence and stop flags).
At K = 2 the formula is sN per sum; the table prints it next to what ProcessGroup counted.

Model of a step on K nodes: T(K) = T_c/K + Σ_sums 2·(K − 1)·(α + sN/(K·β)), T_c the measured
one-process step (compute assumed to divide ideally, which small shares do not), β = 12.5 GB/s and
α = 2 µs (100 Gb/s InfiniBand). Speed-up = T_c / T(K).

    python3 benchmarks/data_parallel_projection.py times.csv SIZE,P,BLOCKS,BND,S …
"""
import csv, statistics, sys

BANDWIDTH, LATENCY = 12.5e9, 2e-6


def sums(mode, params, blocks, bnd, size):
    """The (count, values, bytes per value) of the rank-order sums of one step."""
    return [(1, params + 3, size)] if mode == "data" else [(2 * blocks, bnd, size), (1, 2, 8)]


def projected(seconds, mode, params, blocks, bnd, size, nodes):
    return seconds / nodes + sum(count * 2 * (nodes - 1) * (LATENCY + width * values / (nodes * BANDWIDTH))
                                 for count, values, width in sums(mode, params, blocks, bnd, size))


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    sizes = {}
    for argument in sys.argv[2:]:
        name, params, blocks, bnd, size = argument.split(",")
        sizes[name] = (int(params), int(blocks), int(bnd), int(size))

    def times(size, mode):
        return sorted(float(r["seconds_per_step"]) for r in rows if r["size"] == size and r["mode"] == mode)

    print("Measured (seconds per step, min / median / max; bytes rank 0 sent per step, counted and by the formula):\n")
    print("| run | P | mode | K | min | median | max | speed-up (medians) | bytes/step counted | formula |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size, (params, blocks, bnd, width) in sizes.items():
        alone = statistics.median(times(size, "none"))
        for mode in ("none", "data", "particle"):
            t = times(size, mode)
            if not t:
                continue
            counted = [float(r["bytes_sent_per_step"]) for r in rows if r["size"] == size and r["mode"] == mode]
            formula = 0 if mode == "none" else sum(count * w * values for count, values, w in sums(mode, params, blocks, bnd, width))
            speed = "" if mode == "none" else f"{alone / statistics.median(t):.2f}×"
            print(f"| {size} | {params:,} | {mode} | {1 if mode == 'none' else 2} | {1e3 * t[0]:.1f} ms | {1e3 * statistics.median(t):.1f} ms"
                  f" | {1e3 * t[-1]:.1f} ms | {speed} | {statistics.median(counted) / 1e6:.3f} MB | {formula / 1e6:.3f} MB |")

    print("\nProjected speed-up T_c/T(K) (step time in parentheses):\n")
    print("| run | mode | bytes per rank per step at K = 64 | K = 8 | K = 16 | K = 32 | K = 64 |")
    print("|---|---|---|---|---|---|---|")
    for size, (params, blocks, bnd, width) in sizes.items():
        alone = statistics.median(times(size, "none"))
        for mode in ("data", "particle"):
            volume = sum(count * 2 * w * values * 63 / 64 for count, values, w in sums(mode, params, blocks, bnd, width))
            cells = []
            for nodes in (8, 16, 32, 64):
                step = projected(alone, mode, params, blocks, bnd, width, nodes)
                cells.append(f"{alone / step:.1f}× ({1e3 * step:.2f} ms)")
            print(f"| {size} | {mode} | {volume / 1e6:.2f} MB | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
