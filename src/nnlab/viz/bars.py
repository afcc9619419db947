"""Bar charts: accuracies of several variants side by side, and counts of labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def accuracy_bars(
    names: Sequence[str],
    train: Sequence[float],
    val: Sequence[float],
    test: Sequence[float],
    *,
    title: str,
) -> Figure:
    """Training, validation and test accuracy (fractions, drawn in %) of each variant as a
    group of three bars, with the generalisation gap (train - validation, in points) written
    above the group.

        accuracy_bars(["none", "L2"], [1.0, 0.9], [0.8, 0.85], [0.79, 0.84], title="Gaps")
    """
    fig = Figure(figsize=(1.6 * len(names) + 2.5, 4.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(names))
    splits = ((train, "training"), (val, "validation"), (test, "test"))
    for k, (values, label) in enumerate(splits):
        ax.bar(x + (k - 1) * 0.27, [100 * v for v in values], 0.27, label=label)
    for i, (a, b) in enumerate(zip(train, val, strict=True)):
        ax.annotate(
            f"gap {100 * (a - b):.1f}",
            (i, 100 * a),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize="small",
        )
    low = min(100 * min(v, t) for v, t in zip(val, test, strict=True))
    ax.set_ylim(max(0.0, low - 10), 104)
    ax.set_xticks(x, list(names))
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def count_bars(labels: Sequence[str], counts: Sequence[int], *, xlabel: str, title: str) -> Figure:
    """Horizontal bars, one per label, the first label on top (e.g. the most frequent
    predictions, most frequent first)."""
    fig = Figure(figsize=(7, 0.4 * len(labels) + 1.2))
    ax = fig.subplots()
    ax.barh(list(labels)[::-1], list(counts)[::-1])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def grouped_bars(
    names: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float]]],
    *,
    ylabel: str,
    title: str,
    log: bool = False,
) -> Figure:
    """One group of bars per name, one bar per (label, values) in ``groups``, each bar's value
    written above it; a log y axis with ``log``.

        grouped_bars(["open", "bottleneck"], [("digits", [0.001, 0.02]), ("noise", [0.01, 0.1])],
                     ylabel="MSE", title="Errors")
    """
    fig = Figure(figsize=(1.3 * len(names) * max(1, len(groups)) / 2 + 3.0, 4.4))
    ax = fig.subplots()
    x = np.arange(len(names))
    width = 0.8 / max(1, len(groups))
    for k, (label, values) in enumerate(groups):
        offset = (k - (len(groups) - 1) / 2) * width
        bars = ax.bar(x + offset, list(values), width, label=label)
        ax.bar_label(bars, [f"{v:.3g}" for v in values], fontsize="x-small", padding=2)
    if log:
        ax.set_yscale("log")
    ax.margins(y=0.15)
    ax.set_xticks(x, list(names))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
