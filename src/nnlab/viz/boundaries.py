"""Decision boundaries of 2-D classifiers: a model's output over a grid of the plane, with
the data points over it, one panel per model.

The figure functions take plain data, never a model: evaluate the model on the grid first
with ``predict_grid`` (which takes any callable from (N, 2) points to N values), or bring a
grid of your own as a ``Grid``::

    grid = predict_grid(lambda p: sigmoid(model.predict(p)), (-0.5, 1.5))
    fig = decision_boundaries([BoundaryPanel(grid, X, y, "trained 2-4-1")], title="XOR")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Colours of class 0 and class 1 (the two ends of the ``RdBu_r`` colour map, a bit lighter).
CLASS_COLORS = ("#2166ac", "#b2182b")
CLASS_MARKERS = ("s", "o")


@dataclass(frozen=True)
class Grid:
    """Values of a function on a rectangular grid: ``values[i, j]`` is its value at the point
    ``(xs[j], ys[i])`` (rows follow y, columns follow x, as ``np.meshgrid(xs, ys)``)."""

    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        shape = (len(self.ys), len(self.xs))
        if np.shape(self.values) != shape:
            raise ValueError(
                f"grid values have shape {np.shape(self.values)}; expected (len(ys), len(xs)) "
                f"= {shape}"
            )


def grid_points(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The points of the grid ``xs`` x ``ys`` as an (len(ys) * len(xs), 2) array of (x, y),
    row by row (x varies fastest), so ``f(points).reshape(len(ys), len(xs))`` is a grid."""
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def predict_grid(
    predict: Callable[[np.ndarray], np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float] | None = None,
    n: int = 201,
) -> Grid:
    """``predict`` evaluated on an ``n`` x ``n`` grid over ``xlim`` x ``ylim`` (default: the
    square ``xlim`` x ``xlim``). ``predict`` maps (N, 2) float64 points to N values (any shape
    with N elements, e.g. (N, 1) probabilities)."""
    xs = np.linspace(*xlim, n)
    ys = xs if ylim is None else np.linspace(*ylim, n)
    values = np.asarray(predict(grid_points(xs, ys)))
    return Grid(xs, ys, values.reshape(len(ys), len(xs)))


@dataclass(frozen=True)
class BoundaryPanel:
    """One panel: a grid of P(class 1) (or any score in [0, 1]), the labelled points drawn
    over it (``labels`` 0 or 1, any shape with one label per point) and the panel's title."""

    grid: Grid
    points: np.ndarray | None = None
    labels: np.ndarray | None = None
    title: str = ""


def draw_decision_boundary(
    ax: Axes,
    panel: BoundaryPanel,
    *,
    levels: Sequence[float] | None = None,
    boundary: float | None = 0.5,
    boundary_width: float = 1.5,
    alpha: float | None = 0.8,
    cmap: str = "RdBu_r",
    point_size: float | None = None,
    markers: Sequence[str] = CLASS_MARKERS,
    colors: Sequence[str] = CLASS_COLORS,
    edgecolor: str | None = None,
    class_labels: Sequence[str] | None = None,
):
    """Draw ``panel`` on ``ax``: filled contours of the grid at ``levels`` (default 0, 0.1,
    ..., 1), the ``boundary`` contour in black, the points of each class with its marker and
    colour. Returns the filled contour set (for a colorbar).

    A constant grid has no boundary: the panel then says so in a box instead of drawing one.
    ``point_size`` defaults to 140 for at most 4 points (e.g. the XOR corners, edged in white)
    and 14 otherwise. ``class_labels`` name the classes in a legend (default "y = 0", "y = 1").
    """
    g = panel.grid
    levels = np.linspace(0.0, 1.0, 11) if levels is None else levels
    filled = ax.contourf(g.xs, g.ys, g.values, levels=levels, cmap=cmap, alpha=alpha)
    if boundary is not None:
        if np.ptp(g.values) > 1e-6:
            ax.contour(
                g.xs, g.ys, g.values, levels=[boundary], colors="k", linewidths=boundary_width
            )
        else:  # e.g. logistic regression on XOR at w = b = 0: the same value everywhere
            ax.text(
                0.5,
                0.5,
                f"P = {float(np.mean(g.values)):.3f} everywhere:\nno decision boundary",
                transform=ax.transAxes,
                ha="center",
                va="center",
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.6"},
            )
    if panel.points is not None and panel.labels is not None:
        X, y = np.asarray(panel.points), np.asarray(panel.labels).reshape(-1)
        if len(X) != len(y):
            raise ValueError(f"got {len(X)} points but {len(y)} labels")
        big = len(X) <= 4
        size = point_size if point_size is not None else (140 if big else 14)
        edge = edgecolor if edgecolor is not None else ("white" if big else "none")
        names = class_labels or [f"y = {k}" for k in range(len(colors))]
        for k, (marker, colour) in enumerate(zip(markers, colors, strict=True)):
            pts = X[y == k]
            ax.scatter(
                pts[:, 0],
                pts[:, 1],
                marker=marker,
                s=size,
                c=colour,
                edgecolors=edge,
                linewidths=1.5 if big and edgecolor is None else 0.5,
                label=names[k],
                zorder=3,
            )
    ax.set_xlim(g.xs[0], g.xs[-1])
    ax.set_ylim(g.ys[0], g.ys[-1])
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    if panel.title:
        ax.set_title(panel.title, fontsize="medium")
    return filled


