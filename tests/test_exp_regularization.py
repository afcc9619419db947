"""regularization: the over-fitting baseline has the largest gap; regularization shrinks it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.training.regularization import Config, conclusion, penalty
from nnlab.models import MLP
from nnlab.training.tensors import split_indices
from runs_helper import smoke_run


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    run_dir, summary = smoke_run(tmp_path_factory.mktemp("runs"), "regularization")
    return {"dir": run_dir, "summary": summary}


def test_baseline_overfits_and_regularization_shrinks_the_gap(smoke):
    # moons (noise 0.3), 100 training points, 2-256-256-2, 100 epochs of Adam: seed 0
    s = smoke["summary"]
    by = {r["method"]: r for r in s["results"]}
    assert list(by) == ["none", "l1", "l2", "dropout", "early_stopping"]
    none = by["none"]
    assert none["train_accuracy"] - none["val_accuracy"] == pytest.approx(s["gap_none"])
    assert s["gap_none"] > 0.06  # the baseline over-fits: train 96%, val 87%
    # the best regularized model (by validation accuracy) generalises better ...
    assert s["gap_none"] - s["best_gap"] > 0.05
    assert s["val_gain"] > 0.02 and s["test_gain"] > 0.02
    # ... and so do the penalties and dropout: each has a smaller gap than none
    assert set(s["regularized_with_smaller_gap"]) == {"l1", "l2", "dropout", "early_stopping"}
    assert min(r["gap"] for r in s["results"] if r["method"] != "none") < none["gap"] - 0.05
    # early stopping restored an early epoch; the others ran all epochs
    es = by["early_stopping"]
    assert es["final_epoch"] == es["best_val_loss_epoch"] < es["epochs_trained"] < 100
    assert es["epochs_trained"] - es["final_epoch"] == 10  # patience
    assert all(by[m]["final_epoch"] == 100 for m in ("none", "l1", "l2", "dropout"))
    # L2 shrinks the weights, L1 makes many of them tiny
    assert by["l2"]["weight_l2_norm"] < none["weight_l2_norm"]
    assert by["l1"]["weights_below_1e-3"] > 2 * none["weights_below_1e-3"]
    assert "wins" in s["verdict"]
    figures = smoke["dir"] / "figures"
    # loss (top) and accuracy (bottom), one column per method
    check_figure(figures / "learning_curves.png", min_size=(1350, 440), panels=(2, 5))
    check_figure(figures / "gaps.png", min_size=(700, 280), panels=1)
    check_figure(figures / "gap_table.png", min_size=(530, 170))
    check_figure(
        figures / "decision_boundaries.png",
        min_size=(1350, 280),
        panels=(1, 5),
        caption="decision boundary",
    )
    # validation curves are logged per method
    lines = [json.loads(x) for x in (smoke["dir"] / "metrics.jsonl").read_text().splitlines()]
    assert sum("val_loss@none" in x for x in lines) == 100


def test_split_is_disjoint_and_penalties_are_the_textbook_ones():
    train, val = split_indices(1000, 100, 300, seed=3)
    assert len(train) == 100 and len(val) == 300 and not set(train) & set(val)
    torch.manual_seed(0)
    model = MLP(4, (3,), 2)
    weights = [p for p in model.parameters() if p.dim() > 1]
    cfg = Config(l1=0.01, l2=0.1)
    with torch.no_grad():
        l1 = 0.01 * sum(float(w.abs().sum()) for w in weights)
        l2 = 0.05 * sum(float((w**2).sum()) for w in weights)
    assert float(penalty(model, "l1", cfg).detach()) == pytest.approx(l1)
    assert float(penalty(model, "l2", cfg).detach()) == pytest.approx(l2)
    assert penalty(model, "dropout", cfg) is None


def test_conclusion_names_the_winner_by_validation():
    rows = [
        {"method": "none", "gap": 0.2, "val_accuracy": 0.80, "test_accuracy": 0.79},
        {"method": "l2", "gap": 0.15, "val_accuracy": 0.82, "test_accuracy": 0.81},
        {"method": "early_stopping", "gap": 0.05, "val_accuracy": 0.81, "test_accuracy": 0.80},
    ]
    for r, loss in zip(rows, (1.5, 0.6, 0.55), strict=True):
        r["val_loss"] = loss
    c = conclusion(rows, n_val=10000)
    assert c["best_method"] == "l2" and c["smallest_gap_method"] == "early_stopping"
    assert c["gap_reduction"] == pytest.approx(0.05) and c["test_gain"] == pytest.approx(0.02)
    assert np.isclose(c["val_gain"], 0.02) and c["verdict"].startswith("L2 wins")
    assert "5.0 points smaller" in c["verdict"] and "0.600 vs 1.500" in c["verdict"]
    assert c["val_accuracy_standard_error"] == pytest.approx(0.004)  # sqrt(.8 * .2 / 1e4)
    assert "within noise" not in c["verdict"]
    assert "within noise" in conclusion(rows, n_val=500)["verdict"]


def test_bad_settings_are_one_line_errors(tmp_path, capsys):
    base = ["run", "regularization", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    for bad in ("methods=none,mixup", "methods=l1,l1", "dropout=1.5", "train_subset=0"):
        assert main([*base, "--set", bad]) == 2, bad
        err = capsys.readouterr().err
        assert err.startswith("nnlab: error:") and err.count("\n") == 1, err
    assert main([*base, "--set", "dataset=digits", "--set", "train_subset=1300"]) == 2
    assert "exceeds" in capsys.readouterr().err
    assert not list(tmp_path.glob("regularization/*"))
