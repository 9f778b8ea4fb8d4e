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
from meanfield.twin_resnet import ResNetTwin

from conftest import FIXTURES

# Relative agreement with the logged values: float64 runs (the issue asks 1e-10; measured ~1e-15),
# float32 runs (the binary computes in float32, the twin here too: a few float32 roundings).
TOLERANCE = {"f64": 1e-10, "f32": 2e-6}


def relative(a, b):
    return abs(a - b) / abs(b)


def twin_values(twin, data, run, step):
    """What the run logged at `step`, computed by the twin: {metric: value}."""
    task = run.config["task"]
    batch_risk, gradients = twin.risk_and_gradients(*data.batch(step))
    values = {"grad_norm": sum((g.double() ** 2).sum().item() for g in gradients.values()) ** 0.5}
    with torch.no_grad():
        if task == "icl-regression":                 # R is the step's batch
            values.update(R=batch_risk, eval_R=twin.risk(*data.eval).item())
        elif task == "teacher-regression":           # R is the whole training set
            values.update(R=twin.risk(*data.train).item(), eval_R=twin.risk(*data.eval).item())
        else:
            images, labels = data.test
            logits = twin.predict(images) if hasattr(twin, "predict") else twin(images)
            values.update(train_loss=twin.risk(*data.train).item(), test_loss=twin.risk(images, labels).item(),
                          test_acc=float((logits.argmax(1).numpy() == labels).mean()))
    values["Q"] = twin.objective(values.get("R", values.get("train_loss")))
    return values


@pytest.mark.parametrize("name", ["euler64", "factored64", "centred64", "default32", "resnet64", "rff64", "resnet32",
                                  "vit64", "vit32", "resnet-images32"])
def test_twin_reproduces_the_logged_values_at_every_checkpoint(runs, name):
    run = meanfield.load_run(runs[name])
    data = run_data(run)
    tolerance = TOLERANCE[run.scalar_type]
    assert run.checkpoint_steps == list(range(run.summary["total_steps"] + 1))
    for step in run.checkpoint_steps:
        twin = twin_from_checkpoint(run.checkpoint(step))
        line = run.line(step)
        for key, value in twin_values(twin, data, run, step).items():
            if key == "test_acc":
                assert value == line[key], f"step {step}: test_acc"
            else:
                scale = 10 if key == "grad_norm" else 1
                assert relative(value, line[key]) <= scale * tolerance, f"step {step}: {key} {value} vs {line[key]}"
    if run.config["task"] != "icl-regression" or data.train is not None:
        twin = twin_from_checkpoint(run.checkpoint())
        key = "R" if "regression" in run.config["task"] else "train_loss"
        with torch.no_grad():                          # the summary's final value is on the whole training set
            assert relative(twin.risk(*data.train).item(), run.summary["final"][key]) <= tolerance


@pytest.mark.parametrize("name", ["euler64", "resnet64", "rff64", "vit64"])
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
            scale = max(np.abs(engine).max(), np.abs(ours).max())   # 0: both vanish (a zero readout's inputs)
            error = np.abs(ours - engine).max() / scale if scale > 0 else 0.0
            assert error <= 1e-10, f"step {step}, {key}: relative {error:.2e}"


def test_twin_reproduces_the_committed_reference():
    # The fixture the Swift engines check (PythonTwinReferenceTests): the twin must still compute it.
    path = os.path.join(FIXTURES, "pytorch-twin.safetensors")
    with safe_open(path, framework="numpy") as handle:
        cases = json.loads(handle.metadata()["cases"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    assert {"transformer" in case for case in cases.values()} == {True, False}     # both kinds of model
    for name, case in cases.items():
        config = case["config"]
        prefix = name + "."
        parameters = {k[len(prefix):]: v for k, v in tensors.items()
                      if k.startswith(prefix) and not k[len(prefix):].startswith(("grad.", "tokens", "inputs", "targets", "risk"))}
        if "transformer" in case:
            twin = TransformerTwin(config, parameters, case["transformer"]["parametrization"])
            inputs = tensors[prefix + "tokens"]
        else:
            twin = ResNetTwin(config, parameters, case["resnet"]["parametrization"])
            inputs = tensors[prefix + "inputs"]
        risk, gradients = twin.risk_and_gradients(inputs, tensors[prefix + "targets"])
        assert relative(risk, tensors[prefix + "risk"][0]) <= 1e-14, name
        for key, value in gradients.items():
            reference = tensors[f"{prefix}grad.{key}"]
            assert np.abs(value.numpy() - reference).max() <= 1e-14 * np.abs(reference).max(), f"{name}: {key}"


def test_a_checkpoint_of_another_model_is_refused_with_one_line():
    with pytest.raises(ValueError, match="TransformerTwin builds the mean-field Transformer only"):
        TransformerTwin({"model": "resnet", "layers": 1, "heads": 1, "input_dim": 1}, {})
    with pytest.raises(ValueError, match="the parameters lack layer0.attention.keyQuery"):
        TransformerTwin({"model": "transformer", "layers": 1, "heads": 1, "input_dim": 2}, {})


def test_twin_reproduces_a_fashion_mnist_run(fashion_run):
    run = meanfield.load_run(fashion_run)
    data = run_data(run)                               # the IDX files of /usr/share/datasets/fashion-mnist
    assert np.bincount(data.test_labels).tolist() == [2] * 10
    for step in run.checkpoint_steps:
        twin = twin_from_checkpoint(run.checkpoint(step))
        line = run.line(step)
        for key, value in twin_values(twin, data, run, step).items():
            assert (value == line[key]) if key == "test_acc" else relative(value, line[key]) <= 10 * TOLERANCE["f64"], key
