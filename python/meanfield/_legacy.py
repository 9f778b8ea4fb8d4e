"""Format-1 run folders (before `run_format`) read in the format-2 spelling (docs/run-format.md, "Format 1")."""
import math

from ._format import snake

# Format-1 summary keys → (section, format-2 key); section None is a top-level key.
_SUMMARY = {
    "initialTrainRisk": ("initial", "R"), "finalTrainRisk": ("final", "R"), "finalObjective": ("final", "Q"),
    "finalEvalRisk": ("final", "eval_R"), "finalTrainLoss": ("final", "train_loss"),
    "finalTrainAccuracy": ("final", "train_acc"), "finalTestLoss": ("final", "test_loss"),
    "finalTestAccuracy": ("final", "test_acc"), "meanFieldTime": (None, "mean_field_time"),
    "resumedFromEpoch": (None, "resumed_from_step"),
}
_TASK_KEYS = ("R", "Q", "eval_R", "train_loss", "train_acc", "test_loss", "test_acc")


def config(raw):
    """Kebab-case keys → snake_case; image runs' epoch cadences renamed as format 2 reads them."""
    result = {snake(k): v for k, v in raw.items()}
    if result.get("task", "icl-regression") not in ("icl-regression", "teacher-regression") and result.get("epochs", 0) > 0:
        for key in ("log_every", "checkpoint_every"):
            if key in result:
                result[key + "_epochs"] = result.pop(key)
    return result


def manifest(raw):
    """camelCase keys → snake_case, `run_format` 1."""
    result = {snake(k): v for k, v in raw.items()}
    result["run_format"] = 1
    return result


def summary(raw, config, metrics):
    """The per-task camelCase summary → the format-2 object (missing facts NaN)."""
    result = {"initial": {}, "final": {}, "seconds_per_step": math.nan}
    for key, value in raw.items():
        if key in _SUMMARY:
            section, name = _SUMMARY[key]
            (result[section] if section else result)[name] = value
        elif key != "steps":
            result[snake(key)] = value
    steps = raw.get("steps")
    if config.get("epochs", 0) > 0 and config.get("task", "icl-regression") != "icl-regression":
        result["completed_steps"] = steps
        per_epoch = (steps // config["epochs"]) if steps else 0
        result["total_steps"] = config["epochs"] * per_epoch
    else:
        result["total_steps"] = result["completed_steps"] = steps
    result.setdefault("task", config.get("task", "icl-regression"))
    if metrics:
        first = metrics[0]
        for key in _TASK_KEYS:
            if key in first and key not in result["initial"]:
                result["initial"][key] = first[key]
    return result


def metrics_line(line):
    """`epoch_seconds` → `train_seconds` (format 1's ±∞ and NaN are already floats)."""
    if "epoch_seconds" in line:
        line = dict(line)
        line["train_seconds"] = line.pop("epoch_seconds")
    return line
