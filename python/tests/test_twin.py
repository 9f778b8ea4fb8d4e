"""The PyTorch twin against the Swift binary: the risks a run logged (training batch, evaluation set,
Q, the gradient norm) at every checkpoint, the engine's own gradients recovered from consecutive
Euler checkpoints, and the committed reference the Swift engines are checked against."""
import json
import os

import numpy as np
import pytest
import torch
from safetensors import safe_open

import meanfield
from meanfield.models import run_data, twin_from_checkpoint
from meanfield.twin import TransformerTwin

from conftest import FIXTURES

# Relative agreement with the logged values: float64 runs (the issue asks 1e-10; measured ~1e-15),
# float32 runs (the binary computes in float32, the twin here too: a few float32 roundings).
TOLERANCE = {"f64": 1e-10, "f32": 2e-6}


def relative(a, b):
    return abs(a - b) / abs(b)


@pytest.mark.parametrize("name", ["euler64", "factored64", "centred64", "default32", "resnet64", "rff64", "resnet32"])
def test_twin_reproduces_the_logged_risks_at_every_checkpoint(runs, name):
    run = meanfield.load_run(runs[name])
    data = run_data(run)
    tolerance = TOLERANCE[run.scalar_type]
    # A metrics line's R is the step's batch (in-context regression) or the whole training set (teacher regression).
    whole_set = run.config["task"] == "teacher-regression"
    assert run.checkpoint_steps == list(range(run.config["steps"] + 1))
    for step in run.checkpoint_steps:
        twin = twin_from_checkpoint(run.checkpoint(step))
        line = run.line(step)
        risk, gradients = twin.risk_and_gradients(*data.batch(step))
        with torch.no_grad():
            eval_risk = twin.risk(*data.eval).item()
            if whole_set:
                risk = twin.risk(*data.train).item()
        grad_norm = sum((g.double() ** 2).sum().item() for g in gradients.values()) ** 0.5
        assert relative(risk, line["R"]) <= tolerance, f"step {step}: R"
        assert relative(eval_risk, line["eval_R"]) <= tolerance, f"step {step}: eval_R"
        assert relative(twin.objective(risk), line["Q"]) <= tolerance, f"step {step}: Q"
        assert relative(grad_norm, line["grad_norm"]) <= 10 * tolerance, f"step {step}: grad_norm"
    twin = twin_from_checkpoint(run.checkpoint())
    if data.train is not None:                         # the summary's final R is on the whole training set
        with torch.no_grad():
            assert relative(twin.risk(*data.train).item(), run.summary["final"]["R"]) <= tolerance


@pytest.mark.parametrize("name", ["euler64", "resnet64", "rff64"])
def test_twin_gradients_equal_the_swift_engines_in_an_euler_run(runs, name):
    # Euler: θ_{k+1} = (1 − ηλc)θ_k − ηs∇R(θ_k) (η times ordinary_lr_scale for embeddings and
    # readouts), so the engine's ∇R is ((1 − ηλc)θ_k − θ_{k+1})/(ηs).
    run = meanfield.load_run(runs[name])
    data = run_data(run)
    lr, decay = run.config["lr"], run.config["weight_decay"]
    for step in run.checkpoint_steps[:-1]:
        before, after = run.checkpoint(step), run.checkpoint(step + 1)
        twin = twin_from_checkpoint(before)
        _, gradients = twin.risk_and_gradients(*data.batch(step))
        for key in twin.names:
            rate = lr * (1 if key.startswith("layer") else run.config["ordinary_lr_scale"])
            kept = 1 - rate * decay * twin.decay_factor(key)
            engine = (kept * before.parameters[key] - after.parameters[key]) / (rate * twin.flow_scale(key))
            ours = gradients[key].numpy()
            error = np.abs(ours - engine).max() / np.abs(engine).max()
            assert error <= 1e-10, f"step {step}, {key}: relative {error:.2e}"


def test_twin_reproduces_the_committed_reference():
    # The fixture the Swift engines check (PythonTwinReferenceTests): the twin must still compute it.
    path = os.path.join(FIXTURES, "transformer-twin.safetensors")
    with safe_open(path, framework="numpy") as handle:
        cases = json.loads(handle.metadata()["cases"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    for name, case in cases.items():
        config = case["config"]
        prefix = name + "."
        parameters = {k[len(prefix):]: v for k, v in tensors.items()
                      if k.startswith(prefix) and k[len(prefix):].startswith("layer")}
        twin = TransformerTwin(config, parameters, case["transformer"]["parametrization"])
        risk, gradients = twin.risk_and_gradients(tensors[prefix + "tokens"], tensors[prefix + "targets"])
        assert relative(risk, tensors[prefix + "risk"][0]) <= 1e-14, name
        for key, value in gradients.items():
            reference = tensors[f"{prefix}grad.{key}"]
            assert np.abs(value.numpy() - reference).max() <= 1e-14 * np.abs(reference).max(), f"{name}: {key}"


def test_a_checkpoint_of_another_model_is_refused_with_one_line():
    with pytest.raises(ValueError, match="TransformerTwin builds the mean-field Transformer only"):
        TransformerTwin({"model": "resnet", "layers": 1, "heads": 1, "input_dim": 1}, {})
    with pytest.raises(ValueError, match="the parameters lack layer0.attention.keyQuery"):
        TransformerTwin({"model": "transformer", "layers": 1, "heads": 1, "input_dim": 2}, {})
