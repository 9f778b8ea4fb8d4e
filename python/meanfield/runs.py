"""One run folder (`meanfield train --out DIR`, docs/run-format.md): config, manifest, metrics,
summary and checkpoints."""
import glob
import json
import os
import re

from . import _legacy
from ._format import RunFormatError, number, read_json, read_jsonl, require_file, run_format

#: The `format` metadata of the checkpoints this package reads.
CHECKPOINT_FORMAT = "meanfield.checkpoint.v1"
_CHECKPOINT = re.compile(r"step-(\d{8})\.safetensors$")


def table(rows):
    """A pandas DataFrame of `rows` (a list of dicts) when pandas is installed, else the list itself."""
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


class Checkpoint:
    """θ_k and the optimizer state after k updates (`checkpoints/step-NNNNNNNN.safetensors`).

    `parameters` maps each parameter name to its array (`optimizer.*` left out), `optimizer_state`
    the optimizer's tensors; `metadata` has the file's strings, with `config`, `rng`, `flow_scales`
    and `parametrization` decoded from JSON and `step`, `t`, `optimizer_updates`, `initial_R` as numbers.
    """

    def __init__(self, path, tensors, metadata):
        self.path = path
        self.metadata = metadata
        self.step = metadata["step"]
        self.t = metadata.get("t")
        self.parameters = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
        self.optimizer_state = {k: v for k, v in tensors.items() if k.startswith("optimizer.")}

    @property
    def config(self):
        """The run's config as the checkpoint recorded it."""
        return self.metadata["config"]

    @property
    def scalar_type(self):
        """`f32` or `f64`."""
        return self.metadata.get("scalar", "f32")

    def __repr__(self):
        return f"Checkpoint(step={self.step}, t={self.t}, {len(self.parameters)} parameters, {self.scalar_type})"


def read_checkpoint(path, framework="numpy"):
    """A Checkpoint from a safetensors file; tensors as NumPy arrays (`framework` "numpy") or torch tensors ("pt")."""
    from safetensors import safe_open

    with safe_open(path, framework=framework) as handle:
        raw = dict(handle.metadata() or {})
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    if raw.get("format") != CHECKPOINT_FORMAT:
        raise RunFormatError(f"{path}: checkpoint format {raw.get('format')!r}; this package reads "
                             f"{CHECKPOINT_FORMAT!r} (update it: pip install --upgrade ./python)")
    metadata = dict(raw)
    for key in ("config", "rng", "flow_scales", "parametrization"):
        if key in metadata:
            metadata[key] = json.loads(metadata[key])
    if "config" in metadata:
        metadata["config"] = _legacy.config(metadata["config"]) if any("-" in k for k in metadata["config"]) else metadata["config"]
    for key in ("step", "optimizer_updates"):
        if key in metadata:
            metadata[key] = int(metadata[key])
    for key in ("t", "initial_R"):
        if key in metadata:
            metadata[key] = float(number(metadata[key]))
    if "step" not in metadata:
        metadata["step"] = int(_CHECKPOINT.search(path).group(1))
    return Checkpoint(path, tensors, metadata)


class Run:
    """A run folder: `config`, `manifest` (and `resumes`: the manifests of resumed sessions),
    `metrics` (a pandas DataFrame when pandas is installed, else a list of dicts; ±∞ and NaN as
    floats), `summary` (None while the run has not ended), `confusion` (image runs), and the
    checkpoints by step (`checkpoint_steps`, `checkpoint(step)`)."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        if not os.path.isdir(self.path):
            raise RunFormatError(f"{path}: no such folder (give a folder that `meanfield train --out` wrote)")
        manifest = read_json(require_file(self.path, "manifest.json", "a meanfield run folder"))
        self.run_format = run_format(manifest, path)
        legacy = self.run_format == 1
        self.manifest = _legacy.manifest(manifest) if legacy else manifest
        config = read_json(require_file(self.path, "config.json", "a meanfield run folder"))
        self.config = _legacy.config(config) if legacy else config
        self.resumes = [read_json(p) for p in sorted(glob.glob(os.path.join(self.path, "manifest-resume-step-*.json")))]
        metrics_path = os.path.join(self.path, "metrics.jsonl")
        lines = read_jsonl(metrics_path) if os.path.isfile(metrics_path) else []
        if legacy:
            lines = [_legacy.metrics_line(line) for line in lines]
        self.metric_lines = lines
        self.metrics = table(lines)
        summary_path = os.path.join(self.path, "summary.json")
        self.summary = None
        if os.path.isfile(summary_path):
            summary = read_json(summary_path)
            self.summary = _legacy.summary(summary, self.config, lines) if legacy else summary
        confusion_path = os.path.join(self.path, "confusion.json")
        self.confusion = read_json(confusion_path) if os.path.isfile(confusion_path) else None
        self._checkpoints = {}
        for file in glob.glob(os.path.join(self.path, "checkpoints", "step-*.safetensors")):
            match = _CHECKPOINT.search(file)
            if match:
                self._checkpoints[int(match.group(1))] = file

    @property
    def name(self):
        """The folder's name."""
        return os.path.basename(self.path)

    @property
    def scalar_type(self):
        """`f32` or `f64`: the run's precision and its checkpoints' dtype."""
        return self.manifest.get("scalar_type", "f32")

    @property
    def checkpoint_steps(self):
        """The steps k with a checkpoint θ_k, ascending."""
        return sorted(self._checkpoints)

    def checkpoint(self, step=None, framework="numpy"):
        """The checkpoint of `step` (None: the last), tensors as NumPy arrays or torch tensors (`framework="pt"`)."""
        if not self._checkpoints:
            raise RunFormatError(f"{self.path}: no checkpoints (train with --checkpoint-every N to write them)")
        step = self.checkpoint_steps[-1] if step is None else step
        if step not in self._checkpoints:
            raise KeyError(f"{self.path}: no checkpoint of step {step}; it has steps {self.checkpoint_steps}")
        return read_checkpoint(self._checkpoints[step], framework)

    def checkpoints(self, framework="numpy"):
        """Every checkpoint, {step: Checkpoint}, loaded now."""
        return {step: self.checkpoint(step, framework) for step in self.checkpoint_steps}

    def metric(self, key):
        """[(step, value)] of the metrics lines that have `key`."""
        return [(line["step"], line[key]) for line in self.metric_lines if key in line]

    def line(self, step):
        """The metrics line of `step` (a dict), KeyError when the run did not log it."""
        for line in self.metric_lines:
            if line.get("step") == step:
                return line
        raise KeyError(f"{self.path}: no metrics line of step {step}")

    def __repr__(self):
        status = self.summary.get("status") if self.summary else "running"
        return f"Run({self.name!r}, {self.config.get('task')}, {self.config.get('model')}, {status}, {len(self.metric_lines)} metrics lines)"


def load_run(path):
    """The run folder at `path` (a `Run`); RunFormatError, one line, for a folder this package does not read."""
    return Run(path)
