"""The training-dynamics lab's experiments (MLDS HW1), each on its smoke preset end to end:
numbers asserted, figures checked, bad settings one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def smoke(tmp_path: Path, name: str, *sets: str) -> tuple[Path, dict]:
    args = ["run", name, "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main([*args, *(a for s in sets for a in ("--set", s))]) == 0
    (directory,) = sorted(p.parent for p in tmp_path.glob(f"{name}/*/config.json"))
    return directory, json.loads((directory / "summary.json").read_text())


def one_line_error(tmp_path, capsys, name: str, sets: list[str], message: str) -> None:
    args = ["run", name, "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main([*args, *(a for s in sets for a in ("--set", s))]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("*/*/config.json"))  # nothing left behind


def test_function_fit_equal_budgets_fit_both_kinds_of_function(tmp_path):
    run, s = smoke(tmp_path, "function-fit")
    counts = s["parameters"]
    assert set(counts) == {"depth1", "depth2", "depth4"}
    assert all(abs(c - 1000) / 1000 < 0.01 for c in counts.values())
    assert s["parameter_spread"] < 0.01 and len(s["hidden"]["depth4"]) == 4
    # 300 Adam steps: the straight-line part of sin(x) + 0.5x (variance ~9.6) is learnt, the
    # sinc (variance ~0.05) nearly fitted
    assert all(v < 1.0 for v in s["final_loss"]["sin_half_x"].values())
    assert all(v < 2e-3 for v in s["final_loss"]["sinc_5pi"].values())
    check_figure(run / "figures" / "loss_curves.png", panels=2)
    check_figure(run / "figures" / "predictions.png", panels=2)
    check_figure(run / "figures" / "parameter_counts.png", min_size=(400, 60))


@pytest.mark.parametrize(
    ("name", "sets", "message"),
    [
        ("function-fit", ["workers=0"], "setting 'workers' must be in [1, 64]; got 0"),
        ("function-fit", ["depths=1,2"], "three or more different depths"),
        ("function-fit", ["functions=tan"], "functions must name some of"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, capsys, name, sets, message):
    one_line_error(tmp_path, capsys, name, sets, message)


def test_weight_trajectory_pca_of_all_runs_together(tmp_path):
    run, s = smoke(tmp_path, "weight-trajectory")
    assert s["runs"] == 3 and s["snapshot_epochs"] == [0, 3, 6]
    for key in ("explained_variance_first_layer", "explained_variance_whole_model"):
        first, second = s[key]
        assert 1 > first >= second > 0 and first + second <= 1
    assert len(s["final_test_accuracy"]) == 3 and min(s["final_test_accuracy"]) > 0.5
    assert len(set(s["final_test_accuracy"])) > 1  # different seeds, different runs
    check_figure(run / "figures" / "trajectories.png", panels=2, caption="PCA")
    assert len(list((run / "checkpoints" / "runs").glob("run*.pt"))) == 3


def test_grad_norm_logs_every_iteration(tmp_path):
    run, s = smoke(tmp_path, "grad-norm")
    assert s["iterations"] == 4 * 22  # 1347 digits training images in batches of 64
    assert s["mean_loss_last_10pct"] < 0.6 * s["first_loss"]
    assert s["first_grad_norm"] > 0 and s["max_grad_norm"] >= s["first_grad_norm"]
    # the seed's "sum of the norms" is larger than the norm (triangle inequality)
    assert s["sum_of_norms_over_norm_mean"] > 1.05
    assert len(s["layer_grad_norm_last_10pct"]) == 2 and s["test_accuracy"] > 0.8
    check_figure(run / "figures" / "grad_norm.png", panels=3)
