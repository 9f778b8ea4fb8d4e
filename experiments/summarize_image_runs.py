#!/usr/bin/env python3
"""Markdown table of image-classification runs (meanfield train --task fashion-mnist ...).

    python3 experiments/summarize_image_runs.py RUN_DIR [RUN_DIR ...]

One row per run directory: the capacity knobs from config.json (M heads, M' units, L layers),
the final epoch's training loss / training accuracy / test accuracy from metrics.jsonl, the first
epoch with training accuracy >= 99.5% and the first with training loss < 1e-2 ("-" if never),
the mean training time per epoch and the run's wall time from summary.json.
"""
import json
import os
import sys


def first_epoch(lines, predicate):
    for line in lines:
        if line["epoch"] > 0 and predicate(line):
            return str(line["epoch"])
    return "-"


def main(directories):
    print("| run | M | M′ | L | epochs | train loss | train acc | test acc | first epoch acc ≥ 99.5% "
          "| first epoch loss < 1e-2 | s/epoch (train) | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for directory in directories:
        name = os.path.basename(os.path.normpath(directory))
        metrics_path = os.path.join(directory, "metrics.jsonl")
        if not os.path.exists(metrics_path):
            print(f"| {name} | (no metrics.jsonl) |||||||||||")
            continue
        with open(os.path.join(directory, "config.json")) as handle:
            config = json.load(handle)
        with open(metrics_path) as handle:
            lines = [json.loads(text) for text in handle if text.strip()]
        last = lines[-1]
        summary = {}
        summary_path = os.path.join(directory, "summary.json")
        if os.path.exists(summary_path):
            with open(summary_path) as handle:
                summary = json.load(handle)
        trained = [line["train_seconds"] for line in lines if "train_seconds" in line]
        per_epoch = f"{sum(trained) / len(trained):.1f}" if trained else "-"
        wall = f"{summary['wallSeconds'] / 60:.1f} min" if "wallSeconds" in summary else "running"
        print(f"| {name} | {config['heads']} | {config['ffn-units']} | {config['layers']} | {last['epoch']} "
              f"| {last['train_loss']:.4g} | {100 * last['train_acc']:.2f}% | {100 * last['test_acc']:.2f}% "
              f"| {first_epoch(lines, lambda l: l['train_acc'] >= 0.995)} "
              f"| {first_epoch(lines, lambda l: l['train_loss'] < 1e-2)} | {per_epoch} | {wall} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: summarize_image_runs.py RUN_DIR [RUN_DIR ...]")
    main(sys.argv[1:])
