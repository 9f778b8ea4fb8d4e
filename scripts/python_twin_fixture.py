#!/usr/bin/env python3
"""Writes Tests/MeanFieldTests/Fixtures/transformer-twin.safetensors: the llm.c-style reference that
`swift test` (PythonTwinReferenceTests) checks both Swift engines against.

For each case: a run config (config.json's keys), random float64 parameters under the checkpoint
names, a batch of tokens [B, D, n] and targets [B], and what the PyTorch twin (python/meanfield/twin.py)
computes from them in float64: the risk R = ½·mean(ŷ − y)² and ∇R of every parameter (autograd).
Tensor names: `<case>.<parameter>`, `<case>.tokens`, `<case>.targets`, `<case>.risk` ([1]),
`<case>.grad.<parameter>`. Metadata `cases`: JSON {case: {"config": run config, "transformer":
the Swift TransformerConfig's JSON, "label_row": d}}.

    /tmp/torchenv/bin/python scripts/python_twin_fixture.py    (needs torch, numpy, safetensors)
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from meanfield.twin import TransformerTwin, _shapes  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "MeanFieldTests", "Fixtures",
                   "transformer-twin.safetensors")
PARAMETRIZATION = {"decay": "in-velocity", "flow_scale": "depth-balanced", "head_scaling": "mean-field", "time": "flow"}

# (name, run config, batch, tokens): every option of the Transformer's regression model.
CASES = [
    ("merged_softmax_relu", dict(input_dim=3, token_dim=4, heads=3, ffn_units=5, layers=2, attention="merged",
                                 score="softmax", activation="relu", temperature=0.8, residual_exponent=1.0,
                                 pre_norm=False, head_scaling="mean-field"), 3, 5),
    ("factored_relu_gelu_prenorm", dict(input_dim=3, token_dim=5, heads=2, ffn_units=3, layers=3, attention="factored",
                                        head_dim=2, score="relu", activation="gelu", temperature=1.0,
                                        residual_exponent=0.5, pre_norm=True, head_scaling="sqrt"), 2, 6),
    ("factored_softmax_silu", dict(input_dim=4, token_dim=5, heads=3, ffn_units=4, layers=2, attention="factored",
                                   head_dim=3, score="softmax", activation="silu", temperature=0.7,
                                   residual_exponent=1.0, pre_norm=False, head_scaling="mean-field"), 2, 5),
    ("merged_linear_tanh_sum", dict(input_dim=3, token_dim=4, heads=2, ffn_units=3, layers=2, attention="merged",
                                    score="linear", activation="tanh", temperature=1.3, residual_exponent=1.0,
                                    pre_norm=True, head_scaling="one"), 2, 4),
    ("factored_sigmoid", dict(input_dim=2, token_dim=4, heads=2, ffn_units=2, layers=1, attention="factored",
                              head_dim=2, score="softmax", activation="sigmoid", temperature=1.0,
                              residual_exponent=1.0, pre_norm=False, head_scaling="mean-field"), 3, 4),
]


def swift_config(config):
    """The Swift `TransformerConfig` (Codable) of a run config."""
    return {"dimension": config["token_dim"], "heads": config["heads"], "ffnUnits": config["ffn_units"],
            "layers": config["layers"], "attention": config["attention"],
            "headDimension": config.get("head_dim", config["token_dim"]), "temperature": config["temperature"],
            "residualExponent": config["residual_exponent"], "scoreMap": config["score"],
            "activation": config["activation"], "preNorm": config["pre_norm"], "readout": "regression", "classes": 0,
            "parametrization": {**PARAMETRIZATION, "head_scaling": config["head_scaling"]}}


def main():
    random = np.random.default_rng(20261202)
    tensors, cases = {}, {}
    for name, config, batch, count in CASES:
        config = {**config, "model": "transformer", "precision": "float64"}
        parameters = {k: 0.6 * random.standard_normal(shape) for k, shape in _shapes(config).items()}
        tokens = random.standard_normal((batch, config["token_dim"], count))
        targets = random.standard_normal(batch)
        twin = TransformerTwin(config, parameters, {**PARAMETRIZATION, "head_scaling": config["head_scaling"]})
        risk, gradients = twin.risk_and_gradients(tokens, targets)
        for k, value in parameters.items():
            tensors[f"{name}.{k}"] = value
            tensors[f"{name}.grad.{k}"] = gradients[k].numpy()
        tensors[f"{name}.tokens"], tensors[f"{name}.targets"] = tokens, targets
        tensors[f"{name}.risk"] = np.array([risk])
        cases[name] = {"config": config, "transformer": swift_config(config), "label_row": config["input_dim"]}
        print(f"{name}: R = {risk!r}")
    save_file(tensors, OUT, metadata={"cases": json.dumps(cases, sort_keys=True),
                                      "written_by": "scripts/python_twin_fixture.py", "torch": torch.__version__})
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
