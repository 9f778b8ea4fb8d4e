#!/usr/bin/env python3
"""Writes Tests/MeanFieldTests/Fixtures/pytorch-twin.safetensors: the llm.c-style reference that
`swift test` (PythonTwinReferenceTests) checks both Swift engines against.

For each case: a run config (config.json's keys), random float64 parameters under the checkpoint
names, a batch, and what the PyTorch twin (python/meanfield/twin.py, twin_resnet.py) computes from
them in float64: the risk R (½·mean of the squared error) and ∇R of every parameter (autograd).
Transformer cases: tokens [B, D, n] and targets [B]; ResNet cases (two-layer and random-feature
blocks, Ω and β drawn from the config's seed): inputs [B, q] and targets [B, C].
Tensor names: `<case>.<parameter>`, `<case>.tokens` or `<case>.inputs`, `<case>.targets`,
`<case>.risk` ([1]), `<case>.grad.<parameter>`. Metadata `cases`: JSON {case: {"config": run config,
"transformer": the Swift TransformerConfig's JSON, "label_row": d} or {"config", "resnet": the Swift
ResNetConfig's JSON, "seed"}}.

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
from meanfield.twin_resnet import ResNetTwin, resnet_shapes  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "MeanFieldTests", "Fixtures",
                   "pytorch-twin.safetensors")
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

# (name, run config, inputs q, outputs C, batch): the ResNet blocks and feature maps.
RESNET_CASES = [
    ("resnet_tanh", dict(model="resnet", hidden_dim=5, units=4, layers=2, activation="tanh", residual_exponent=0.5,
                         seed=0), 3, 2, 4),
    ("rff_cos", dict(model="rff-resnet", hidden_dim=4, units=6, layers=2, feature_map="cos", feature_scale=0.7,
                     residual_exponent=1.0, seed=3), 3, 1, 5),
    ("rff_relu", dict(model="rff-resnet", hidden_dim=4, units=5, layers=3, feature_map="relu", residual_exponent=1.0,
                      seed=7), 2, 2, 3),
]


def swift_resnet_config(config, inputs, outputs):
    """The Swift `ResNetConfig` (Codable) of a run config."""
    result = {"inputDimension": inputs, "hiddenDimension": config["hidden_dim"], "layers": config["layers"],
              "units": config["units"], "block": "two-layer" if config["model"] == "resnet" else "random-features",
              "activation": config.get("activation", "relu"), "featureMap": config.get("feature_map", "cos"),
              "outputs": outputs, "residualExponent": config["residual_exponent"], "parametrization": PARAMETRIZATION}
    if "feature_scale" in config:
        result["featureScale"] = config["feature_scale"]
    return result


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
    for name, config, inputs_dim, outputs_dim, batch in RESNET_CASES:
        config = {**config, "precision": "float64", "task": "teacher-regression"}
        parameters = {k: 0.6 * random.standard_normal(shape)
                      for k, (shape, _) in resnet_shapes(config, inputs_dim, outputs_dim).items()}
        inputs = random.standard_normal((batch, inputs_dim))
        targets = random.standard_normal((batch, outputs_dim))
        twin = ResNetTwin(config, parameters, PARAMETRIZATION)
        risk, gradients = twin.risk_and_gradients(inputs, targets)
        for k, value in parameters.items():
            tensors[f"{name}.{k}"] = value
            tensors[f"{name}.grad.{k}"] = gradients[k].numpy()
        tensors[f"{name}.inputs"], tensors[f"{name}.targets"] = inputs, targets
        tensors[f"{name}.risk"] = np.array([risk])
        cases[name] = {"config": config, "resnet": swift_resnet_config(config, inputs_dim, outputs_dim), "seed": config["seed"]}
        print(f"{name}: R = {risk!r}")
    save_file(tensors, OUT, metadata={"cases": json.dumps(cases, sort_keys=True),
                                      "written_by": "scripts/python_twin_fixture.py", "torch": torch.__version__})
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
