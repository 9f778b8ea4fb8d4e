#!/usr/bin/env python3
"""Regenerates the NumPy reference fixtures for the MeanFieldCore tests.

    python3 scripts/make_core_fixtures.py

writes Tests/MeanFieldCoreTests/Fixtures/{binary,unary,reduction,matmul,shape,normalization,indexing}.json.
Each file is {"generator": ..., "cases": [case, ...]}; a case is

    {"name": unique label, "op": what to apply (read by Tests/MeanFieldCoreTests/Fixtures.swift),
     "inputs": [{"shape": [...], "data": [... row-major ...]}, ...],
     "outputs": [{"shape": [...], "data": [...]}, ...],
     ...op parameters: "axes", "axis", "keepingDimensions", "transposeSelf", "transposeOther",
        "indices", "sizes", "labels", "classes", "range", "shape", "permutation", "scalar",
        "function", "epsilon"}

Inputs are drawn from a fixed seed and rounded to 4 decimals (short in JSON, and both sides parse
the same decimal to the same double). Outputs are computed in float64 by NumPy (SciPy for erf and
the logistic function) and written with Python's shortest round-trip repr, so they are exact
float64 values. The script is deterministic: running it twice gives byte-identical files.
"""
import json
import os

import numpy as np
from scipy.special import erf, expit, logsumexp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "MeanFieldCoreTests", "Fixtures")
rng = np.random.default_rng(20240611)


def draw(shape, low=-2.0, high=2.0):
    """Uniform inputs rounded to 4 decimals."""
    return np.round(rng.uniform(low, high, size=shape), 4)


def away_from_zero(shape, low=0.1, high=2.0):
    """Values with |x| in [low, high] and a random sign (no kinks of relu/abs nearby)."""
    magnitude = np.round(rng.uniform(low, high, size=shape), 4)
    sign = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    return magnitude * sign


def distinct(shape, spacing=0.0625):
    """Values with no ties (a shuffled grid), so max has a unique argmax."""
    count = int(np.prod(shape, dtype=np.int64))
    grid = (np.arange(count) - count / 2) * spacing
    return rng.permutation(grid).reshape(shape)


def tensor(array):
    array = np.asarray(array, dtype=np.float64)
    return {"shape": list(array.shape), "data": [float(v) for v in array.ravel()]}


def case(name, op, inputs, outputs, **params):
    entry = {"name": name, "op": op, "inputs": [tensor(x) for x in inputs], "outputs": [tensor(y) for y in outputs]}
    entry.update(params)
    return entry


# ---------------------------------------------------------------------------------------------
# binary.json: + − × ÷ with NumPy broadcasting, and with a scalar on either side.
def binary_cases():
    cases = []
    functions = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide}
    pairs = [([3, 4], [3, 4]), ([3, 4], [4]), ([3, 1], [1, 4]), ([2, 1, 3], [4, 1]), ([1], [2, 3]),
             ([], [2, 3]), ([2, 3], []), ([1, 1], [1]), ([2, 3, 1], [2, 1, 4]), ([4, 1, 1], [3, 1]),
             ([3, 4], [3, 1]), ([3, 1], [3, 4]), ([2, 3, 4], [2, 1, 1]), ([4], [3, 1])]
    for function, numpy_function in functions.items():
        for shape_a, shape_b in pairs:
            a = draw(shape_a)
            b = away_from_zero(shape_b, 0.5, 2.0) if function == "divide" else draw(shape_b)
            name = f"{function} {shape_a} {shape_b}"
            cases.append(case(name, function, [a, b], [numpy_function(a, b)]))
    x = draw([2, 3])
    for function, scalar in [("addScalar", 2.5), ("subtractScalar", 2.5), ("multiplyScalar", -1.5),
                             ("scalarMultiply", -1.5), ("divideScalar", 4.0)]:
        expected = {"addScalar": x + scalar, "subtractScalar": x - scalar, "multiplyScalar": x * scalar,
                    "scalarMultiply": scalar * x, "divideScalar": x / scalar}[function]
        cases.append(case(f"{function} {scalar}", function, [x], [expected], scalar=scalar))
    return cases


