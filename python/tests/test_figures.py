"""`meanfield report SWEEP --figures OUT` read back as a user would redraw it (docs/reports.md,
"Figures for papers"): the index, one CSV per figure whose loss-curve points are the runs' own logged
values (read independently from metrics.jsonl with load_run), one named curve per seed, and every
figure redrawn with matplotlib from its CSV (when matplotlib is installed; .ci/run installs it)."""
import csv
import math
import os
import subprocess

import pytest

import meanfield


@pytest.fixture(scope="module")
def figures(binary, tmp_path_factory):
    """A width sweep with two seeds per width, its report's figures exported."""
    root = tmp_path_factory.mktemp("figures")
    sweep, out = root / "width", root / "figures"
    steps = [binary, "sweep", "--out", str(sweep), "--heads", "2,4,8", "--seeds", "2", "--steps", "10",
             "--log-every", "5", "--checkpoint-every", "5", "--train-size", "8", "--eval-size", "8", "--ffn-units", "2",
             "--layers", "1", "--parallel", "2", "--threads-per-run", "1", "--diagnose-eval-size", "64"]
    for command in (steps, [binary, "report", str(sweep), "--figures", str(out)]):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return str(sweep), str(out)


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def curves(rows):
    """{series: [(x, y)]} in file order."""
    out = {}
    for row in rows:
        out.setdefault(row["series"], []).append((float(row["x"]), float(row["y"])))
    return out


def test_the_index_names_every_figure_and_its_files(figures):
    _, out = figures
    index = read_csv(os.path.join(out, "figures.csv"))
    assert [int(row["figure"]) for row in index] == list(range(1, len(index) + 1)) and len(index) >= 5
    for row in index:
        assert row["x_scale"] in ("linear", "log10") and row["y_scale"] in ("linear", "log10")
        for extension in ["svg", "csv"] + row["formats"].split():
            assert os.path.getsize(os.path.join(out, f"{row['file']}.{extension}")) > 0, (row["file"], extension)


def test_the_loss_curves_are_the_runs_logged_risks_one_curve_per_seed(figures):
    sweep, out = figures
    index = read_csv(os.path.join(out, "figures.csv"))
    loss = next(row for row in index if row["title"].startswith("Training risk R vs mean-field time"))
    data = curves(read_csv(os.path.join(out, loss["file"] + ".csv")))
    expected = {}
    for heads in (2, 4, 8):
        for seed in (0, 1):
            run = meanfield.load_run(os.path.join(sweep, "runs", f"heads-{heads}_seed-{seed}"))
            times, risks = dict(run.metric("t")), dict(run.metric("R"))
            expected[f"M = {heads}, seed {seed}"] = [(times[step], risks[step]) for step in sorted(risks)]
    assert set(data) == set(expected)
    for name, points in expected.items():
        assert len(data[name]) == len(points) == 3, name
        for (x, y), (t, r) in zip(data[name], points):
            assert math.isclose(x, t, rel_tol=0, abs_tol=1e-12) and math.isclose(y, r, rel_tol=1e-12), (name, x, y, t, r)


def test_every_figure_redraws_in_matplotlib(figures, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, out = figures
    for row in read_csv(os.path.join(out, "figures.csv")):
        figure, axes = plt.subplots()
        for name, points in curves(read_csv(os.path.join(out, row["file"] + ".csv"))).items():
            xs, ys = zip(*points)
            axes.plot(xs, ys, label=name)
        axes.set_xscale("log" if row["x_scale"] == "log10" else "linear")
        axes.set_yscale("log" if row["y_scale"] == "log10" else "linear")
        axes.set_xlabel(row["x_title"]), axes.set_ylabel(row["y_title"]), axes.set_title(row["title"])
        path = tmp_path / (row["file"] + ".png")
        figure.savefig(path)
        plt.close(figure)
        assert path.stat().st_size > 1000, row["file"]
