"""gradient-descent-1d: contraction |1 − ηL| per step, which basin each step size reaches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.training.gradient_descent_1d import (
    Config,
    contraction,
    descend,
    quadratic,
    quadratic_runs,
    quartic_minima,
    quartic_runs,
)

SMOKE = ["run", "gradient-descent-1d", "--preset", "smoke", "--quiet"]


@pytest.mark.parametrize("L", [0.5, 2.0, 30.0])
def test_contraction_per_step_is_one_minus_eta_L_on_the_quadratic(L):
    runs = quadratic_runs(Config(curvature=L, minimum=-3.0, x0=4.0, steps=15))
    for r in runs:
        assert len(r["measured"]) > 5
        np.testing.assert_allclose(r["measured"], abs(1 - r["eta"] * L), rtol=0, atol=1e-6)
    small, good, too_large, divergent = runs
    assert small["final_error"] > good["final_error"]  # ηL = 0.2 is slower than 0.8
    assert too_large["oscillates"] and too_large["converges"]
    assert not divergent["converges"] and divergent["final_error"] > 7.0  # started 7 away


def test_the_sign_of_the_error_flips_above_eta_one_over_L():
    _, grad, _ = quadratic(2.0, 0.0)
    xs = descend(grad, 1.0, 1.6 / 2.0, 6)
    assert np.all(np.sign(xs) == [1, -1, 1, -1, 1, -1, 1])
    assert contraction(xs, 0.0) == pytest.approx(0.6)


def test_the_quartic_step_size_decides_the_basin():
    minima = quartic_minima(0.5)
    assert len(minima) == 2 and minima[0] < 0 < minima[1]
    runs, _, x_global = quartic_runs(Config())
    small, good, too_large, divergent = runs
    assert x_global == minima[0]
    assert small["reached_minimum"] == good["reached_minimum"] == minima[1]  # the nearer one
    assert too_large["reached_global"]  # overshoots the hump
    assert divergent["diverged"]
    for r in (small, good, too_large):
        assert r["local_measured"] == pytest.approx(r["local_predicted"], abs=2e-3)


def test_smoke_run_summary_and_figures(tmp_path):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("gradient-descent-1d/*/summary.json")
    s = json.loads(path.read_text())
    assert s["max_contraction_deviation"] < 1e-6
    assert s["quadratic"]["good"]["predicted_contraction"] == pytest.approx(0.2)
    assert s["quartic"]["too large"]["reached_global"] is True
    figures = path.parent / "figures"
    check_figure(figures / "descent_paths.png", min_size=(1200, 500), panels=(2, 4))
    check_figure(figures / "contraction.png", min_size=(800, 300), panels=(1, 2))
    check_figure(figures / "contraction_table.png", caption="contraction")


def test_wrong_number_of_step_sizes_is_a_one_line_error(tmp_path, capsys):
    args = [*SMOKE, "--out", str(tmp_path), "--set", "eta_times_curvature=0.1,0.5"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "eta_times_curvature needs 4 values" in err[0]
    assert not list(tmp_path.glob("*/*"))
