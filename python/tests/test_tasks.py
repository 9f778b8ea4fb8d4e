"""meanfield.philox and meanfield.tasks against independent references: the Random123 known-answer
vectors of Philox4x32-10, the prompts the Swift binary draws (a committed fixture it checks itself),
and the initial particles of real runs (their step-0 checkpoints)."""
import json
import os

import numpy as np
import pytest
from safetensors import safe_open

import meanfield
from meanfield.philox import Philox, philox_blocks
from meanfield.images import ImageData
from meanfield.tasks import RegressionData, TeacherRegressionData
from meanfield.twin import initial_parameters
from meanfield.twin_resnet import resnet_initial_parameters

from conftest import FIXTURES


@pytest.mark.parametrize("counter, key, expected", [
    # Random123's kat_vectors for philox4x32_10: (counter words, key words, output words).
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_philox_matches_the_random123_known_answers(counter, key, expected):
    # counter = (block low, block high, stream low, stream high), key = (seed low, seed high).
    block = counter[0] | (counter[1] << 32)
    stream = counter[2] | (counter[3] << 32)
    seed = key[0] | (key[1] << 32)
    assert tuple(int(w) for w in philox_blocks(seed, stream, block, 1)[0]) == expected


def test_uniforms_lie_in_the_unit_interval_and_have_its_moments():
    for dtype in (np.float32, np.float64):
        u = Philox(7, 3).uniform((200_000,), dtype=dtype)
        assert u.dtype == dtype and u.min() >= 0 and u.max() < 1
        assert abs(u.mean() - 0.5) < 4 * (1 / 12) ** 0.5 / 200_000 ** 0.5


def test_shuffle_is_a_permutation_and_uniform_on_average():
    counts = np.zeros((5, 5))
    for stream in range(2000):
        order = Philox(1, stream).shuffled(5)
        assert sorted(order) == list(range(5))
        counts[range(5), order] += 1
    assert np.abs(counts / 2000 - 0.2).max() < 0.05        # 5 SE of a cell is 0.045


def test_prompts_equal_the_swift_fixture_bit_for_bit():
    path = os.path.join(FIXTURES, "regression-prompts.safetensors")
    with safe_open(path, framework="numpy") as handle:
        cases = json.loads(handle.metadata()["cases"])
        expected = {name: handle.get_tensor(name) for name in handle.keys()}
    checked = 0
    for name, case in cases.items():
        for dtype, tag in ((np.float32, "f32"), (np.float64, "f64")):
            if name == "teacher":
                data = TeacherRegressionData(case["config"], dtype=dtype)
                for set_name, (inputs, targets) in (("train", data.train), ("eval", data.eval)):
                    for part, value in (("inputs", inputs), ("targets", targets)):
                        assert value.tobytes() == expected[f"teacher.{tag}.{set_name}.{part}"].tobytes(), f"teacher {set_name}"
                        checked += 1
                continue
            data = RegressionData({**case["config"], "task": "icl-regression"}, dtype=dtype)
            sets = {"eval": data.eval}
            if data.train is not None:
                sets["train"] = data.train
            for step in case["steps"]:
                sets[f"batch{step}"] = data.batch(step)
            for set_name, (tokens, targets) in sets.items():
                for part, value in (("tokens", tokens), ("targets", targets)):
                    reference = expected[f"{name}.{tag}.{set_name}.{part}"]
                    assert value.dtype == reference.dtype and value.shape == reference.shape
                    assert value.tobytes() == reference.tobytes(), f"{name}.{tag}.{set_name}.{part} differs"
                    checked += 1
    assert checked == len(expected)


@pytest.mark.parametrize("name", ["euler64", "factored64", "default32", "vit64", "vit32"])
def test_initial_parameters_equal_the_step_zero_checkpoint_bit_for_bit(runs, name):
    run = meanfield.load_run(runs[name])
    theta0 = run.checkpoint(0).parameters
    regenerated = initial_parameters(run.config)
    assert set(regenerated) == set(theta0)
    for key, value in regenerated.items():
        assert value.tobytes() == theta0[key].tobytes(), key


@pytest.mark.parametrize("name", ["resnet64", "rff64", "resnet32", "resnet-images32"])
def test_resnet_initial_parameters_equal_the_step_zero_checkpoint_bit_for_bit(runs, name):
    run = meanfield.load_run(runs[name])
    theta0 = run.checkpoint(0).parameters
    inputs, outputs = (64, 4) if run.config["task"] == "synthetic-images" else (run.config["input_dim"], 1)
    regenerated = resnet_initial_parameters(run.config, inputs, outputs)
    assert set(regenerated) == set(theta0)
    for key, value in regenerated.items():
        assert value.tobytes() == theta0[key].tobytes(), key


def test_image_subsets_are_class_balanced_and_normalised(runs):
    data = ImageData.from_run(meanfield.load_run(runs["vit64"]))
    assert np.bincount(data.train_labels).tolist() == [6, 6, 6, 6] and np.bincount(data.test_labels).tolist() == [3] * 4
    assert data.train[0].shape == (24, 1, 8, 8) and data.train[0].dtype == np.float64
    pixels = data.train[0].reshape(-1)                     # normalised with the subset's own mean and std
    assert abs(pixels.mean()) < 1e-6 and abs(pixels.std() - 1) < 1e-6
    epoch = np.concatenate([data.batch(step)[1] for step in range(3)])
    assert sorted(epoch.tolist()) == sorted(data.train_labels.tolist())


def test_the_batch_order_follows_the_run(runs):
    # centred64: 12 prompts in batches of 4; every epoch's three batches are the training set, permuted.
    data = RegressionData(meanfield.load_run(runs["centred64"]).config)
    assert data.steps_per_epoch == 3
    seen = np.concatenate([data.batch(step)[1] for step in range(3, 6)])
    assert sorted(seen.tolist()) == sorted(data.train[1].tolist())
    assert not np.array_equal(seen, data.train[1])