# ---------------------------------------------------------------------------------------------
# unary.json: every UnaryFunction on its domain, including large |x| for the saturating ones.
def gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def unary_cases():
    wide = np.array([-30.0, -8.0, 8.0, 30.0])
    domains = {
        "negate": (draw([3, 4]), np.negative),
        "exp": (draw([3, 4], -3, 3), np.exp),
        "log": (draw([3, 4], 0.05, 5), np.log),
        "relu": (away_from_zero([3, 4]), lambda x: np.maximum(x, 0.0)),
        "gelu": (np.concatenate([draw([12], -4, 4), wide]), gelu),
        "tanh": (np.concatenate([draw([12], -3, 3), wide]), np.tanh),
        "sigmoid": (np.concatenate([draw([12], -6, 6), wide, [-100.0, 100.0]]), expit),
        "silu": (np.concatenate([draw([12], -6, 6), wide]), lambda x: x * expit(x)),
        "square": (draw([3, 4]), np.square),
        "sqrt": (draw([3, 4], 0.01, 9), np.sqrt),
        "abs": (away_from_zero([3, 4]), np.abs),
        "reciprocal": (away_from_zero([3, 4], 0.2, 3), np.reciprocal),
        # A fixed grid, so adding it left every later draw of the shared generator unchanged.
        "cos": (np.linspace(-7.0, 7.0, 12), np.cos),
    }
    cases = []
    for function, (x, numpy_function) in domains.items():
        cases.append(case(function, "unary", [x], [numpy_function(x)], function=function))
    scalar = np.array(0.75)
    cases.append(case("exp of a rank-0 tensor", "unary", [scalar], [np.exp(scalar)], function="exp"))
    return cases


# ---------------------------------------------------------------------------------------------
# reduction.json: sum, mean, max, logSumExp over axis sets, with and without kept dimensions.
def reduction_cases():
    reductions = {"sum": np.sum, "mean": np.mean, "max": np.max, "logSumExp": logsumexp}
    axis_sets = [([2, 3, 4], []), ([2, 3, 4], [0]), ([2, 3, 4], [1]), ([2, 3, 4], [-1]), ([2, 3, 4], [0, 2]),
                 ([2, 3, 4], [2, 0]), ([2, 3, 4], [0, 1, 2]), ([1, 5], [0]), ([4, 1], [1]), ([5], [0]), ([], [])]
    cases = []
    for reduction, numpy_function in reductions.items():
        for shape, axes in axis_sets:
            x = distinct(shape) if reduction == "max" else draw(shape)
            for keep in (False, True):
                numpy_axes = tuple(axes) if axes else None
                expected = numpy_function(x, axis=numpy_axes, keepdims=keep)
                # SciPy's logsumexp keeps a 0-d input as shape (1,); NumPy's rule keeps it 0-d.
                expected = np.reshape(expected, np.sum(x, axis=numpy_axes, keepdims=keep).shape)
                cases.append(case(f"{reduction} {shape} axes {axes} keep {keep}", reduction, [x], [expected],
                                  axes=axes, keepingDimensions=keep))
    large = np.array([[1000.0, 1000.5, 999.0], [-1000.0, -999.25, -1001.0]])
    cases.append(case("logSumExp of large magnitudes", "logSumExp", [large], [logsumexp(large, axis=1)],
                      axes=[1], keepingDimensions=False))
    return cases


# ---------------------------------------------------------------------------------------------
# matmul.json: every transpose combination, plain and batched with broadcast batch axes.
def matmul_cases():
    def op(x, transpose):
        return np.swapaxes(x, -1, -2) if transpose else x

    cases = []
    layouts = [  # (batch of A, batch of B, m, k, n)
        ([], [], 3, 4, 2), ([], [], 1, 1, 1), ([], [], 5, 1, 3), ([2], [2], 3, 4, 2), ([2, 3], [], 2, 3, 4),
        ([], [3], 4, 2, 3), ([2, 1], [3], 3, 2, 2), ([1, 2], [3, 1], 2, 3, 1)]
    for batch_a, batch_b, m, k, n in layouts:
        for transpose_a in (False, True):
            for transpose_b in (False, True):
                a = draw(batch_a + ([k, m] if transpose_a else [m, k]))
                b = draw(batch_b + ([n, k] if transpose_b else [k, n]))
                expected = np.matmul(op(a, transpose_a), op(b, transpose_b))
                name = f"matmul {list(a.shape)}{'T' if transpose_a else ''} {list(b.shape)}{'T' if transpose_b else ''}"
                cases.append(case(name, "matmul", [a, b], [expected], transposeSelf=transpose_a, transposeOther=transpose_b))
    return cases


