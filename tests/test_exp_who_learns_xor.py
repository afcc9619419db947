"""who-learns-xor: the lecture's ICE #1 answers hold, and naive Bayes cannot learn XOR."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.neurons.who_learns_xor import (
    Config,
    make_models,
    root_split_gain,
    xor_points,
)

SMOKE = ["run", "who-learns-xor", "--preset", "smoke", "--quiet"]


@pytest.mark.parametrize(
    ("name", "learns"),
    [
        ("logistic regression", False),
        ("Gaussian naive Bayes", False),
        ("decision tree", True),
        ("linear SVM", False),
        ("RBF SVM", True),
        ("k-NN", True),
        ("MLP", True),
    ],
)
def test_who_fits_the_four_xor_points(name, learns):
    X, y = xor_points()
    model = make_models(Config(), seed=0)[name].fit(X, y)
    accuracy = model.score(X, y)
    assert (accuracy == 1.0) is learns
    if not learns:
        assert accuracy <= 0.75  # no line does better than 3 of 4


def test_naive_bayes_sees_the_same_two_classes():
    X, y = xor_points()
    nb = make_models(Config(), seed=0)["Gaussian naive Bayes"].fit(X, y)
    np.testing.assert_allclose(nb.theta_[0], nb.theta_[1])
    np.testing.assert_allclose(nb.var_[0], nb.var_[1])
    grid = np.random.default_rng(0).uniform(-2, 3, (500, 2))
    np.testing.assert_allclose(nb.predict_proba(grid), 0.5, atol=1e-12)


def test_no_first_split_of_xor_reduces_gini():
    X, y = xor_points()
    assert root_split_gain(X, y) == 0.0
    assert root_split_gain(X, np.array([0, 0, 0, 1])) > 0.1  # AND: the first split helps


def test_smoke_run_checks_the_lecture_and_settles_naive_bayes(tmp_path):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("who-learns-xor/*/summary.json")
    s = json.loads(path.read_text())
    assert s["lecture_agrees"] is True
    assert s["lecture_checked"]["Gaussian naive Bayes"] == {
        "lecture": "?",
        "measured": "✗",
        "agrees": None,
    }
    assert s["naive_bayes_learns_xor"] is False and s["bernoulli_nb_train_accuracy"] == 0.5
    assert s["naive_bayes_max_deviation_from_half"] < 1e-12
    acc = s["accuracy"]
    for name in ("decision tree", "RBF SVM", "k-NN", "MLP"):
        assert acc[name]["noisy clouds"]["test_accuracy"] > 0.9, name
    for name in ("logistic regression", "Gaussian naive Bayes", "linear SVM"):
        assert acc[name]["noisy clouds"]["test_accuracy"] < 0.65, name
    figures = path.parent / "figures"
    # 2 x 7 thumbnails; not counted by frames: those filled dark up to the spines are not seen
    check_figure(figures / "decision_boundaries.png", min_size=(1500, 500), caption="naive bayes")
    check_figure(figures / "answers.png", caption="lecture")


def test_a_negative_jitter_is_a_one_line_error(tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path), "--set", "jitter=-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'jitter' must be in [0, 1]" in err[0]
