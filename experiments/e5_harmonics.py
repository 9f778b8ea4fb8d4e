#!/usr/bin/env python3
"""Fourier coefficients |ĉ_k(student) − ĉ_k(teacher)| of the final feature measures of an E5 run on the
circle, k = 1…8: ReLU features with Gaussian inputs do not see the odd harmonics k ≥ 3 of the feature
measure (relu(cos θ) = (cos θ + |cos θ|)/2 has none), so a student can fit the targets while differing
from the teacher there.

    python3 experiments/e5_harmonics.py runs/e5/unbiased
"""
import cmath
import json
import math
import sys

results = json.load(open(sys.argv[1] + "/varpro.json"))
gamma = results["config"]["teacherGamma"]
grid = results["config"]["teacherGrid"]
angles = [2 * math.pi * k / grid for k in range(grid)]
density = [1 / (1 + gamma * math.sin(a / 2) ** 2) + 0.5 / (1 + gamma * math.sin((a - 0.4 * math.pi) / 2) ** 2) for a in angles]
total = sum(density)
teacher = [d / total for d in density]


def coefficient(points, weights, k):
    return sum(w * cmath.exp(-1j * k * a) for a, w in zip(points, weights))


harmonics = range(1, 9)
print("| mode | m | λ | " + " | ".join(f"k = {k}" for k in harmonics) + " |")
print("|" + "---|" * (3 + len(harmonics)))
for run in results["runs"]:
    theta = run["finalParameters"]
    uniform = [1 / len(theta)] * len(theta)
    cells = [f"{abs(coefficient(theta, uniform, k) - coefficient(angles, teacher, k)):.2g}" for k in harmonics]
    print(f"| {run['mode']} | {run['width']} | {run['lambda']:g} | " + " | ".join(cells) + " |")
print("| teacher, abs(ĉ_k) | | | " + " | ".join(f"{abs(coefficient(angles, teacher, k)):.2g}" for k in harmonics) + " |")
