"""xor: hand-set network 100%, logistic regression <= 75%, a trained network 100%."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.neurons.xor import (
    X_XOR,
    Y_XOR,
    Config,
    hand_set_network,
    logistic_regression,
    train,
    train_xor_network,
)
from nnlab.numerics.metrics import max_linear_accuracy
from nnlab.scratch import accuracy


def test_hand_set_step_network_computes_xor():
    model = hand_set_network()
    y = model.predict(X_XOR)
    np.testing.assert_array_equal(y, Y_XOR)
    hidden = model.layers[1].forward(model.layers[0].forward(X_XOR))
    # v1 = x1 AND NOT x2, v2 = NOT x1 AND x2
    np.testing.assert_array_equal(hidden, [[0, 0], [0, 1], [1, 0], [0, 0]])
    assert accuracy(y, Y_XOR) == 1.0


def test_no_line_classifies_more_than_three_xor_points():
    assert max_linear_accuracy(X_XOR, Y_XOR) == 0.75
    and_labels = np.array([[0.0], [0.0], [0.0], [1.0]])
    assert max_linear_accuracy(X_XOR, and_labels) == 1.0  # AND is linearly separable


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logistic_regression_stays_at_or_below_75_percent(seed):
    model = logistic_regression(seed)
    hist = train(model, X_XOR, Y_XOR, lr=1.0, epochs=500, seed=seed)
    assert max(hist["train_accuracy"]) <= 0.75
    assert accuracy(model.predict(X_XOR), Y_XOR, threshold=1e-9) <= 0.75
    assert hist["train_loss"][-1] == pytest.approx(np.log(2), abs=1e-6)


def test_default_network_reaches_100_percent_from_every_seed():
    cfg = Config()
    for seed in range(10):
        model, hist = train_xor_network(cfg.hidden, cfg.activation, cfg.lr, cfg.epochs, seed)
        assert accuracy(model.predict(X_XOR), Y_XOR, threshold=0.0) == 1.0, seed
        assert hist["train_loss"][-1] < 0.01, seed


def test_smoke_run_summary(tmp_path):
    assert main(["run", "xor", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("xor/*/summary.json")
    s = json.loads(path.read_text())
    assert s["hand_set_accuracy"] == 1.0
    assert [row["y"] for row in s["hand_set_truth_table"]] == [0, 1, 1, 0]
    assert s["logreg_accuracy"] <= 0.75 and s["logreg_best_accuracy_during_training"] <= 0.75
    assert s["max_linear_accuracy"] == 0.75 and s["xor_linearly_separable"] is False
    assert s["trained_network_accuracy"] == 1.0
    assert s["robustness_success_rate"] == 1.0
    assert s["toy_test_accuracy"] > 0.85
    (figures,) = tmp_path.glob("xor/*/figures")
    # (a) hand-set, (b) logistic regression, (c) trained network, noisy toy set; + colorbar
    check_figure(
        figures / "decision_boundaries.png",
        min_size=(1200, 300),
        panels=(1, 4),
        caption="decision boundary",
    )
    check_figure(figures / "loss_curves.png", min_size=(650, 250), panels=(1, 2))
    check_figure(figures / "truth_tables.png", min_size=(350, 130))  # a table
