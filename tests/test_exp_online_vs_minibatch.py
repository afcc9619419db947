"""online-vs-minibatch: the gradient variance falls as 1/B; online is ahead per example."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.training.online_vs_minibatch import (
    batch_gradient,
    gradient_variance,
    load_digits,
    loglog_slope,
)
from nnlab.scratch import mlp

SMOKE = ["run", "online-vs-minibatch", "--preset", "smoke", "--quiet"]


def test_gradient_variance_falls_as_one_over_batch_size():
    X, y = load_digits(400)
    model = mlp([64, 16, 10], "tanh", rng=0)
    sizes = [1, 4, 16, 64]
    var = gradient_variance(model, X, y, sizes, draws=300, seed=0)
    assert loglog_slope(sizes, [var[b] for b in sizes]) == pytest.approx(-1.0, abs=0.08)
    assert var[1] / var[16] == pytest.approx(16, rel=0.25)


def test_the_full_batch_gradient_is_the_mean_of_the_single_example_ones():
    X, y = load_digits(30)
    model = mlp([64, 8, 10], "tanh", rng=1)
    singles = np.mean([batch_gradient(model, X[i : i + 1], y[i : i + 1]) for i in range(30)], 0)
    np.testing.assert_allclose(batch_gradient(model, X, y), singles, rtol=0, atol=1e-14)


def test_smoke_run_states_the_advantage_and_the_disadvantage_with_numbers(tmp_path):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("online-vs-minibatch/*/summary.json")
    s = json.loads(path.read_text())
    assert s["variance_loglog_slope"] == pytest.approx(-1.0, abs=0.1)
    assert s["variance_ratio_online_vs_minibatch"] == pytest.approx(20, rel=0.3)
    after = s["loss_after_one_epoch"]
    online, mini, full = (
        after["online (B = 1)"],
        after["mini-batch (B = 20)"],
        after["full batch (B = 500)"],
    )
    assert online < mini < full  # more updates per example seen
    assert s["updates_per_epoch"] == {
        "online (B = 1)": 500,
        "mini-batch (B = 20)": 25,
        "full batch (B = 500)": 1,
    }
    assert f"{online:.3f}" in s["online_advantage"]
    assert f"{s['variance_ratio_online_vs_minibatch']:.1f} times" in s["online_disadvantage"]
    status = json.loads((path.parent / "status.json").read_text())
    assert status["timings"]["train_seconds_B1"] > status["timings"]["train_seconds_B500"]
    check_figure(
        path.parent / "figures" / "loss_and_variance.png", min_size=(1200, 350), panels=(1, 3)
    )


def test_a_minibatch_of_one_is_a_one_line_error(tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path), "--set", "minibatch=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'minibatch' must be in [2," in err[0]
