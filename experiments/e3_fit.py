#!/usr/bin/env python3
"""E3 (theory §6, claim C2): fit of the final regularised risk Q against the weight decay λ.

    python3 experiments/e3_fit.py runs/e3            # every run under runs/e3/*/runs/*/

For every run (its config.json gives λ and the seed, its metrics.jsonl the logged Q, R by step):
  * monotonicity: whether Q ever rises between consecutive logged steps (the gradient flow of Q,
    and Euler inside its stable range, decreases Q at every step), with the largest relative rise;
  * settling: the relative change of Q over the last 10% of the run, (Q(0.9 T) − Q(T)) / Q(T), and the
    same for the running minimum of Q (its lower envelope, which transient rises do not move);
  * Q∞: where Q is heading, the falls over the last two tenths continued as a geometric series;
  * the final Q, R and the norm term (Q − R) = (λ/2)∫|θ|²dρ, hence ∫|θ|²dρ = 2(Q − R)/λ.
Then per λ the mean ± standard deviation over seeds, and the log-log slope of Q_final against λ:
one least-squares slope per seed (over all λ), their mean with a Student-t 95% interval over
seeds (n − 1 degrees of freedom). The same for the smallest Q of the run (robust to a rise at
the last logged step), for R and for ∫|θ|²dρ, and the local slopes between
neighbouring λ. The column 1 − R/Q is the local slope d log Q/d log λ that the envelope theorem
gives at a minimiser (dQ*/dλ = ½∫|θ|²dρ = (Q − R)/λ), to compare with the fitted one.
"""
import glob, json, math, os, sys
import numpy as np
from scipy import stats


def load(run):
    with open(os.path.join(run, "config.json")) as f:
        cfg = json.load(f)
    rows = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            line = line.strip()
            if line:
                m = json.loads(line)
                if "Q" in m:
                    rows.append(m)
    return cfg, rows


