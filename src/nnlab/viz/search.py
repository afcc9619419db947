"""Figures of hyper-parameter searches: the best score found so far against the trial
number, and the points each search explored.

Scores are fractions (accuracies) drawn in percent; trials are records
``{"value": score, "params": {name: value, ...}}`` in the order they ran::

    fig = best_so_far_curves({"tpe": [[0.80, 0.85, 0.84]]}, budget=3, title="Search")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure


def best_so_far_curves(
    scores: Mapping[str, Sequence[Sequence[float]]],
    *,
    budget: int,
    title: str,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
) -> Figure:
    """Best score so far against trial number: one colour per searcher (the keys of
    `scores`, each with the trial scores of one or more searches), a step line per search
    with its trials as dots, and with several searches a thick line for their mean."""
    fig = Figure(figsize=(7.8, 4.8), layout="constrained")
    ax = fig.subplots()
    firsts, tops, longest = [], [], budget
    for i, (name, searches) in enumerate(scores.items()):
        color = (colors or {}).get(name, f"C{i}")
        label = (labels or {}).get(name, name)
        done = [list(values) for values in searches if len(values)]
        curves = [np.maximum.accumulate(values) for values in done]
        if not curves:
            continue
        several = len(curves) > 1
        for values, curve in zip(done, curves, strict=True):
            x = np.arange(1, len(curve) + 1)
            ax.step(
                x,
                100 * curve,
                where="post",
                color=color,
                lw=1.0 if several else 2.0,
                alpha=0.45 if several else 1.0,
                label=None if several else f"{label}: best {100 * curve[-1]:.2f}%",
            )
            ax.plot(x, [100 * v for v in values], "o", color=color, ms=2.5, alpha=0.3)
            firsts.append(curve[0])
            tops.append(curve[-1])
            longest = max(longest, len(curve))
        if several:
            n = min(len(c) for c in curves)
            mean = np.mean([c[:n] for c in curves], axis=0)
            ax.step(
                np.arange(1, n + 1),
                100 * mean,
                where="post",
                color=color,
                lw=2.5,
                label=f"{label}: mean of {len(curves)} searches, final {100 * mean[-1]:.2f}%",
            )
    if tops:  # from the worst first trial, but at most 12 points below the best
        top = max(tops)
        low = max(min(firsts), top - 0.12)
        ax.set_ylim(
            100 * (low - 0.05 * (top - low) - 0.003), 100 * (top + 0.1 * (top - low) + 0.003)
        )
    ax.set_xlim(0.5, longest + 0.5)
    ax.set_xlabel("trial number (in the order the trials were started)")
    ax.set_ylabel("best validation accuracy so far (%)")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def explored_points(
    trials: Mapping[str, Sequence[Mapping]],
    *,
    x: str,
    y: str,
    size: str,
    sizes: Sequence,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    xlabel: str,
    ylabel: str,
    title: str,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Parameter `x` (log scale) against parameter `y` (log2 scale) of every trial, coloured
    by its score on one colour scale (the worst 10% saturate), marker size growing with the
    rank of parameter `size` among `sizes`; the best trial is starred. One panel per
    searcher (the keys of `trials`)."""
    n = len(trials)
    fig = Figure(figsize=(4.3 * n + 1.2, 4.3), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False, sharex=True, sharey=True)[0]
    values = [t["value"] for ts in trials.values() for t in ts]
    vmax = max(values, default=1.0)
    vmin = float(np.percentile(values, 10)) if values else 0.0  # diverged runs don't set the scale
    norm = Normalize(vmin=min(vmin, vmax - 1e-3), vmax=vmax)
    marker_sizes = {s: 14 + 14 * i for i, s in enumerate(sorted(sizes))}
    mappable = None
    for ax, (name, ts) in zip(axes, trials.items(), strict=True):
        order = sorted(ts, key=lambda t: t["value"])  # best drawn on top
        if order:
            mappable = ax.scatter(
                [t["params"][x] for t in order],
                [t["params"][y] for t in order],
                c=[t["value"] for t in order],
                s=[marker_sizes.get(t["params"][size], 20) for t in order],
                cmap="viridis",
                norm=norm,
                edgecolors="k",
                linewidths=0.3,
            )
            best = order[-1]
            ax.scatter(
                [best["params"][x]],
                [best["params"][y]],
                marker="*",
                s=320,
                facecolors="none",
                edgecolors="red",
                linewidths=1.5,
                label="best",
            )
            ax.legend(loc="upper left", fontsize="small")
        ax.set_xscale("log")
        ax.set_yscale("log", base=2)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_title(f"{(labels or {}).get(name, name)} ({len(ts)} trials)")
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel(ylabel)
    if mappable is not None:
        fig.colorbar(mappable, ax=list(axes), label="validation accuracy", shrink=0.9)
    fig.suptitle(title)
    return fig
