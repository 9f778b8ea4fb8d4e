#!/usr/bin/env python3
"""The mean-field Transformer of theory §1.2-1.3 in PyTorch, against `meanfield bench train`.

1. Runs `meanfield bench train --export DIR`, which writes DIR/<size>.safetensors (float64 initial
   weights under MeanField's parameter names, the batch, and the config as metadata) and prints the
   risks of 10 Euler steps computed by MeanField in float64.
2. Builds the identical model here from those weights, takes the same 10 Euler steps
   (theta <- (1 - eta*lambda)*theta - eta*(L*M)*grad R, theory §1.4) in float64 and checks that the
   11 risks agree to 1e-6 relative.
3. Times one training step (forward, backward, Euler update) in float32 (or, with --precision
   float64, in float64 on both sides) on 1 and 2 threads, and prints it beside `meanfield bench
   train` on the same sizes, thread counts and precision.

PyTorch is for benchmarks only (never CI):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install "torch==2.13.0+cpu" numpy
    swift build -c release --product meanfield
    /tmp/torchenv/bin/python benchmarks/pytorch_transformer.py --meanfield .build/release/meanfield
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    """{name: ndarray} and the metadata of a safetensors file (no dependency on `safetensors`)."""
    with open(path, "rb") as handle:
        data = handle.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        dtype = {"F32": "<f4", "F64": "<f8"}[entry["dtype"]]
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[8 + length + begin: 8 + length + end], dtype=dtype).reshape(entry["shape"])
    return tensors, metadata


def parameter_names(config):
    """MeanFieldTransformer's parameter names, in its store order."""
    names = []
    for layer in range(config["layers"]):
        prefix = f"layer{layer}."
        if config["attention"] == "merged":
            names += [prefix + "attention.keyQuery", prefix + "attention.outputValue"]
        else:
            names += [prefix + "attention." + part for part in ("query", "key", "value", "output")]
        if config["ffnUnits"] > 0:
            names += [prefix + "ffn.in", prefix + "ffn.bias", prefix + "ffn.out"]
    if config["readout"] == "classification":
        names += ["readout.weight", "readout.bias"]
    return names


def flow_scale(config, name):
    """L*M for head particles, L*M' for FF units, 1 for the readout (theory §1.4)."""
    if name.startswith("readout"):
        return 1.0
    width = config["heads"] if ".attention." in name else config["ffnUnits"]
    return float(config["layers"] * width)


ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "silu": F.silu}


def attention(config, p, layer, u):
    """(1/M) sum_j f(u; theta_j), u: [B, n, D] token-major (tokens are rows)."""
    batch, n, dim = u.shape
    heads, prefix = config["heads"], f"layer{layer}.attention."
    if config["attention"] == "merged":
        scale = 1.0 / config["temperature"]
        both = torch.cat([p[prefix + "keyQuery"].reshape(heads * dim, dim), p[prefix + "outputValue"].reshape(heads * dim, dim)])
        projected = (u @ both.T).view(batch, n, 2, heads, dim).permute(2, 0, 3, 1, 4)   # [2, B, M, n, D]
        queries, values = projected[0], projected[1]                                # W_KQ u, W_OV u
        keys = u.unsqueeze(1).expand(batch, heads, n, dim)
    else:
        width = config["headDimension"]
        scale = 1.0 / (config["temperature"] * width ** 0.5)
        qkv = torch.cat([p[prefix + part].reshape(heads * width, dim) for part in ("query", "key", "value")])
        queries, keys, values = (u @ qkv.T).view(batch, n, 3, heads, width).permute(2, 0, 3, 1, 4)
    # Scores of query token q against key token i: T[q, i] = S_{iq} of theory §1.2 (softmax over keys).
    if config["scoreMap"] == "softmax":
        mixed = F.scaled_dot_product_attention(queries, keys, values, scale=scale)  # [B, M, n, width]
    else:
        scores = queries @ keys.transpose(-1, -2) * scale
        weights = scores if config["scoreMap"] == "linear" else F.relu(scores) / n
        mixed = weights @ values
    if config["attention"] == "merged":
        return mixed.mean(1)
    width = config["headDimension"]
    output = p[prefix + "output"].permute(1, 0, 2).reshape(dim, heads * width)        # Ocat[p, j*d_h + h]
    return mixed.transpose(1, 2).reshape(batch, n, heads * width) @ output.T / heads


def feed_forward(config, p, layer, u):
    """(1/M') sum_j a_j sigma(b_j.u + c_j)."""
    prefix = f"layer{layer}.ffn."
    hidden = ACTIVATIONS[config["activation"]](u @ p[prefix + "in"].T + p[prefix + "bias"])
    return hidden @ p[prefix + "out"] / config["ffnUnits"]