def interval(xs):
    xs = np.asarray(xs, float)
    n = len(xs)
    mean = xs.mean()
    if n < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.975, n - 1) * xs.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def main(root):
    runs = sorted(glob.glob(os.path.join(root, "**", "metrics.jsonl"), recursive=True))
    table = {}  # (lam, seed) -> dict
    worst_rise, rises = 0.0, []
    for path in runs:
        run = os.path.dirname(path)
        cfg, rows = load(run)
        if not rows or rows[-1]["step"] < int(cfg["steps"]):
            print(f"skipped (unfinished): {run}")
            continue
        lam = float(cfg["weight_decay"])
        seed = int(cfg["seed"])
        Q = np.array([r["Q"] for r in rows])
        R = np.array([r["R"] for r in rows])
        t = np.array([r.get("t", r["step"] * float(cfg["lr"])) for r in rows])
        rel_rise = np.max(np.concatenate([[0.0], (Q[1:] - Q[:-1]) / Q[:-1]]))
        if rel_rise > 0:
            rises.append((run, rel_rise))
        worst_rise = max(worst_rise, rel_rise)
        T = t[-1]
        k = int(np.argmin(np.abs(t - 0.9 * T)))
        settle = (Q[k] - Q[-1]) / Q[-1]
        # The same on the lower envelope (running minimum of Q), which the step-size rises do not move.
        env = np.minimum.accumulate(Q)
        settle_env = (env[k] - env[-1]) / env[-1]
        # Where Q is heading: the falls over the last two tenths, d1 = Q(0.8T) − Q(0.9T) and
        # d2 = Q(0.9T) − Q(T), continued as a geometric series (ratio r = d2/d1 < 1) give
        # Q∞ ≈ Q(T) − d2·r/(1 − r); without a shrinking fall (r ≥ 1 or a rise) Q(T) is kept.
        k8 = int(np.argmin(np.abs(t - 0.8 * T)))
        d1, d2 = Q[k8] - Q[k], Q[k] - Q[-1]
        ratio = d2 / d1 if d1 > 0 and d2 > 0 else float("nan")
        q_inf = Q[-1] - d2 * ratio / (1 - ratio) if 0 < ratio < 1 else Q[-1]
        # Q at fractions of the run (mean-field time f·C/λ): how the slope moves as C grows.
        at = {f: Q[int(np.argmin(np.abs(t - f * T)))] for f in (0.25, 0.5, 0.75)}
        table[(lam, seed)] = dict(Q25=at[0.25], Q50=at[0.5], Q75=at[0.75], Q=Q[-1], Qinf=q_inf, ratio=ratio, Qmin=env[-1], R=R[-1], norm=2 * (Q[-1] - R[-1]) / lam, t=T,
                                  steps=rows[-1]["step"], settle=settle, settle_env=settle_env, rise=rel_rise, logged=len(rows))
    lams = sorted({l for l, _ in table})
    seeds = sorted({s for _, s in table})
    print(f"{len(table)} runs: λ = {lams}, seeds = {seeds}")
    print(f"monotonicity: Q rose between logged steps in {len(rises)} of {len(table)} runs"
          + (f" (largest relative rise {worst_rise:.2e})" if rises else ""))
    for run, r in rises:
        print(f"  rise {r:.2e} in {run}")
    print()
    print("| λ | t = steps·η | Q final (mean ± sd) | R final (mean ± sd) | ∫|θ|²dρ (mean ± sd) | 1 − R/Q (mean) | largest (Q(0.9t) − Q(t))/Q(t) | same on min Q so far | Q∞ extrapolated (mean) | fall ratio d2/d1 (range) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for lam in lams:
        cells = [table[(lam, s)] for s in seeds if (lam, s) in table]
        q = np.array([c["Q"] for c in cells]); r = np.array([c["R"] for c in cells]); n = np.array([c["norm"] for c in cells])
        ts = sorted({round(c["t"], 6) for c in cells})
        print(f"| {lam:g} | {', '.join(f'{x:g}' for x in ts)} | {q.mean():.4g} ± {q.std(ddof=1) if len(q) > 1 else 0:.2g} "
              f"| {r.mean():.3g} ± {r.std(ddof=1) if len(r) > 1 else 0:.2g} | {n.mean():.4g} ± {n.std(ddof=1) if len(n) > 1 else 0:.2g} "
              f"| {np.mean(1 - r / q):.3f} | {max(c['settle'] for c in cells):.1e} | {max(c['settle_env'] for c in cells):.1e} "
              f"| {np.mean([c['Qinf'] for c in cells]):.4g} | {min(c['ratio'] for c in cells):.2f}–{max(c['ratio'] for c in cells):.2f} |")
    print()
    if len(lams) < 2:
        return  # no slope from one λ
    x = np.log(np.array(lams))
    for key, name in (("Q25", "Q at t = C/(4λ)"), ("Q50", "Q at t = C/(2λ)"), ("Q75", "Q at t = 3C/(4λ)"), ("Q", "Q final"), ("Qinf", "Q∞ extrapolated"), ("Qmin", "min Q over the run"), ("R", "R final"), ("norm", "∫|θ|²dρ")):
        slopes = []
        for s in seeds:
            if all((l, s) in table for l in lams):
                y = np.log(np.array([max(table[(l, s)][key], 1e-300) for l in lams]))
                slopes.append(np.polyfit(x, y, 1)[0])
        m, lo, hi = interval(slopes)
        print(f"slope of log {name} vs log λ over seeds (n = {len(slopes)}): {m:.3f}  95% t-interval [{lo:.3f}, {hi:.3f}]"
              f"   per seed: {', '.join(f'{v:.3f}' for v in slopes)}")
    print()
    print("local slopes of log Q between neighbouring λ (mean over seeds [95% interval]):")
    for a, b in zip(lams, lams[1:]):
        sl = [math.log(table[(b, s)]["Q"] / table[(a, s)]["Q"]) / math.log(b / a) for s in seeds
              if (a, s) in table and (b, s) in table]
        m, lo, hi = interval(sl)
        print(f"  {a:g} → {b:g}: {m:.3f} [{lo:.3f}, {hi:.3f}]")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/e3")
