#!/usr/bin/env python3
"""Projected speed-up of a data-parallel run on K nodes (docs/distributed.md), from the times per
step measured by benchmarks/data_parallel_scaling.sh and the parameter counts of its runs.

Model: one node computes a step of b examples in T_c·b/B (T_c: the measured one-process time of the
whole batch B; linear in b, which is optimistic for small shares), and the rank-order sum
(`ProcessGroup.sumInRankOrder`: a reduce-scatter in rank order, MPI_Alltoallv, then MPI_Allgatherv)
moves the P gradient values (8 bytes each: the sum is in Double) in 2·(K − 1) rounds of 8P/K bytes:
    T(K) = T_c/K + 2·(K − 1)·(α + 8P/(K·β)),
β = 12.5 GB/s and α = 2 µs (100 Gb/s InfiniBand). Speed-up = T_c / T(K). (Until 2026-12-02 the sum
was a gather to rank 0 and a broadcast: T_c/K + (K − 1)·8P/β + ⌈log₂K⌉·8P/β + 2⌈log₂K⌉·α.)

    python3 benchmarks/data_parallel_projection.py times.csv PARAMS_E2 PARAMS_VIT
"""
import csv, statistics, sys

BANDWIDTH, LATENCY = 12.5e9, 2e-6

def projected(seconds, params, nodes):
    return seconds / nodes + 2 * (nodes - 1) * (LATENCY + 8 * params / (nodes * BANDWIDTH))

def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    params = {"e2-reference": int(sys.argv[2]), "vit": int(sys.argv[3])}
    print("| run | P | 8P (MB) | T_c (ms, 1 process, median) | K = 8 | K = 16 | K = 32 | K = 64 |")
    print("|---|---|---|---|---|---|---|---|")
    for size, count in params.items():
        times = [float(r["seconds_per_step"]) for r in rows if r["size"] == size and r["processes"] == "1"]
        median = statistics.median(times)
        cells = []
        for nodes in (8, 16, 32, 64):
            step = projected(median, count, nodes)
            cells.append(f"{median / step:.1f}× ({1e3 * step:.2f} ms)")
        print(f"| {size} | {count:,} | {8 * count / 1e6:.2f} | {1e3 * median:.1f} | " + " | ".join(cells) + " |")

if __name__ == "__main__":
    main()