# ---------------------------------------------------------------------------------------------
# shape.json: reshape, permute, transpose, slice, concatenate, split.
def shape_cases():
    cases = []
    x = draw([2, 3, 4])
    for target in ([4, 6], [4, -1], [-1], [24, 1], [1, 2, 12]):
        cases.append(case(f"reshape to {target}", "reshape", [x], [x.reshape(target)], shape=target))
    for permutation in ([2, 0, 1], [1, 0, 2], [0, 1, 2], [2, 1, 0]):
        cases.append(case(f"permute {permutation}", "permute", [x], [np.transpose(x, permutation)], permutation=permutation))
    cases.append(case("transpose rank 3", "transpose", [x], [np.swapaxes(x, -1, -2)]))
    y = draw([3, 5])
    cases.append(case("transpose rank 2", "transpose", [y], [y.T]))
    for axis, (low, high) in [(0, (1, 2)), (1, (1, 3)), (2, (0, 4)), (-1, (3, 4)), (1, (2, 2))]:
        index = [slice(None)] * 3
        index[axis] = slice(low, high)
        cases.append(case(f"slice axis {axis} {low}..<{high}", "slice", [x], [x[tuple(index)]], axis=axis, range=[low, high]))
    for axis, widths in [(0, [1, 2, 1]), (1, [2, 1, 3]), (-1, [1, 1]), (1, [0, 3])]:
        pieces = []
        for width in widths:
            shape = [2, 3]
            shape[axis] = width
            pieces.append(draw(shape))
        cases.append(case(f"concatenate axis {axis} widths {widths}", "concatenate", pieces,
                          [np.concatenate(pieces, axis=axis)], axis=axis))
    for axis, sizes in [(1, [1, 2]), (2, [1, 0, 3]), (-3, [2]), (0, [1, 1])]:
        boundaries = np.cumsum(sizes)[:-1]
        cases.append(case(f"split axis {axis} sizes {sizes}", "split", [x], list(np.split(x, boundaries, axis=axis)),
                          axis=axis, sizes=sizes))
    return cases


# ---------------------------------------------------------------------------------------------
# normalization.json: softmax and log-softmax along every axis; layer norm over the last axis.
def softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis):
    return x - logsumexp(x, axis=axis, keepdims=True)


def layer_norm(x, epsilon):
    mean = np.mean(x, axis=-1, keepdims=True)
    variance = np.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon)


def normalization_cases():
    cases = []
    for shape in ([2, 3, 4], [1, 5], [4, 1], [6]):
        x = draw(shape, -3, 3)
        for axis in list(range(len(shape))) + [-1]:
            cases.append(case(f"softmax {shape} axis {axis}", "softmax", [x], [softmax(x, axis)], axis=axis))
            cases.append(case(f"logSoftmax {shape} axis {axis}", "logSoftmax", [x], [log_softmax(x, axis)], axis=axis))
    large = np.array([[1000.0, 1001.0, 999.5], [-500.0, -502.0, -501.0]])
    cases.append(case("softmax of large magnitudes", "softmax", [large], [softmax(large, 1)], axis=1))
    cases.append(case("logSoftmax of large magnitudes", "logSoftmax", [large], [log_softmax(large, 1)], axis=1))
    for shape, epsilon in [([3, 5], 1e-5), ([2, 2, 4], 1e-5), ([7], 0.1), ([2, 1], 1e-5)]:
        x = draw(shape, -3, 3)
        cases.append(case(f"layerNorm {shape} epsilon {epsilon}", "layerNorm", [x], [layer_norm(x, epsilon)], epsilon=epsilon))
    return cases


# ---------------------------------------------------------------------------------------------
# indexing.json: gather, one-hot, mean squared error, cross-entropy.
def indexing_cases():
    cases = []
    x = draw([3, 4, 2])
    for axis, indices in [(0, [2, 0, 2]), (1, [3, 1]), (2, [1, 1, 0, 1]), (-1, [0]), (1, [])]:
        cases.append(case(f"gather axis {axis} indices {indices}", "gather", [x],
                          [np.take(x, np.array(indices, dtype=np.int64), axis=axis)], axis=axis, indices=indices))
    for labels, classes in [([2, 0, 1, 2], 3), ([0], 1), ([4, 4], 5)]:
        cases.append(case(f"oneHot {labels} classes {classes}", "oneHot", [], [np.eye(classes)[labels]],
                          labels=labels, classes=classes))
    for shape in ([3, 4], [5], [], [2, 1, 3]):
        prediction, target = draw(shape), draw(shape)
        cases.append(case(f"meanSquaredError {shape}", "meanSquaredError", [prediction, target],
                          [np.mean((prediction - target) ** 2)]))
    for batch, classes in [(4, 3), (1, 5), (3, 1), (6, 10)]:
        logits = draw([batch, classes], -4, 4)
        labels = [int(v) for v in rng.integers(0, classes, size=batch)]
        expected = -np.mean(log_softmax(logits, 1)[np.arange(batch), labels])
        cases.append(case(f"crossEntropy {batch}x{classes}", "crossEntropy", [logits], [expected], labels=labels))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {"binary": binary_cases, "unary": unary_cases, "reduction": reduction_cases, "matmul": matmul_cases,
             "shape": shape_cases, "normalization": normalization_cases, "indexing": indexing_cases}
    total = 0
    for name, make in files.items():
        cases = make()
        names = [c["name"] for c in cases]
        assert len(names) == len(set(names)), f"duplicate case names in {name}"
        text = json.dumps({"generator": "scripts/make_core_fixtures.py", "cases": cases}, separators=(",", ":"))
        path = os.path.join(OUT, f"{name}.json")
        with open(path, "w") as f:
            f.write(text + "\n")
        total += len(text) + 1
        print(f"{path}: {len(cases)} cases, {len(text) + 1} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
