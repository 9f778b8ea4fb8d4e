"""The data a run saw, regenerated from its seed (docs/run-format.md; `Sources/MeanFieldModels/Tasks`,
`Sources/MeanFieldTraining/Training/RegressionData.swift`).

In-context regression (theory §1.1): prompts of N examples x_i ~ N(0, I_d), y_i = w·x_i + ε_i with
w ~ N(0, I_d) per prompt and ε_i ~ N(0, noise²), and a query x_q. Every set is a pure function of the
seed and a Philox stream, drawn in the run's precision, bit for bit as the Swift binary drew it:
the fixed training set from stream 1,000,000, the evaluation set from stream 1,000,001, the
mini-batch order of epoch e from stream 2⁴⁰ + e, and fresh prompts of step k from stream 2⁴¹ + k.
"""
import math

import numpy as np

from .philox import Philox

TRAIN_STREAM = 1_000_000
EVAL_STREAM = 1_000_001
ORDER_STREAM_BASE = 1 << 40
FRESH_STREAM_BASE = 1 << 41


def run_dtype(config):
    """The NumPy dtype of a run's config (`precision`: float32 or float64)."""
    return np.float64 if config.get("precision", "float32") == "float64" else np.float32


class _FixedSetBatches:
    """Mini-batches of a fixed training set `train` (regression runs): the whole set when
    `batch_size` covers it, else slice k mod S of the permutation of epoch ⌊k/S⌋ (stream 2⁴⁰ + epoch,
    Swift's `shuffled(using:)`), the last partial batch dropped."""

    def _permuted_batch(self, step):
        count = len(self.train[1])
        if self.batch_size >= count:
            return self.train
        epoch, position = divmod(step, self.steps_per_epoch)
        if getattr(self, "_order", None) is None or self._order[0] != epoch:
            self._order = (epoch, Philox(self.seed, ORDER_STREAM_BASE + epoch).shuffled(count))
        indices = self._order[1][position * self.batch_size:(position + 1) * self.batch_size]
        return self.train[0][indices], self.train[1][indices]


class InContextRegression:
    """The prompt generator (`InContextRegression.swift`): tokens [B, D, N+1] with columns (x_i, y_i)
    and a last column (x_q, 0), rows d+1…D−1 zero; targets y_q [B]."""

    def __init__(self, input_dim, examples, noise=0.0, token_dim=None):
        self.input_dim, self.examples, self.noise = input_dim, examples, noise
        self.token_dim = input_dim + 1 if token_dim is None else token_dim
        if self.token_dim < input_dim + 1:
            raise ValueError(f"token_dim {self.token_dim} must be ≥ input_dim + 1 = {input_dim + 1}")

    @classmethod
    def from_config(cls, config):
        """The task of a run's config (keys `input_dim`, `examples`, `noise`, `token_dim`)."""
        return cls(config["input_dim"], config["examples"], config.get("noise", 0.0), config.get("token_dim"))

    @property
    def label_row(self):
        """Row d of the label coordinate, which the regression readout reads from the last token."""
        return self.input_dim

    def sample(self, count, random, dtype=np.float32):
        """`count` prompts from the generator `random` (a `Philox`): x's, then w's, then noise."""
        d, n, D = self.input_dim, self.examples + 1, self.token_dim
        inputs = random.normal((count, n, d), dtype=dtype)
        weights = random.normal((count, d), dtype=dtype)
        noise = random.normal((count, n), std=self.noise, dtype=dtype)
        labels = noise.copy()
        for k in range(d):                                   # the Swift loop's order of additions
            labels = labels + weights[:, k:k + 1] * inputs[:, :, k]
        tokens = np.zeros((count, D, n), dtype=dtype)
        tokens[:, :d, :] = inputs.transpose(0, 2, 1)
        tokens[:, d, :self.examples] = labels[:, :self.examples]
        return tokens, labels[:, self.examples].copy()


