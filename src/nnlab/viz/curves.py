"""Learning curves of several variants of one experiment side by side: one column per variant
(a learning rate, a regularization method, ...), one row per metric, training and validation
in every panel.

The curves come from a metrics history (the records of ``metrics.jsonl``) whose keys name the
split, the metric and the variant, by default ``"{split}_{metric}@{variant}"`` such as
``val_accuracy@tuned``::

    rows = [CurveRow("loss", "cross-entropy (nats)", log=True), CurveRow("accuracy", "accuracy")]
    fig = curves_per_variant(run.history(), ["none", "l2"], rows, title="Regularization")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

#: (split, legend label, line style) of the default splits.
SPLITS: tuple[tuple[str, str, str], ...] = (("train", "training", "-"), ("val", "validation", "-"))


@dataclass(frozen=True)
class CurveRow:
    """One row of panels: the metric's name in the history keys, the y-axis label, a factor
    for the values (e.g. 100 for percent), a log y scale, and a dotted horizontal reference
    line (e.g. a target accuracy, in scaled units)."""

    metric: str
    ylabel: str
    scale: float = 1.0
    log: bool = False
    reference: float | None = None
    legend_loc: str = "best"


def curves_per_variant(
    history: Sequence[Mapping],
    variants: Sequence[str],
    rows: Sequence[CurveRow],
    *,
    title: str,
    column_titles: Mapping[str, str] | None = None,
    splits: Sequence[tuple[str, str, str]] = SPLITS,
    key: str = "{split}_{metric}@{variant}",
    x: str = "step",
    xlabel: str = "epoch",
    xlim: tuple[float, float] | None = None,
    marks: Mapping[str, tuple[float, str]] | None = None,
    panel_size: tuple[float, float] = (4.0, 3.3),
) -> Figure:
    """A len(rows) x len(variants) grid of panels; rows share their y axis, columns their x.

    Panel (row, variant) plots, for each ``(split, label, style)`` of ``splits``, the values
    of ``key.format(split=..., metric=row.metric, variant=variant)`` against ``x`` over the
    records of ``history`` that have that key. ``column_titles`` (default: the variant
    names) head each column; ``marks`` draws a dotted vertical line at ``x`` value
    ``marks[variant][0]`` in every panel of that column, labelled ``marks[variant][1]`` (e.g.
    the epoch early stopping restored). Legends go in the last column and in marked panels.
    """
    if not variants or not rows:
        raise ValueError("curves_per_variant: need at least one variant and one row")
    width, height = panel_size
    n = len(variants)
    fig = Figure(figsize=(width * n + 0.6, height * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False, sharey="row", sharex=True)
    marks = marks or {}
    for col, variant in enumerate(variants):
        for r, row in enumerate(rows):
            ax = axes[r, col]
            for split, label, style in splits:
                name = key.format(split=split, metric=row.metric, variant=variant)
                pts = [(rec[x], rec[name]) for rec in history if name in rec]
                if pts:
                    ax.plot(
                        [p[0] for p in pts],
                        [row.scale * p[1] for p in pts],
                        style,
                        color=f"C{splits.index((split, label, style))}",
                        label=label,
                    )
            if row.reference is not None:
                ax.axhline(row.reference, color="0.5", lw=0.8, ls=":")
            if variant in marks:
                at, mark_label = marks[variant]
                ax.axvline(at, color="k", ls=":", lw=1, label=mark_label)
            if row.log:
                ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            if col == 0:
                ax.set_ylabel(row.ylabel)
            if r == len(rows) - 1:
                ax.set_xlabel(xlabel)
            if xlim is not None:
                ax.set_xlim(*xlim)
            if (col == n - 1 or variant in marks) and ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize="small", loc=row.legend_loc)
        axes[0, col].set_title((column_titles or {}).get(variant, variant))
    fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- panels of lines


@dataclass(frozen=True)
class Line:
    """One curve: y against x, with a legend label (None: not in the legend), a matplotlib
    format string such as "-", "--" or "o-", a marker size and a draw style
    ("steps-post" for a piecewise-constant quantity such as a learning rate)."""

    x: Sequence[float]
    y: Sequence[float]
    label: str | None = None
    style: str = "-"
    markersize: float | None = None
    drawstyle: str = "default"


@dataclass(frozen=True)
class LinePanel:
    """One panel of ``line_panels``: its lines, title and y label; a log y scale; a dotted
    horizontal reference line ``(value, legend label)``; fixed y limits; integer x ticks."""

    lines: Sequence[Line]
    title: str
    ylabel: str
    log: bool = False
    reference: tuple[float, str] | None = None
    ylim: tuple[float, float] | None = None
    integer_x: bool = False
    xlabel: str | None = None


def history_series(
    history: Sequence[Mapping], key: str, x: str = "step"
) -> tuple[list[float], list[float]]:
    """(xs, ys) of ``key`` over the records of ``history`` that have it."""
    pts = [(rec[x], rec[key]) for rec in history if key in rec]
    return [p[0] for p in pts], [p[1] for p in pts]


def line_panels(
    panels: Sequence[LinePanel],
    *,
    title: str | None = None,
    xlabel: str = "epoch",
    panel_size: tuple[float, float] = (4.8, 3.9),
    ncols: int | None = None,
) -> Figure:
    """Panels of curves side by side, each with its own y axis (e.g. loss, accuracy and
    learning rate of one training run, or the loss of several runs in one panel); with
    ``ncols``, in rows of ``ncols`` panels (row by row)."""
    if not panels:
        raise ValueError("line_panels: no panels")
    from matplotlib.ticker import MaxNLocator

    width, height = panel_size
    ncols = min(ncols or len(panels), len(panels))
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False)
    for ax in grid.flat[len(panels) :]:
        ax.remove()
    axes = grid.flat[: len(panels)]
    for ax, panel in zip(axes, panels, strict=True):
        for line in panel.lines:
            ax.plot(
                line.x,
                line.y,
                line.style,
                label=line.label,
                markersize=line.markersize,
                drawstyle=line.drawstyle,
            )
        if panel.reference is not None:
            value, label = panel.reference
            ax.axhline(value, color="0.5", ls=":", lw=1, label=label)
        if panel.log:
            ax.set_yscale("log")
        if panel.ylim is not None:
            ax.set_ylim(*panel.ylim)
        if panel.integer_x:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(panel.title)
        ax.set_xlabel(panel.xlabel or xlabel)
        ax.set_ylabel(panel.ylabel)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
