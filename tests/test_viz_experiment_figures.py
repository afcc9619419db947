"""Figures and figure helpers in nnlab.viz used by the PyTorch experiments."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab.viz import (
    accuracy_bars,
    best_so_far_curves,
    count_bars,
    explored_points,
    moving_average,
    per_class_accuracy,
    step_and_epoch_curves,
    wrap_words,
)


def test_per_class_accuracy_is_the_recall_of_each_class():
    cm = np.array([[3, 1, 0], [0, 0, 0], [2, 0, 6]])
    assert per_class_accuracy(cm, ["a", "b", "c"]) == {"a": 0.75, "b": 0.0, "c": 0.75}
    assert per_class_accuracy(np.array([[1, 2], [0, 3]]), digits=2) == {"0": 0.33, "1": 1.0}
    with pytest.raises(ValueError, match="class names"):
        per_class_accuracy(cm, ["a", "b"])


def test_accuracy_bars_write_the_gap_above_each_group():
    fig = accuracy_bars(["none", "L2"], [1.0, 0.9], [0.8, 0.86], [0.79, 0.85], title="gaps")
    (ax,) = fig.axes
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.texts] == ["gap 20.0", "gap 4.0"]
    assert ax.get_ylim() == (69.0, 104.0)


def test_count_bars_put_the_first_label_on_top():
    fig = count_bars(["cat", "dog", "car"], [5, 3, 1], xlabel="images", title="t")
    (ax,) = fig.axes
    widths = [p.get_width() for p in ax.patches]
    assert widths == [1, 3, 5]  # drawn bottom-up
    assert [t.get_text() for t in ax.get_yticklabels()] == ["car", "dog", "cat"]


def test_moving_average_and_step_and_epoch_curves():
    its, means = moving_average(np.arange(10.0), 4)
    assert its.tolist() == [4, 5, 6, 7, 8, 9, 10] and means[0] == 1.5 and means[-1] == 7.5
    history = [
        {"step": e, "a_train_loss": 1.0 / e, "a_test_loss": 1.2 / e, "a_test_accuracy": 0.5}
        for e in (1, 2)
    ]
    losses = np.array([2.0, 1.5, np.nan, 1.0])
    fig = step_and_epoch_curves({"a": losses}, history, steps_per_epoch=2, window=2, title="t")
    ax_it, ax_loss, ax_acc = fig.axes
    assert len(ax_loss.lines) == 2 and ax_acc.lines[0].get_ydata().tolist() == [50.0, 50.0]
    assert ax_it.get_legend().get_texts()[0].get_text() == "a"


def test_search_figures_draw_every_search_and_star_the_best():
    scores = {"grid": [[0.5, 0.7, 0.6]], "tpe": [[0.4, 0.8], [0.6, 0.65]]}
    fig = best_so_far_curves(scores, budget=3, title="t", labels={"tpe": "TPE"})
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["grid: best 70.00%", "TPE: mean of 2 searches, final 72.50%"]
    trials = {
        "random": [
            {"value": 0.7, "params": {"lr": 1e-3, "width": 64, "batch_size": 32}},
            {"value": 0.9, "params": {"lr": 1e-2, "width": 128, "batch_size": 64}},
        ]
    }
    fig = explored_points(
        trials, x="lr", y="width", size="batch_size", sizes=(32, 64), xlim=(1e-4, 1e-1),
        ylim=(16, 512), xlabel="lr", ylabel="width", title="t",
    )  # fmt: skip
    ax = fig.axes[0]
    best = ax.collections[1].get_offsets()
    assert best.tolist() == [[1e-2, 128]] and ax.get_title() == "random (2 trials)"


def test_wrap_words_breaks_at_spaces_only():
    text = "a train-validation gap of 10.1 points, smaller than none's"
    assert wrap_words(text, 20) == [
        "a train-validation",
        "gap of 10.1 points,",
        "smaller than none's",
    ]
    assert wrap_words("supercalifragilistic x", 5) == ["supercalifragilistic", "x"]
