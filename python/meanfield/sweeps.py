"""A sweep folder (`meanfield sweep --out DIR`): sweep.json, summary.csv, runs/<name>/, diagnostics.json."""
import csv
import os

from ._format import RunFormatError, number, read_json, require_file
from .runs import Run, table


def _cell(text):
    """A summary.csv cell as a number when it is one ("" → None)."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return number(text)


class Sweep:
    """A sweep folder: `spec` (sweep.json: grid, fixed flags, runs), `summary` (summary.csv as a
    DataFrame, or a list of dicts without pandas; None before the sweep ended), `diagnostics`
    (diagnostics.json, None when absent), `runs` ({name: Run} of the run folders that exist, in
    sweep.json's order) and `missing` (names of runs without a folder yet)."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        if not os.path.isdir(self.path):
            raise RunFormatError(f"{path}: no such folder (give a folder that `meanfield sweep --out` wrote)")
        self.spec = read_json(require_file(self.path, "sweep.json", "a meanfield sweep folder"))
        summary_path = os.path.join(self.path, "summary.csv")
        self.summary_rows = None
        if os.path.isfile(summary_path):
            with open(summary_path, newline="", encoding="utf-8") as handle:
                self.summary_rows = [{k: _cell(v) for k, v in row.items()} for row in csv.DictReader(handle)]
        self.summary = None if self.summary_rows is None else table(self.summary_rows)
        diagnostics_path = os.path.join(self.path, "diagnostics.json")
        self.diagnostics = read_json(diagnostics_path) if os.path.isfile(diagnostics_path) else None
        self.runs, self.missing = {}, []
        for entry in self.spec.get("runs", []):
            folder = os.path.join(self.path, "runs", entry["name"])
            if os.path.isfile(os.path.join(folder, "manifest.json")):
                self.runs[entry["name"]] = Run(folder)
            else:
                self.missing.append(entry["name"])

    def flags(self, name):
        """The train flags of run `name` as sweep.json lists them ({flag: text})."""
        for entry in self.spec.get("runs", []):
            if entry["name"] == name:
                return entry["flags"]
        raise KeyError(f"{self.path}: no run {name!r} in sweep.json")

    def diagnostic(self, key):
        """The list `key` of diagnostics.json (`width`, `depth`, `fits`, …) as a table; RunFormatError without the file."""
        if self.diagnostics is None:
            raise RunFormatError(f"{self.path}: no diagnostics.json (run `meanfield diagnose {self.path}`)")
        return table(self.diagnostics.get(key, []))

    def __repr__(self):
        return f"Sweep({os.path.basename(self.path)!r}, {len(self.runs)} runs, {len(self.missing)} missing)"


def load_sweep(path):
    """The sweep folder at `path` (a `Sweep`); RunFormatError, one line, for a folder this package does not read."""
    return Sweep(path)
