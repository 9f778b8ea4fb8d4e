"""Shared fixtures: the meanfield binary and real run folders it writes during the test session.

The binary is `$MEANFIELD_BIN` when set, else the repository's `.build/release/meanfield`, else
`.build/debug/meanfield`; when none exists the session builds the debug one (`swift build --product
meanfield`, a few minutes in a fresh clone). In CI, `.ci/run` has built it already with `swift build`.
"""
import os
import shutil
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "Tests", "MeanFieldTests", "Fixtures")


def meanfield_binary():
    """The path of the meanfield binary the tests run (see the module's documentation)."""
    given = os.environ.get("MEANFIELD_BIN")
    if given:
        if not os.access(given, os.X_OK):
            raise RuntimeError(f"MEANFIELD_BIN={given} is not an executable; build it with `swift build` or unset it")
        return given
    for configuration in ("release", "debug"):
        path = os.path.join(REPO, ".build", configuration, "meanfield")
        if os.access(path, os.X_OK):
            return path
    if shutil.which("swift") is None:
        raise RuntimeError("no meanfield binary and no swift to build it: run `swift build` or set MEANFIELD_BIN")
    subprocess.run(["swift", "build", "--product", "meanfield"], cwd=REPO, check=True)
    return os.path.join(REPO, ".build", "debug", "meanfield")


@pytest.fixture(scope="session")
def binary():
    return meanfield_binary()


def train(binary, folder, *flags):
    """Runs `meanfield train --out folder flags…` (one thread) and returns the folder."""
    command = [binary, "train", "--out", str(folder), "--threads", "1", *map(str, flags)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return str(folder)


# The runs the tests read: each checkpoints and logs every step, so that every step is checkable.
RUNS = {
    # float64, Euler with weight decay: ∇R of each step is (θ_k(1 − ηλc) − θ_{k+1})/(ηs) from two checkpoints.
    "euler64": ["--precision", "float64", "--optimizer", "euler", "--lr", "0.05", "--weight-decay", "0.01",
                "--steps", "4", "--heads", "3", "--ffn-units", "5", "--temperature", "0.8", "--noise", "0.1"],
    # float64, every non-default option, fresh prompts each step, the autodiff engine.
    "factored64": ["--precision", "float64", "--optimizer", "euler", "--lr", "0.05", "--steps", "3",
                   "--attention", "factored", "--head-dim", "3", "--score", "relu", "--activation", "gelu",
                   "--pre-norm", "--residual-exponent", "0.5", "--head-scaling", "sqrt", "--layers", "3",
                   "--input-dim", "2", "--token-dim", "4", "--examples", "5", "--train-size", "0", "--batch-size", "6",
                   "--engine", "autodiff"],
    # float64, mini-batches of a permuted training set, the centred output (f − f₀)/γ₀, momentum SGD.
    "centred64": ["--precision", "float64", "--optimizer", "sgd", "--lr", "0.01", "--steps", "5", "--gamma0", "2",
                  "--train-size", "12", "--batch-size", "4", "--activation", "silu", "--temperature", "2"],
    # float32, full batch, the default flags but AdamW (the optimizer-state test reads its moments).
    "default32": ["--optimizer", "adamw", "--steps", "4", "--heads", "6", "--ffn-units", "6"],
    # The ResNets on teacher regression: float64 Euler with decay (two-layer and random-feature
    # blocks), and float32 mini-batches with the centred output.
    "resnet64": ["--task", "teacher-regression", "--model", "resnet", "--precision", "float64", "--optimizer", "euler",
                 "--weight-decay", "0.01", "--steps", "3", "--layers", "3", "--units", "8", "--hidden-dim", "6",
                 "--input-dim", "4", "--train-size", "20", "--residual-exponent", "0.5"],
    "rff64": ["--task", "teacher-regression", "--model", "rff-resnet", "--precision", "float64", "--optimizer", "euler",
              "--steps", "3", "--layers", "2", "--units", "10", "--hidden-dim", "5", "--input-dim", "3",
              "--train-size", "15", "--noise", "0.1"],
    "resnet32": ["--task", "teacher-regression", "--model", "resnet", "--steps", "3", "--layers", "3", "--units", "8",
                 "--hidden-dim", "6", "--input-dim", "4", "--train-size", "20", "--batch-size", "5", "--gamma0", "2"],
    # Image classification on synthetic-images (generated from the seed): a float64 ViT with a class
    # token (Euler, decay: gradients recoverable), a float32 ViT with mean pooling and the centred
    # output, a float32 ResNet on flattened images. Class-balanced subsets, mini-batches over 2 epochs.
    "vit64": ["--task", "synthetic-images", "--precision", "float64", "--optimizer", "euler", "--lr", "0.05",
              "--weight-decay", "0.01", "--epochs", "2", "--subset", "24", "--test-subset", "12", "--batch-size", "8",
              "--token-dim", "8", "--heads", "2", "--ffn-units", "4", "--layers", "2", "--patch", "4", "--class-token"],
    "vit32": ["--task", "synthetic-images", "--epochs", "1", "--subset", "24", "--test-subset", "12", "--batch-size", "8",
              "--token-dim", "8", "--heads", "3", "--head-dim", "4", "--ffn-units", "4", "--layers", "2", "--patch", "2",
              "--gamma0", "2"],
    "resnet-images32": ["--task", "synthetic-images", "--model", "resnet", "--epochs", "1", "--subset", "24",
                        "--test-subset", "12", "--batch-size", "8", "--units", "6", "--hidden-dim", "5", "--layers", "2"],
}


@pytest.fixture(scope="session")
def runs(binary, tmp_path_factory):
    """{name: folder} of the runs in RUNS, written once per session."""
    root = tmp_path_factory.mktemp("runs")
    return {name: train(binary, root / name, "--log-every", "1", "--checkpoint-every", "1",
                        *([] if "synthetic-images" in flags else ["--eval-size", "16"]), *flags)
            for name, flags in RUNS.items()}


@pytest.fixture(scope="session")
def sweep(binary, tmp_path_factory):
    """A two-run sweep folder (heads 2 and 4), float64."""
    folder = tmp_path_factory.mktemp("sweep") / "width"
    command = [binary, "sweep", "--heads", "2,4", "--steps", "3", "--precision", "float64", "--checkpoint-every", "3",
               "--out", str(folder), "--parallel", "1", "--threads-per-run", "1"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return str(folder)


FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


@pytest.fixture(scope="session")
def fashion_run(binary, tmp_path_factory):
    """A float64 ViT run on class-balanced subsets of Fashion-MNIST (CI installs dataset-fashion-mnist)."""
    if not os.path.isdir(FASHION_MNIST):
        pytest.skip(f"Fashion-MNIST is not in {FASHION_MNIST} (apt install dataset-fashion-mnist)")
    return train(binary, tmp_path_factory.mktemp("fashion") / "vit", "--task", "fashion-mnist", "--precision", "float64",
                 "--epochs", "1", "--subset", "30", "--test-subset", "20", "--batch-size", "10", "--token-dim", "8",
                 "--heads", "2", "--ffn-units", "4", "--layers", "1", "--patch", "7", "--log-every", "1",
                 "--checkpoint-every", "1")
