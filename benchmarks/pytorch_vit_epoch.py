#!/usr/bin/env python3
"""One epoch of the documented default ViT over the full Fashion-MNIST training set: PyTorch vs MeanField.

The model is MeanField's default image model (TrainConfig.imageDefaults, docs/experiments.md):
p = 4 patches (49 tokens of 28x28), D = 64, M = 8 factored heads of width d_h = 16, M' = 256 ReLU
units, L = 6, pre-norm, mean pooling, AdamW (eta = 4e-3, cosine), batches of 64 -> 938 steps.
The PyTorch side uses the same blocks as benchmarks/pytorch_transformer.py (1/M and 1/M' averages,
1/L residual steps, theory §1.2), the patch embedding E.patch + e + P of VisionTransformer.swift, and
torch.optim.AdamW with the mean-field flow scales folded in (Adam is invariant to the scale of the
gradient, so the scales change nothing but the epsilon), all in float32.

Each round runs `meanfield train --task fashion-mnist --epochs 1` (its metrics give the training
time of the epoch without evaluation) and then one PyTorch epoch over the same data with the same
thread count, alternately, so that a disturbance of the machine hits both sides alike.

    /tmp/torchenv/bin/python benchmarks/pytorch_vit_epoch.py --meanfield .build/release/meanfield \
        --threads 1,2 --rounds 2
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_transformer import attention, feed_forward  # noqa: E402  (the same blocks as the step benchmark)

CONFIG = {"heads": 8, "ffnUnits": 256, "layers": 6, "attention": "factored", "headDimension": 16,
          "temperature": 1.0, "scoreMap": "softmax", "activation": "relu", "residualExponent": 1.0, "preNorm": True}
DIM, PATCH, CLASSES, BATCH, LR = 64, 4, 10, 64, 4e-3
MEAN, STD = 0.2860, 0.3530   # Fashion-MNIST training-set statistics (docs/data.md)


def read_idx_images(path):
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    count, rows, cols = (int.from_bytes(data[4 * i: 4 * i + 4], "big") for i in (1, 2, 3))
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, 1, rows, cols)


def read_idx_labels(path):
    with gzip.open(path, "rb") as handle:
        return np.frombuffer(handle.read(), dtype=np.uint8, offset=8)


def parameters(generator):
    """Same shapes and initial distributions as VisionTransformer.initialParameters (values differ)."""
    tokens, patch_size = (28 // PATCH) ** 2, PATCH * PATCH
    std = DIM ** -0.5
    p = {"embedding.patch.weight": torch.randn(DIM, patch_size, generator=generator) * patch_size ** -0.5,
         "embedding.patch.bias": torch.zeros(DIM),
         "embedding.position": torch.randn(DIM, tokens, generator=generator) * 0.02}
    heads, width, units = CONFIG["heads"], CONFIG["headDimension"], CONFIG["ffnUnits"]
    scales = {name: 1.0 for name in p}
    for layer in range(CONFIG["layers"]):
        prefix = f"layer{layer}."
        for part, shape in (("query", (heads, width, DIM)), ("key", (heads, width, DIM)),
                            ("value", (heads, width, DIM)), ("output", (heads, DIM, width))):
            p[prefix + "attention." + part] = torch.randn(*shape, generator=generator) * std
            scales[prefix + "attention." + part] = float(CONFIG["layers"] * heads)
        for part, shape in (("in", (units, DIM)), ("bias", (units,)), ("out", (units, DIM))):
            p[prefix + "ffn." + part] = torch.randn(*shape, generator=generator) * std
            scales[prefix + "ffn." + part] = float(CONFIG["layers"] * units)
    p["readout.weight"] = torch.zeros(CLASSES, DIM)
    p["readout.bias"] = torch.zeros(CLASSES)
    scales["readout.weight"] = scales["readout.bias"] = 1.0
    return {name: tensor.requires_grad_() for name, tensor in p.items()}, scales


def loss(p, images, labels):
    """Cross-entropy of the default ViT on images [B, 1, 28, 28] (normalized)."""
    patches = F.unfold(images, PATCH, stride=PATCH).transpose(1, 2)                 # [B, n, p*p]
    x = patches @ p["embedding.patch.weight"].T + p["embedding.patch.bias"] + p["embedding.position"].T
    step = 1.0 / CONFIG["layers"]
    for layer in range(CONFIG["layers"]):
        x = x + step * attention(CONFIG, p, layer, F.layer_norm(x, x.shape[-1:], eps=1e-5))
        x = x + step * feed_forward(CONFIG, p, layer, F.layer_norm(x, x.shape[-1:], eps=1e-5))
    logits = x.mean(1) @ p["readout.weight"].T + p["readout.bias"]
    return F.cross_entropy(logits, labels)


def torch_epoch(images, labels, threads, seed):
    """Wall seconds of one training epoch (shuffle, normalize, forward, backward, AdamW step)."""
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(seed)
    p, scales = parameters(generator)
    optimizer = torch.optim.AdamW(list(p.values()), lr=LR, weight_decay=0.0)
    steps = (len(labels) + BATCH - 1) // BATCH
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    start = time.perf_counter()
    order = torch.randperm(len(labels), generator=generator)
    last = float("nan")
    for begin in range(0, len(labels), BATCH):
        index = order[begin: begin + BATCH]
        batch = (images[index].float() / 255.0 - MEAN) / STD
        value = loss(p, batch, labels[index])
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        with torch.no_grad():
            for name, tensor in p.items():
                if scales[name] != 1.0:
                    tensor.grad.mul_(scales[name])
        optimizer.step()
        schedule.step()
        last = value.item()
    return time.perf_counter() - start, last, steps


def meanfield_epoch(binary, threads, data, seed):
    """Training seconds of one epoch (metrics.jsonl train_seconds, evaluation excluded) and the run's wall time."""
    directory = tempfile.mkdtemp(prefix="meanfield-epoch-")
    try:
        start = time.perf_counter()
        subprocess.run([binary, "train", "--task", "fashion-mnist", "--data", data, "--epochs", "1",
                        "--threads", str(threads), "--seed", str(seed), "--test-subset", "1000", "--out", directory + "/run"],
                       check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
        with open(os.path.join(directory, "run", "metrics.jsonl")) as handle:
            lines = [json.loads(text) for text in handle if text.strip()]
        last = lines[-1]
        return last.get("train_seconds", last.get("epoch_seconds")), last["batch_loss"], last["step"], wall
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def summary(samples):
    ordered = sorted(samples)
    return f"{ordered[0]:7.1f} {statistics.median(ordered):7.1f} {ordered[-1]:7.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meanfield", required=True, help="path of the release meanfield binary")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=2, help="alternating (MeanField, PyTorch) epochs per thread count")
    args = parser.parse_args()
    torch.set_num_interop_threads(1)
    images = torch.from_numpy(read_idx_images(os.path.join(args.data, "train-images-idx3-ubyte.gz")).copy())
    labels = torch.from_numpy(read_idx_labels(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()}, {len(labels)} training images")
    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        ours, theirs = [], []
        for round_index in range(args.rounds):
            seconds, batch_loss, steps, wall = meanfield_epoch(args.meanfield, threads, args.data, round_index)
            ours.append(seconds)
            print(f"  threads {threads} round {round_index}: meanfield {seconds:.1f} s ({steps} steps, "
                  f"mean batch loss {batch_loss:.3f}; whole run {wall:.1f} s)", flush=True)
            seconds, last, steps = torch_epoch(images, labels, threads, round_index)
            theirs.append(seconds)
            print(f"  threads {threads} round {round_index}: pytorch   {seconds:.1f} s ({steps} steps, last batch loss {last:.3f})",
                  flush=True)
        rows.append((threads, ours, theirs))
    print(f"\nseconds per training epoch (min / median / max of {args.rounds}); load after {os.getloadavg()}")
    print(f"{'threads':>7}   {'PyTorch':>23}   {'meanfield':>23}   ratio (median)")
    for threads, ours, theirs in rows:
        print(f"{threads:>7}   {summary(theirs)}   {summary(ours)}   {statistics.median(ours) / statistics.median(theirs):.2f}")


if __name__ == "__main__":
    main()