def decision_boundaries(
    panels: Sequence[BoundaryPanel],
    *,
    title: str = "Decision boundaries",
    colorbar_label: str = "P(class 1)",
    colorbar_ticks: Sequence[float] | None = None,
    legend: bool = True,
    panel_size: tuple[float, float] = (4.0, 4.2),
    **draw: object,
) -> Figure:
    """One panel per model in a row, sharing one colorbar; ``draw`` options go to
    ``draw_decision_boundary`` (levels, boundary, alpha, point_size, markers, colors, ...).

    ``legend`` adds one legend of the classes below the panels. The y axis is labelled on
    the first panel and wherever the y range changes."""
    if not panels:
        raise ValueError("decision_boundaries: no panels")
    width, height = panel_size
    fig = Figure(figsize=(width * len(panels) + 0.8, height), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    filled = None
    previous: tuple[float, float] | None = None
    for ax, panel in zip(axes, panels, strict=True):
        filled = draw_decision_boundary(ax, panel, **draw)  # type: ignore[arg-type]
        yrange = (float(panel.grid.ys[0]), float(panel.grid.ys[-1]))
        if yrange != previous:
            ax.set_ylabel("x2")
        previous = yrange
    handles, labels = axes[0].get_legend_handles_labels()
    if legend and handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles))
    cbar = fig.colorbar(filled, ax=list(axes), shrink=0.85, label=colorbar_label)
    if colorbar_ticks is not None:
        cbar.set_ticks(list(colorbar_ticks))
    fig.suptitle(title)
    return fig


@dataclass(frozen=True)
class ScatterGroup:
    """Points of one group in a scatter panel: coordinates, legend label and style."""

    x: np.ndarray
    y: np.ndarray
    label: str
    marker: str = "o"
    color: str | None = None
    size: float = 40.0
    alpha: float = 0.8


def scatter_and_boundaries(
    groups: Sequence[ScatterGroup],
    panels: Sequence[BoundaryPanel],
    *,
    scatter_title: str,
    scatter_labels: tuple[str, str],
    title: str,
    colorbar_label: str = "P(class 1)",
    panel_size: tuple[float, float] = (4.33, 4.2),
    **draw: object,
) -> Figure:
    """A scatter panel of point groups (e.g. the hidden units' incoming weights of several
    networks) followed by the decision boundary of each network; ``scatter_labels`` are the
    scatter's (x, y) axis labels, ``draw`` options go to ``draw_decision_boundary``."""
    width, height = panel_size
    fig = Figure(figsize=(width * (1 + len(panels)), height), layout="constrained")
    ax_points, *ax_panels = fig.subplots(1, 1 + len(panels))
    for g in groups:
        ax_points.scatter(
            g.x, g.y, marker=g.marker, s=g.size, c=g.color, alpha=g.alpha, label=g.label
        )
    ax_points.set_title(scatter_title)
    ax_points.set_xlabel(scatter_labels[0])
    ax_points.set_ylabel(scatter_labels[1])
    ax_points.legend(fontsize="small")
    filled = None
    for ax, panel in zip(ax_panels, panels, strict=True):
        filled = draw_decision_boundary(ax, panel, **draw)  # type: ignore[arg-type]
        ax.set_ylabel("x2")
    if filled is not None:
        fig.colorbar(filled, ax=ax_panels, shrink=0.85, label=colorbar_label)
    fig.suptitle(title)
    return fig