class RegressionData(_FixedSetBatches):
    """The prompts of an in-context-regression run (`RegressionData.swift`): `train` (the fixed
    training set, None with fresh prompts), `eval` (the evaluation set) and `batch(step)`, each a
    pair (tokens [B, D, N+1], targets [B]) in the run's precision."""

    def __init__(self, config, dtype=None):
        if config.get("task", "icl-regression") != "icl-regression":
            raise ValueError(f"task {config.get('task')!r}: RegressionData regenerates icl-regression prompts only")
        self.task = InContextRegression.from_config(config)
        self.seed = int(config.get("seed", 0))
        self.dtype = dtype or run_dtype(config)
        train_size = config.get("train_size", 16)
        batch = config.get("batch_size", 0)
        self.batch_size = train_size if batch == 0 else batch
        self.train = self.task.sample(train_size, Philox(self.seed, TRAIN_STREAM), self.dtype) if train_size > 0 else None
        self.eval = self.task.sample(config.get("eval_size", 64), Philox(self.seed, EVAL_STREAM), self.dtype)

    @classmethod
    def from_run(cls, run):
        """The data of a `Run` (its config.json)."""
        return cls(run.config)

    @property
    def steps_per_epoch(self):
        """Steps per pass over the training set (the last partial batch dropped)."""
        return 1 if self.train is None else max(1, len(self.train[1]) // self.batch_size)

    def eval_sample(self, count):
        """`count` prompts drawn from the evaluation stream as `meanfield diagnose --eval-size count` draws
        them: `eval` itself when `count` is the run's `eval_size` (another count draws other prompts:
        x's, w's and noise each take one tensor-sized draw)."""
        return self.task.sample(count, Philox(self.seed, EVAL_STREAM), self.dtype)

    def batch(self, step):
        """The batch of training step `step`: what the run's R at that step was measured on."""
        if self.train is None:
            return self.task.sample(self.batch_size, Philox(self.seed, FRESH_STREAM_BASE + step), self.dtype)
        return self._permuted_batch(step)


TEACHER_UNITS = 16
TEACHER_STREAM = 2_000_000
TEACHER_TRAIN_STREAM = 2_000_001
TEACHER_EVAL_STREAM = 2_000_002


class TeacherRegressionData(_FixedSetBatches):
    """The points of a teacher-regression run (`TeacherRegression.swift`, `TeacherRegressionTask.swift`):
    x ~ N(0, I_d), y = (1/√K) Σ_k a_k tanh(⟨w_k, x⟩ + c_k) + noise·ε with a fixed teacher (K = 16,
    stream 2,000,000), the training set from stream 2,000,001, the evaluation set from 2,000,002,
    drawn in float64 and then rounded to the run's precision. `train` and `eval` are (inputs [n, d],
    targets [n, 1]); `batch(step)` the points of a training step (a permutation's slice with
    `batch_size` < `train_size`)."""

    def __init__(self, config, dtype=None):
        if config.get("task") != "teacher-regression":
            raise ValueError(f"task {config.get('task')!r}: TeacherRegressionData regenerates teacher-regression points only")
        self.seed, self.dtype = int(config.get("seed", 0)), dtype or run_dtype(config)
        self.input_dim, self.noise = config["input_dim"], config.get("noise", 0.0)
        teacher = Philox(self.seed, TEACHER_STREAM)
        d = self.input_dim
        self.weights = teacher.normal((TEACHER_UNITS, d), std=math.sqrt(2 / d), dtype=np.float64)
        self.biases = teacher.normal((TEACHER_UNITS,), std=0.5, dtype=np.float64)
        self.outputs = teacher.normal((TEACHER_UNITS,), dtype=np.float64)
        self.train = self.sample(config["train_size"], Philox(self.seed, TEACHER_TRAIN_STREAM))
        self.eval = self.sample(config["eval_size"], Philox(self.seed, TEACHER_EVAL_STREAM))
        batch = config.get("batch_size", 0)
        self.batch_size = config["train_size"] if batch == 0 else batch
        self.steps_per_epoch = max(1, config["train_size"] // self.batch_size)

    @classmethod
    def from_run(cls, run):
        """The data of a `Run`."""
        return cls(run.config)

    def teacher(self, x):
        """The noiseless teacher at the float64 points x [n, d] (the Swift loop's order of operations)."""
        total = np.zeros(len(x))
        for k in range(TEACHER_UNITS):
            z = np.full(len(x), self.biases[k])
            for j in range(self.input_dim):
                z = z + self.weights[k, j] * x[:, j]
            total = total + self.outputs[k] * np.array([math.tanh(v) for v in z.tolist()])
        return total / math.sqrt(TEACHER_UNITS)

    def sample(self, count, random):
        """`count` points from the generator `random`: inputs, then the noise draws."""
        x = random.normal((count, self.input_dim), dtype=np.float64)
        noise = random.normal((count,), dtype=np.float64)
        y = self.teacher(x) + self.noise * noise
        return x.astype(self.dtype), y.reshape(count, 1).astype(self.dtype)

    def batch(self, step):
        """The points of training step `step`."""
        return self._permuted_batch(step)
