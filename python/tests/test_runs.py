"""load_run and load_sweep on real folders written by the binary during the session, on the committed
format-1 folders, and the one-line errors for folders they do not read."""
import json
import math
import os
import shutil

import numpy as np
import pytest

import meanfield
from meanfield import RunFormatError
from meanfield.twin import parameter_names

from conftest import FIXTURES


def test_a_run_folder_round_trips(runs):
    folder = runs["euler64"]
    run = meanfield.load_run(folder)
    with open(os.path.join(folder, "config.json")) as handle:
        assert run.config == json.load(handle)
    assert run.run_format == 2 and run.manifest["run_format"] == 2 and run.scalar_type == "f64"
    assert run.manifest["seed"] == run.config["seed"] == 0
    with open(os.path.join(folder, "metrics.jsonl")) as handle:
        lines = [json.loads(line) for line in handle]
    assert len(run.metric_lines) == len(lines) == run.config["steps"] + 1
    assert [line["step"] for line in run.metric_lines] == list(range(run.config["steps"] + 1))
    assert run.metric("R") == [(line["step"], line["R"]) for line in lines]
    assert run.summary["status"] == "completed" and run.summary["completed_steps"] == run.config["steps"]
    assert run.summary["initial"]["R"] == lines[0]["R"]


def test_metrics_are_a_data_frame_with_pandas():
    pandas = pytest.importorskip("pandas")
    run = meanfield.load_run(os.path.join(FIXTURES, "legacy-run-format", "icl-regression"))
    assert isinstance(run.metrics, pandas.DataFrame)
    assert list(run.metrics["step"]) == [line["step"] for line in run.metric_lines]


def test_checkpoints_hold_the_documented_tensors(runs):
    run = meanfield.load_run(runs["factored64"])
    config = run.config
    checkpoint = run.checkpoint(2)
    assert checkpoint.step == 2 and checkpoint.scalar_type == "f64"
    assert checkpoint.config == config
    assert math.isclose(checkpoint.t, run.line(2)["t"], rel_tol=0, abs_tol=1e-15)
    assert sorted(checkpoint.parameters) == sorted(parameter_names(config))
    D, M, width, units = config["token_dim"], config["heads"], config["head_dim"], config["ffn_units"]
    assert checkpoint.parameters["layer2.attention.query"].shape == (M, width, D)
    assert checkpoint.parameters["layer0.attention.output"].shape == (M, D, width)
    assert checkpoint.parameters["layer1.ffn.bias"].shape == (units,)
    assert all(v.dtype == np.float64 for v in checkpoint.parameters.values())
    assert checkpoint.metadata["parametrization"]["head_scaling"] == "sqrt"
    assert checkpoint.metadata["rng"]["task"]["next_batch"]["kind"] == "fresh"
    torch = pytest.importorskip("torch")
    as_torch = run.checkpoint(2, framework="pt")
    for name, value in checkpoint.parameters.items():
        assert isinstance(as_torch.parameters[name], torch.Tensor)
        assert np.array_equal(as_torch.parameters[name].numpy(), value)


def test_optimizer_state_is_kept_apart(runs):
    checkpoint = meanfield.load_run(runs["default32"]).checkpoint()
    assert checkpoint.scalar_type == "f32"
    assert set(checkpoint.optimizer_state) == {f"optimizer.adam_{m}.{n}" for m in "mv" for n in checkpoint.parameters}


def test_format_one_folders_read_in_the_format_two_spelling():
    legacy = os.path.join(FIXTURES, "legacy-run-format")
    run = meanfield.load_run(os.path.join(legacy, "diverged-inf"))
    assert run.run_format == 1 and run.manifest["scalar_type"] == "f32" and "git_commit" in run.manifest
    assert run.config["ffn_units"] == 4 and run.config["init_std"] == 0.5
    assert run.summary["final"]["R"] == math.inf and run.summary["final"]["eval_R"] == math.inf
    assert run.summary["initial"]["R"] == run.metric_lines[0]["R"]
    assert run.summary["total_steps"] == 20 and run.summary["status"] == "diverged"
    nan = meanfield.load_run(os.path.join(legacy, "diverged-nan"))
    assert math.isnan(nan.summary["final"]["Q"])
    image = meanfield.load_run(os.path.join(legacy, "image"))
    assert "train_seconds" in image.metric_lines[1] and "epoch_seconds" not in image.metric_lines[1]


def test_a_newer_format_is_refused_with_one_line(runs, tmp_path):
    folder = tmp_path / "future"
    shutil.copytree(runs["default32"], folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["run_format"] = 3
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunFormatError) as error:
        meanfield.load_run(folder)
    message = str(error.value)
    assert "written in run format 3" in message and "reads formats 1–2" in message and "\n" not in message


def test_a_folder_that_is_not_a_run_is_refused_with_one_line(tmp_path):
    with pytest.raises(RunFormatError, match="no manifest.json, so it is not a meanfield run folder"):
        meanfield.load_run(tmp_path)
    with pytest.raises(RunFormatError, match="no sweep.json, so it is not a meanfield sweep folder"):
        meanfield.load_sweep(tmp_path)
    with pytest.raises(RunFormatError, match="no such folder"):
        meanfield.load_run(tmp_path / "absent")


def test_a_missing_checkpoint_names_the_steps_there_are(runs):
    run = meanfield.load_run(runs["default32"])
    with pytest.raises(KeyError, match=r"no checkpoint of step 99; it has steps \[0, 1, 2, 3, 4\]"):
        run.checkpoint(99)


def test_a_sweep_folder_round_trips(sweep):
    loaded = meanfield.load_sweep(sweep)
    assert list(loaded.runs) == ["heads-2", "heads-4"] and loaded.missing == []
    rows = {row["name"]: row for row in loaded.summary_rows}
    for name, run in loaded.runs.items():
        assert run.config["heads"] == int(loaded.flags(name)["heads"]) == rows[name]["heads"]
        assert rows[name]["R"] == run.summary["final"]["R"]
        assert rows[name]["eval_R"] == run.summary["final"]["eval_R"]
        assert run.checkpoint_steps == [0, 3]
    assert loaded.diagnostics is not None
    linearization = loaded.diagnostics["linearization"]
    assert {entry["run"] for entry in linearization} == {"heads-2", "heads-4"}
