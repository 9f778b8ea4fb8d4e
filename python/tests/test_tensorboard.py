"""The TensorBoard events every run writes (docs/run-format.md, "tensorboard/"), read with the
`tensorboard` package itself: tags and values against the run's metrics.jsonl, and a resumed run
whose events files hold every logged step once."""
import json
import os
import subprocess

import numpy as np
import pytest

from conftest import train

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
event_file_loader = pytest.importorskip("tensorboard.backend.event_processing.event_file_loader")

# metrics.jsonl key -> tag (the table of docs/run-format.md).
TAGS = {"R": "train/risk", "Q": "train/objective", "eval_R": "eval/risk", "batch_loss": "train/batch_loss",
        "lr": "optim/lr", "param_norm": "optim/param_norm", "grad_norm": "optim/grad_norm", "t": "time/mean_field_t",
        "train_loss": "train/loss", "train_acc": "train/accuracy", "test_loss": "eval/loss", "test_acc": "eval/accuracy",
        "epoch": "time/epoch", "train_seconds": "time/train_seconds", "ntk_lambda_min": "ntk/lambda_min",
        "ntk_lambda_max": "ntk/lambda_max", "pl_constant": "ntk/pl_constant", "dissipation_rate": "ntk/dissipation_rate"}
LISTS = {"spread_attention": "spread/attention", "spread_ffn": "spread/ffn"}


def metric_lines(folder):
    with open(os.path.join(folder, "metrics.jsonl")) as handle:
        return [json.loads(line) for line in handle]


def expected_scalars(folder):
    """{tag: [(step, float32 value)]} from metrics.jsonl, every key mapped."""
    expected = {}
    for line in metric_lines(folder):
        for key, value in line.items():
            if key == "step":
                continue
            values = value if isinstance(value, list) else [value]
            for layer, entry in enumerate(values):
                tag = f"{LISTS[key]}/layer_{layer}" if isinstance(value, list) else TAGS[key]
                expected.setdefault(tag, []).append((line["step"], float(np.float32(float(entry)))))
    return expected


def accumulated(folder):
    """The run's scalars as TensorBoard reads its tensorboard/ folder: {tag: [(step, value)]}."""
    accumulator = event_accumulator.EventAccumulator(os.path.join(folder, "tensorboard"),
                                                     size_guidance={event_accumulator.SCALARS: 0}).Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def raw_summary_steps(folder):
    """The steps of the summary events in each events file, file by file in name order."""
    directory = os.path.join(folder, "tensorboard")
    steps = []
    for name in sorted(os.listdir(directory)):
        assert name.startswith("events.out.tfevents.")
        events = list(event_file_loader.EventFileLoader(os.path.join(directory, name)).Load())
        assert events[0].file_version == "brain.Event:2"
        steps.append([event.step for event in events if event.HasField("summary")])
    return steps


@pytest.mark.parametrize("flags", [
    ["--precision", "float64", "--steps", "6", "--log-every", "2", "--heads", "3", "--ffn-units", "5", "--eval-size", "16"],
    ["--task", "teacher-regression", "--model", "resnet", "--steps", "4", "--log-every", "1", "--layers", "2", "--units", "6",
     "--hidden-dim", "4", "--input-dim", "3", "--train-size", "10", "--eval-size", "16"],
    ["--task", "synthetic-images", "--epochs", "2", "--subset", "16", "--test-subset", "8", "--batch-size", "8",
     "--token-dim", "8", "--heads", "2", "--ffn-units", "4", "--layers", "1", "--patch", "4"],
], ids=["icl-regression", "resnet", "vit"])
def test_tensorboard_reads_the_metrics_of_every_task(binary, tmp_path, flags):
    folder = train(binary, tmp_path / "run", *flags)
    expected, read = expected_scalars(folder), accumulated(folder)
    assert sorted(read) == sorted(expected)
    for tag, points in expected.items():
        assert read[tag] == points, tag
    assert "train/objective" in read and "optim/lr" in read and "time/mean_field_t" in read


def test_a_resumed_run_has_each_step_once(binary, tmp_path):
    flags = ["--steps", "10", "--log-every", "2", "--checkpoint-every", "4", "--heads", "2", "--ffn-units", "4", "--eval-size", "16"]
    folder = train(binary, tmp_path / "run", *flags)
    # Resume from step 8 (the newest checkpoint left): steps 8 and 10 are trained and logged again.
    os.remove(os.path.join(folder, "checkpoints", "step-00000010.safetensors"))
    subprocess.run([binary, "train", "--resume", folder, "--threads", "1"], check=True, capture_output=True)
    files = raw_summary_steps(folder)
    assert files == [[0, 2, 4, 6], [8, 10]]
    steps = [step for file in files for step in file]
    assert steps == [line["step"] for line in metric_lines(folder)]
    expected, read = expected_scalars(folder), accumulated(folder)
    assert read == expected


def test_no_tensorboard_writes_no_events(binary, tmp_path):
    folder = train(binary, tmp_path / "run", "--steps", "2", "--heads", "2", "--ffn-units", "4", "--no-tensorboard")
    assert os.path.exists(os.path.join(folder, "metrics.jsonl"))
    assert not os.path.exists(os.path.join(folder, "tensorboard"))
