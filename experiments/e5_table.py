#!/usr/bin/env python3
"""Markdown tables for docs/e5-varpro.md from E5 run directories (metrics.jsonl of `meanfield varpro`).

    python3 experiments/e5_table.py runs/e5/unbiased [runs/e5/biased ...]

Per student (mode, m, λ): the energy distance to the teacher (MMD² of k = −|x − y|) at a few steps,
√ of its final value (the MMD itself), the final risk, W₁ and W₂ (geodesic) to the teacher, energy distance and W₂ to the PDE solution.
"""
import json
import math
import sys

CHECKPOINTS = [0, 1000, 2000, 4000, 8000, 12000]


def table(path):
    rows = {}
    for line in open(f"{path}/metrics.jsonl"):
        record = json.loads(line)
        if "failure" in record:
            rows.setdefault((record["mode"], record["width"], record["lambda"]), {})["failure"] = record["failure"]
            continue
        rows.setdefault((record["mode"], record["width"], record["lambda"]), {})[record["step"]] = record
    print(f"\n{path}\n")
    header = ["mode", "m", "λ"] + [f"E @ {c}" for c in CHECKPOINTS] + ["√E end", "risk end", "W₁ end", "W₂ end", "E to PDE end", "W₂ to PDE end"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for (mode, width, lam), records in rows.items():
        steps = sorted(k for k in records if isinstance(k, int))
        last = records[steps[-1]]
        cells = [mode, str(width), f"{lam:g}"]
        cells += [f"{records[c]['teacher_energy']:.3g}" if c in records else "—" for c in CHECKPOINTS]
        cells += [f"{math.sqrt(max(last['teacher_energy'], 0)):.3g}", f"{last['risk']:.2g}",
                  f"{last.get('teacher_w1', float('nan')):.3g}", f"{last.get('teacher_w2', float('nan')):.3g}",
                  f"{last.get('pde_energy', float('nan')):.3g}", f"{last.get('pde_w2', float('nan')):.3g}"]
        if "failure" in records:
            cells[-1] += f" (stopped: {records['failure']})"
        print("| " + " | ".join(cells) + " |")


for directory in sys.argv[1:]:
    table(directory)