def risk(config, p, tokens, targets, label_row):
    """R of the batch: tokens [B, D, n] (columns are tokens, as in MeanField)."""
    x = tokens.transpose(1, 2)
    step = 1.0 / config["layers"] ** config["residualExponent"]
    norm = (lambda h: F.layer_norm(h, h.shape[-1:], eps=1e-5)) if config["preNorm"] else (lambda h: h)
    for layer in range(config["layers"]):
        x = x + step * attention(config, p, layer, norm(x))
        if config["ffnUnits"] > 0:
            x = x + step * feed_forward(config, p, layer, norm(x))
    if config["readout"] == "regression":
        return 0.5 * ((x[:, -1, label_row] - targets) ** 2).mean()
    logits = x.mean(1) @ p["readout.weight"].T + p["readout.bias"]
    return F.cross_entropy(logits, targets)


def euler_step(config, p, learning_rate, weight_decay):
    with torch.no_grad():
        for name, tensor in p.items():
            tensor.mul_(1 - learning_rate * weight_decay).sub_(learning_rate * flow_scale(config, name) * tensor.grad)
            tensor.grad = None


def load(path, dtype):
    arrays, metadata = read_safetensors(path)
    config = json.loads(metadata["config"])
    p = {name: torch.tensor(arrays[name], dtype=dtype, requires_grad=True) for name in parameter_names(config)}
    tokens = torch.tensor(arrays["tokens"], dtype=dtype)
    if config["readout"] == "regression":
        targets, label_row = torch.tensor(arrays["targets"], dtype=dtype), int(metadata["label_row"])
    else:
        targets, label_row = torch.tensor(arrays["labels"], dtype=torch.long), None
    return config, p, tokens, targets, label_row, float(metadata["learning_rate"]), float(metadata["weight_decay"])


def check(path, expected):
    """11 risks of 10 Euler steps in float64; returns the largest relative difference from MeanField's."""
    config, p, tokens, targets, label_row, learning_rate, weight_decay = load(path, torch.float64)
    risks = []
    for _ in range(10):
        value = risk(config, p, tokens, targets, label_row)
        value.backward()
        risks.append(value.item())
        euler_step(config, p, learning_rate, weight_decay)
    with torch.no_grad():
        risks.append(risk(config, p, tokens, targets, label_row).item())
    return max(abs(a - b) / abs(b) for a, b in zip(risks, expected)), risks


def time_steps(path, threads, warmup, repeats, dtype):
    """Milliseconds per training step in dtype (forward, backward, Euler update), sorted."""
    torch.set_num_threads(threads)
    config, p, tokens, targets, label_row, learning_rate, weight_decay = load(path, dtype)
    samples = []
    for iteration in range(warmup + repeats):
        start = time.perf_counter()
        risk(config, p, tokens, targets, label_row).backward()
        euler_step(config, p, learning_rate, weight_decay)
        if iteration >= warmup:
            samples.append((time.perf_counter() - start) * 1e3)
    return sorted(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meanfield", required=True, help="path of the release meanfield binary")
    parser.add_argument("--sizes", default="regression,vit")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--precision", choices=["float32", "float64"], default="float32",
                        help="scalar type of the timed steps, on both sides (the agreement check is always float64)")
    parser.add_argument("--skip-check", action="store_true")
    args = parser.parse_args()
    sizes, thread_counts = args.sizes.split(","), [int(t) for t in args.threads.split(",")]
    torch.set_num_interop_threads(1)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()}")

    directory = tempfile.mkdtemp(prefix="meanfield-bench-")
    exported = subprocess.run([args.meanfield, "bench", "train", "--sizes", args.sizes, "--export", directory],
                              check=True, capture_output=True, text=True).stdout
    expected = json.loads(exported)
    failed = False
    if not args.skip_check:
        for size in sizes:
            torch.set_num_threads(1)
            error, risks = check(os.path.join(directory, f"{size}.safetensors"), expected[size])
            ok = error <= 1e-6
            failed |= not ok
            print(f"{size}: 10 Euler steps in float64, max relative risk difference {error:.2e} "
                  f"({'OK' if ok else 'FAIL'} at 1e-6); R {risks[0]:.6f} -> {risks[-1]:.6f}")

    ours = json.loads(subprocess.run(
        [args.meanfield, "bench", "train", "--json", "--sizes", args.sizes, "--threads", args.threads, "--precision", args.precision,
         "--repeats", str(args.repeats), "--warmup", str(args.warmup)],
        check=True, capture_output=True, text=True).stdout)["results"]
    print(f"\nms per training step ({args.precision}; min / median / max of {args.repeats} after {args.warmup} warm-up)")
    print(f"{'size':<11} {'threads':>7}   {'PyTorch':>26}   {'meanfield':>26}   ratio (median)")
    for size in sizes:
        for threads in thread_counts:
            theirs = time_steps(os.path.join(directory, f"{size}.safetensors"), threads, args.warmup, args.repeats,
                                torch.float64 if args.precision == "float64" else torch.float32)
            mine = next(r for r in ours if r["size"] == size and r["threads"] == threads)
            median = statistics.median(theirs)
            print(f"{size:<11} {threads:>7}   {theirs[0]:8.1f} {median:8.1f} {theirs[-1]:8.1f}   "
                  f"{mine['min_ms']:8.1f} {mine['median_ms']:8.1f} {mine['max_ms']:8.1f}   {mine['median_ms'] / median:.2f}")
    print(f"load after: {os.getloadavg()}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
