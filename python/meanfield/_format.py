"""The conventions shared by every JSON file of a run folder (docs/run-format.md, "Conventions").

Format 2 writes snake_case keys and spells ±∞ and NaN as the strings "inf", "-inf" and "nan";
format 1 (folders without `run_format` in manifest.json) used kebab-case config keys, camelCase
manifests and summaries, and bare `1e999` / `null` in metrics.jsonl. Readers turn both into the
format-2 spelling with numbers as Python floats.
"""
import json
import math
import os
import re

#: The run formats this package reads.
SUPPORTED_FORMATS = (1, 2)

_SPECIAL = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


class RunFormatError(ValueError):
    """A folder this package cannot read: one line naming the folder, the problem and the fix."""


def number(value):
    """A JSON value with the strings "inf", "-inf", "nan" (and format 1's null) turned into floats."""
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    if value is None:
        return math.nan
    return value


def numbers(value):
    """`number` applied inside lists and objects."""
    if isinstance(value, list):
        return [numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: numbers(v) for k, v in value.items()}
    return number(value)


def read_json(path):
    """A JSON file's object, with ±∞ and NaN as floats; a RunFormatError when it is not JSON."""
    try:
        with open(path, encoding="utf-8") as handle:
            return numbers(json.load(handle))
    except json.JSONDecodeError as error:
        raise RunFormatError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}); "
                             "the file is damaged, rerun or restore it") from None


def read_jsonl(path):
    """The objects of a JSON-lines file; a last line without its newline (a crash's trace) is skipped."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.readlines()
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    return [numbers(json.loads(line)) for line in lines if line.strip()]


def snake(key):
    """`ffn-units` and `gitCommit` → `ffn_units`, `git_commit`; metric names (`R`, `eval_R`) unchanged."""
    if "-" in key:
        return key.replace("-", "_")
    if re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", key):
        return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), key)
    return key


def run_format(manifest, folder):
    """The run format of a folder from its manifest; RunFormatError for one this package does not read."""
    version = manifest.get("run_format", 1)
    if not isinstance(version, int) or version not in SUPPORTED_FORMATS:
        newest = max(SUPPORTED_FORMATS)
        raise RunFormatError(f"{folder}: written in run format {version}; this meanfield package reads formats "
                             f"{min(SUPPORTED_FORMATS)}–{newest} (update it: pip install --upgrade ./python)")
    return version


def require_file(folder, name, what):
    """The path of `name` inside `folder`; RunFormatError saying what the folder lacks when absent."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise RunFormatError(f"{folder}: no {name}, so it is not {what} "
                             "(give the folder that `meanfield train --out` or `meanfield sweep --out` wrote)")
    return path
