"""Figures of the training-dynamics lab: panels against a log x axis, weight trajectories
projected to 2-D, and a loss surface around a minimum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from nnlab.viz.curves import LinePanel, line_panels


def log_x_panels(
    panels: Sequence[LinePanel],
    *,
    title: str | None = None,
    xlabel: str,
    panel_size: tuple[float, float] = (4.8, 3.9),
    ticks: Sequence[float] | None = None,
) -> Figure:
    """`line_panels` with a logarithmic x axis in every panel (parameters, batch size);
    `ticks` (e.g. the batch sizes) labelled as plain numbers instead of powers of ten."""
    from matplotlib.ticker import NullFormatter

    fig = line_panels(panels, title=title, xlabel=xlabel, panel_size=panel_size)
    for ax in fig.axes:
        ax.set_xscale("log")
        ax.grid(True, which="both", alpha=0.3)
        if ticks is not None:
            ax.set_xticks(list(ticks), labels=[f"{t:g}" for t in ticks])
            ax.xaxis.set_minor_formatter(NullFormatter())
    return fig


@dataclass(frozen=True)
class Trajectories:
    """Points (runs, snapshots, 2) of one projection, a text label per point (e.g. its
    accuracy), the panel's title and axis labels."""

    points: np.ndarray
    labels: Sequence[Sequence[str]]
    title: str
    xlabel: str = "PC 1"
    ylabel: str = "PC 2"


def trajectories_figure(
    panels: Sequence[Trajectories], *, title: str, run_names: Sequence[str]
) -> Figure:
    """One panel per projection: each run's snapshots joined in training order, in its own
    colour, the first marked with a circle, every point labelled."""
    fig = Figure(figsize=(6.2 * len(panels), 5.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=True):
        for r, (pts, labels) in enumerate(zip(panel.points, panel.labels, strict=True)):
            colour = f"C{r % 10}"
            ax.plot(pts[:, 0], pts[:, 1], "-", color=colour, lw=0.8, alpha=0.6)
            ax.scatter(pts[1:, 0], pts[1:, 1], color=colour, s=14, label=run_names[r])
            ax.scatter(pts[0, 0], pts[0, 1], facecolor="none", edgecolor=colour, s=50)
            for (px, py), text in zip(pts, labels, strict=True):
                ax.annotate(
                    text,
                    (px, py),
                    fontsize=6,
                    color=colour,
                    xytext=(2, 2),
                    textcoords="offset points",
                )
        ax.set_title(panel.title)
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel(panel.ylabel)
        ax.grid(True, alpha=0.3)
    axes[-1].legend(fontsize="small", title="run (○ start)", loc="best")
    fig.suptitle(title)
    return fig


def loss_surface_figure(
    coords: np.ndarray,
    surfaces: Sequence[tuple[np.ndarray, str]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    colorbar_label: str = "training cross-entropy (nats, log scale)",
) -> Figure:
    """One panel per `(losses, panel title)`: filled contours of `losses` (rows: first
    coordinate, columns: second) on the same log-spaced levels in every panel, so equal
    colours are equal losses; the centre marked."""
    from matplotlib.colors import LogNorm

    fig = Figure(figsize=(5.4 * len(surfaces) + 1.0, 5.0), layout="constrained")
    axes = fig.subplots(1, len(surfaces), squeeze=False)[0]
    every = np.concatenate([np.asarray(s).ravel() for s, _ in surfaces])
    lo, hi = max(float(every.min()), 1e-6), float(every.max())
    levels = np.geomspace(lo, max(hi, lo * 1.01), 25)
    a, b = np.meshgrid(coords, coords, indexing="ij")
    for ax, (losses, name) in zip(axes, surfaces, strict=True):
        filled = ax.contourf(a, b, np.clip(losses, lo, None), levels=levels, norm=LogNorm(),
                             cmap="viridis")  # fmt: skip
        ax.contour(a, b, losses, levels=levels[::3], colors="white", linewidths=0.5)
        ax.plot([0], [0], "r*", markersize=12, label="trained minimum")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(name)
        ax.set_aspect("equal")
        ax.legend(loc="upper right", fontsize="small")
    bar = fig.colorbar(filled, ax=list(axes), label=colorbar_label)
    bar.set_ticks(levels[::4], labels=[f"{v:.3g}" for v in levels[::4]])
    bar.minorticks_off()
    fig.suptitle(title)
    return fig


@dataclass(frozen=True)
class MinimaGroup:
    """Where the trainings of one network ended: final training loss and test accuracy per
    seed, and each seed's training loss per epoch."""

    label: str
    train_loss: np.ndarray
    test_accuracy: np.ndarray
    curves: np.ndarray  # (seeds, epochs)


def minima_figure(groups: Sequence[MinimaGroup], *, title: str) -> Figure:
    """Left: final training loss (log x) against test accuracy, one point per seed, one colour
    per network. Right: every seed's training loss per epoch, in the same colours."""
    fig = Figure(figsize=(11.0, 4.3), layout="constrained")
    ax_s, ax_c = fig.subplots(1, 2)
    for i, g in enumerate(groups):
        colour = f"C{i}"
        label = f"{g.label} ({len(g.train_loss)} seeds)"
        ax_s.scatter(g.train_loss, 100 * g.test_accuracy, s=28, color=colour, alpha=0.8,
                     edgecolor="k", linewidth=0.4, label=label)  # fmt: skip
        epochs = np.arange(1, g.curves.shape[1] + 1)
        for k, curve in enumerate(g.curves):
            ax_c.plot(epochs, curve, color=colour, lw=0.8, alpha=0.6,
                      label=g.label if k == 0 else None)  # fmt: skip
    ax_s.set_xscale("log")
    ax_s.set_xlabel("final training loss (cross-entropy, log scale)")
    ax_s.set_ylabel("test accuracy (%)")
    ax_s.set_title("Where each training ended")
    ax_s.legend(fontsize=8)
    ax_s.grid(True, which="both", alpha=0.3)
    ax_c.set_yscale("log")
    ax_c.set_xlabel("epoch")
    ax_c.set_ylabel("training loss (log scale)")
    ax_c.set_title("Training loss of every seed")
    ax_c.legend(fontsize=8)
    ax_c.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    return fig
