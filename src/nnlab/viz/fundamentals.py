"""Figures of the course's "by hand" fundamentals: 1-D gradient descent with its tangent
lines, contraction per step, loss against examples seen and time, gradient variance per
batch size, perceptron mistakes, classifier thumbnails on XOR, CNN unit patches.

Like the rest of ``nnlab.viz`` they take plain arrays (or a callable for a curve to draw),
never a trained model::

    fig = descent_figure([DescentPanel(f, df, xs, (-3, 3), "ηL = 0.8")], ncols=1, title="GD")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure


@dataclass(frozen=True)
class DescentPanel:
    """A 1-D loss ``f`` over ``xlim`` with gradient ``grad``, and the iterates x_0, x_1, ..."""

    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    iterates: np.ndarray
    xlim: tuple[float, float]
    title: str


def descent_figure(panels: Sequence[DescentPanel], *, ncols: int, title: str) -> Figure:
    """One panel per run: the curve, each iterate (numbered dot on the curve) and the tangent
    at x_k drawn from x_k to x_{k+1} — the straight line a step follows — with a dotted drop
    back onto the curve. Iterates outside ``xlim`` are noted in the panel."""
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(3.6 * ncols, 3.2 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, p in zip(axes.flat, panels, strict=False):
        xs = np.linspace(*p.xlim, 400)
        fs = p.f(xs)
        ax.plot(xs, fs, color="C0", lw=2, label="f(x)")
        lo, hi = float(fs.min()), float(fs.max())
        pad = 0.08 * (hi - lo)
        it = np.asarray(p.iterates)
        inside = (it >= p.xlim[0]) & (it <= p.xlim[1])
        for k in range(len(it) - 1):
            if not (inside[k] and inside[k + 1]):
                continue
            x0, x1 = it[k], it[k + 1]
            y0 = float(p.f(np.array(x0)))
            y_end = y0 + float(p.grad(np.array(x0))) * (x1 - x0)
            ax.plot(
                [x0, x1],
                [y0, y_end],
                color="0.45",
                lw=1,
                label="tangent at x_k" if k == 0 else None,
            )
            ax.plot([x1, x1], [y_end, float(p.f(np.array(x1)))], ":", color="0.6", lw=0.8)
        shown = it[inside]
        ax.plot(shown, p.f(shown), "o", color="C3", ms=4, zorder=3, label="iterates x_k")
        for k in np.flatnonzero(inside)[:4]:
            ax.annotate(
                str(k),
                (it[k], float(p.f(np.array(it[k])))),
                textcoords="offset points",
                xytext=(3, 4),
                fontsize=7,
                color="C3",
            )
        if not inside.all():
            first_out = int(np.argmin(inside))
            ax.text(
                0.5,
                0.96,
                f"x_{first_out} onward leave the plot (|x| grows)",
                transform=ax.transAxes,
                ha="center",
                va="top",
                fontsize=7,
                color="C3",
            )
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlim(*p.xlim)
        ax.set_title(p.title, fontsize="medium")
        ax.set_xlabel("x")
        ax.set_ylabel("loss f(x)")
        ax.grid(True, alpha=0.3)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title)
    return fig


def contraction_figure(
    measured: Sequence[tuple[str, np.ndarray, float]],
    errors: Sequence[tuple[str, np.ndarray]],
) -> Figure:
    """Left: measured contraction per step (markers) with its predicted value (line of the same
    colour), one (label, ratios, predicted) per run. Right: error |x_k − x*| per run, log scale."""
    fig = Figure(figsize=(10.5, 3.9), layout="constrained")
    ax_r, ax_e = fig.subplots(1, 2)
    for i, (label, ratios, predicted) in enumerate(measured):
        k = np.arange(len(ratios))
        ax_r.plot(k, ratios, "o", color=f"C{i}", ms=5, mfc="none", label=f"{label}: measured")
        ax_r.axhline(predicted, color=f"C{i}", lw=1, label=f"|1 − ηL| = {predicted:.2f}")
    ax_r.axhline(1.0, color="k", ls=":", lw=0.8)
    ax_r.set_title("Contraction per step |x_{k+1} − x*| / |x_k − x*|")
    ax_r.set_xlabel("step k")
    ax_r.set_ylabel("contraction factor")
    top = max([1.0, *(max(float(np.max(r, initial=0)), pr) for _, r, pr in measured)])
    ax_r.set_ylim(0, top + 0.55)  # room for the legend above the lines
    ax_r.legend(fontsize=7, ncols=2, loc="upper center")
    for i, (label, err) in enumerate(errors):
        shown = np.where(err > 0, err, np.nan)
        ax_e.plot(np.arange(len(err)), shown, "o-", color=f"C{i}", ms=3, label=label)
    ax_e.set_yscale("log")
    ax_e.set_title("Error |x_k − x*| (log scale)")
    ax_e.set_xlabel("step k")
    ax_e.set_ylabel("|x_k − x*|")
    ax_e.legend(fontsize=8)
    for ax in (ax_r, ax_e):
        ax.grid(True, alpha=0.3)
    return fig


def batch_size_figure(
    histories: dict[str, dict[str, list[float]]],
    sizes: Sequence[int],
    variance: Sequence[float],
    slope: float,
) -> Figure:
    """Three panels: loss against examples seen and against training seconds, one line per
    batch size (``histories[label]`` has "examples", "seconds", "loss"); then the measured
    gradient variance against B on log-log axes with the 1/B line through B = 1."""
    fig = Figure(figsize=(15.0, 4.2), layout="constrained")
    ax_n, ax_t, ax_v = fig.subplots(1, 3)
    for label, h in histories.items():
        ax_n.plot(h["examples"], h["loss"], "-", label=label)
        ax_t.plot(h["seconds"][1:], h["loss"][1:], "-", label=label)  # log x: no t = 0
    for ax, xlabel, title in (
        (ax_n, "examples seen", "Training loss vs examples seen"),
        (ax_t, "training time (s, this machine, log scale)", "Training loss vs wall time"),
    ):
        ax.set_yscale("log")
        _log_panel(ax, xlabel, "training cross-entropy (nats, log scale)", title)
    ax_t.set_xscale("log")
    sizes_a, var = np.asarray(sizes, dtype=float), np.asarray(variance)
    ax_v.loglog(sizes_a, var, "o", color="C3", label=f"measured (fitted slope {slope:.3f})")
    ax_v.loglog(sizes_a, var[0] / sizes_a, "--", color="0.4", label="1/B law (slope −1)")
    _log_panel(ax_v, "batch size B", "E‖g_B − g‖² (log scale)", "Variance of the gradient estimate")
    return fig


def cross_entropy_figure(
    curves: Sequence[tuple[float, np.ndarray, np.ndarray, float, float]],
    near_edge: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    temperature: tuple[np.ndarray, np.ndarray],
) -> Figure:
    """Three panels. (a) ``curves``: (y, a grid, C(a; y), numerical minimiser a*, minimum) per
    target y, with the minimiser marked and the formula's value as a dotted line. (b)
    ``near_edge`` = (targets y → 0, correct C, reversed C, a): both forms as y approaches 0.
    (c) ``temperature`` = (T values, softmax(z / T) rows): each class's probability against T."""
    fig = Figure(figsize=(15.0, 4.3), layout="constrained")
    ax_c, ax_r, ax_t = fig.subplots(1, 3)
    for i, (y, a, cost, a_star, c_star) in enumerate(curves):
        ax_c.plot(a, cost, color=f"C{i}", label=f"y = {y:g}")
        ax_c.plot([a_star], [c_star], "o", color=f"C{i}", ms=7, mfc="none")
        ax_c.axhline(c_star, color=f"C{i}", ls=":", lw=0.8)
    ax_c.plot([], [], "o", color="0.3", mfc="none", label="numerical minimum (at a = y)")
    ax_c.set_ylim(0, 2.5)
    ax_c.set_xlabel("output a = σ(z)")
    ax_c.set_ylabel("C = −[y ln a + (1 − y) ln(1 − a)] (nats)")
    ax_c.set_title("(a) Cross-entropy is smallest at a = y")
    ax_c.legend(fontsize=8)
    ys, correct, reversed_, a = near_edge
    ax_r.semilogx(ys, correct, "o-", ms=3, label=f"correct −[y ln a + (1−y) ln(1−a)], a = {a:g}")
    ax_r.semilogx(ys, reversed_, "s-", ms=3, label=f"reversed −[a ln y + (1−a) ln(1−y)], a = {a:g}")
    ax_r.set_xlabel("target y (log scale; y → 0)")
    ax_r.set_ylabel("cost (nats)")
    ax_r.set_title("(b) The reversed form → ∞ as y → 0 (and 1)")
    ax_r.legend(fontsize=7)
    temps, probs = temperature
    for j in range(probs.shape[1]):
        ax_t.semilogx(temps, probs[:, j], "o-", ms=3, label=f"class {j}")
    ax_t.invert_xaxis()
    ax_t.set_xlabel("temperature T (log scale, decreasing →)")
    ax_t.set_ylabel("softmax(z / T)_j")
    ax_t.set_title("(c) softmax(z / T) → one-hot arg-max as T → 0")
    ax_t.legend(fontsize=8)
    for ax in (ax_c, ax_r, ax_t):
        ax.grid(True, which="both", alpha=0.3)
    return fig


def dead_units_figure(
    fractions: dict[str, list[float]], losses: dict[str, list[float]], layers: Sequence[str]
) -> Figure:
    """Left: fraction of dead units (zero output on every training input) per hidden layer, one
    group of bars per learning rate label. Right: each run's training loss per epoch."""
    fig = Figure(figsize=(10.5, 3.9), layout="constrained")
    ax_b, ax_l = fig.subplots(1, 2)
    width = 0.8 / len(fractions)
    for i, (label, values) in enumerate(fractions.items()):
        pos = np.arange(len(layers)) + (i - (len(fractions) - 1) / 2) * width
        bars = ax_b.bar(pos, values, width, label=label, color=f"C{i}")
        ax_b.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=8)
    ax_b.set_xticks(np.arange(len(layers)), list(layers))
    ax_b.set_ylim(0, 1.12)
    ax_b.set_ylabel("fraction of dead ReLU units")
    ax_b.set_title("Dead ReLUs (output 0 on every training input)")
    ax_b.legend(fontsize=8, loc="upper left")
    for i, (label, values) in enumerate(losses.items()):
        ax_l.plot(np.arange(1, len(values) + 1), values, "o-", ms=3, color=f"C{i}", label=label)
    ax_l.set_yscale("log")
    _log_panel(ax_l, "epoch", "training cross-entropy (nats, log scale)", "Training loss")
    return fig


def boundary_thumbnails(
    rows: Sequence[Sequence[object]],
    row_labels: Sequence[str],
    *,
    title: str,
    colorbar_label: str = "P(y = 1)",
) -> Figure:
    """A grid of small decision-boundary panels (``nnlab.viz.BoundaryPanel``), one row per
    data set (labelled ``row_labels`` on the y axis) and one column per model, one colorbar."""
    from nnlab.viz.boundaries import draw_decision_boundary

    ncols = max(len(r) for r in rows)
    fig = Figure(figsize=(2.35 * ncols + 0.8, 2.6 * len(rows) + 0.5), layout="constrained")
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    filled = None
    for r, (row, label) in enumerate(zip(rows, row_labels, strict=True)):
        for c, panel in enumerate(row):
            ax = axes[r, c]
            filled = draw_decision_boundary(ax, panel, point_size=40 if r == 0 else 5)
            ax.set_title(panel.title, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.set_xlabel("x1", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{label}\nx2", fontsize=8)
        for ax in axes[r, len(row) :]:
            ax.set_visible(False)
    fig.colorbar(filled, ax=axes.ravel().tolist(), shrink=0.8, label=colorbar_label)
    fig.suptitle(title)
    return fig


def perceptron_figure(
    mistakes: dict[str, Sequence[int]],
    path: np.ndarray,
    lines: dict[str, tuple[np.ndarray, np.ndarray]],
    X: np.ndarray,
) -> Figure:
    """Left: mistakes per epoch per gate. Middle: the weights (w1, w2, b) after every example
    of one run (``path``, rows). Right: each gate's final line w·x + b = 0 over the points
    (``lines[gate] = (weights (w1, w2, b), labels)``)."""
    fig = Figure(figsize=(15.0, 4.2), layout="constrained")
    ax_m, ax_w, ax_l = fig.subplots(1, 3)
    for i, (gate, m) in enumerate(mistakes.items()):
        ax_m.plot(np.arange(1, len(m) + 1), m, "o-", ms=4, color=f"C{i}", label=gate)
    ax_m.set_xlabel("epoch (one pass over the 4 points)")
    ax_m.set_ylabel("mistakes in the epoch")
    ax_m.set_title("Mistakes per epoch")
    ax_m.set_yticks(range(5))
    ax_m.legend()
    for j, name in enumerate(("w1", "w2", "b")):
        ax_w.plot(np.arange(len(path)), path[:, j], "-", drawstyle="steps-post", label=name)
    ax_w.set_xlabel("examples seen")
    ax_w.set_ylabel("weight value")
    ax_w.set_title("XOR: the weights cycle")
    ax_w.legend()
    xs = np.linspace(-0.5, 1.5, 2)
    for i, (gate, (w, labels)) in enumerate(lines.items()):
        if abs(w[1]) > 1e-12:
            ax_l.plot(xs, -(w[0] * xs + w[2]) / w[1], color=f"C{i}", label=f"{gate}: w·x + b = 0")
        elif abs(w[0]) > 1e-12:
            ax_l.axvline(-w[2] / w[0], color=f"C{i}", label=f"{gate}: w·x + b = 0")
        for x, lab in zip(X, labels, strict=True):
            offset = 0.05 * (i - 1)
            ax_l.plot(
                x[0] + offset, x[1] + offset, "o" if lab else "x", color=f"C{i}", ms=7, mfc="none"
            )
    ax_l.plot([], [], "o", color="0.3", mfc="none", label="y = 1")
    ax_l.plot([], [], "x", color="0.3", label="y = 0")
    ax_l.set_xlim(-0.5, 1.5)
    ax_l.set_ylim(-0.5, 1.5)
    ax_l.set_aspect("equal")
    ax_l.set_xlabel("x1")
    ax_l.set_ylabel("x2")
    ax_l.set_title("Final lines (XOR: wherever the cycle stopped)")
    ax_l.legend(fontsize=7, loc="upper right")
    for ax in (ax_m, ax_w, ax_l):
        ax.grid(True, alpha=0.3)
    return fig


def unit_patches_figure(patches: np.ndarray, values: np.ndarray, *, title: str) -> Figure:
    """Rows of image patches, one row per unit (``patches`` (units, top, h, w)), each patch
    titled with its activation ``values[unit, k]``; all on one grey scale per row."""
    units, top = patches.shape[:2]
    fig = Figure(figsize=(1.05 * top + 0.9, 1.15 * units + 0.6), layout="constrained")
    axes = fig.subplots(units, top, squeeze=False)
    for u in range(units):
        lo, hi = float(patches[u].min()), float(patches[u].max())
        for k in range(top):
            ax = axes[u, k]
            ax.imshow(patches[u, k], cmap="gray", vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{values[u, k]:.2f}", fontsize=7)
        axes[u, 0].set_ylabel(f"channel {u}", fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def _log_panel(ax, xlabel: str, ylabel: str, title: str) -> None:
    """Labels, title, legend and a grid on both the major and minor ticks of a log axis."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)


@dataclass(frozen=True)
class WeightPathPanel:
    """A 2-D weight path ``path`` (K, 2) towards ``w_star`` over the contours of the mean
    squared error ½ (w − w*)ᵀ C (w − w*), C = E[x xᵀ] of the inputs (``second_moment``)."""

    path: np.ndarray
    w_star: np.ndarray
    second_moment: np.ndarray
    title: str


def weight_paths_figure(panels: Sequence[WeightPathPanel], *, title: str) -> Figure:
    """One panel per path: loss contours (the same limits in every panel), the path from its
    start (square) to w* (star), each step a segment."""
    fig = Figure(figsize=(4.6 * len(panels), 4.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    points = np.vstack([np.vstack([p.path, p.w_star]) for p in panels])
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.15 * (hi - lo).max()
    xs = np.linspace(lo[0] - pad, hi[0] + pad, 201)
    ys = np.linspace(lo[1] - pad, hi[1] + pad, 201)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    for ax, p in zip(axes, panels, strict=True):
        d = grid - p.w_star
        loss = 0.5 * np.einsum("...i,ij,...j->...", d, p.second_moment, d)
        ax.contour(xs, ys, loss, levels=12, colors="0.75", linewidths=0.7)
        ax.plot(p.path[:, 0], p.path[:, 1], "-", color="C0", lw=0.9, label="SGD path")
        ax.plot(p.path[:, 0], p.path[:, 1], ".", color="C0", ms=3)
        ax.plot(*p.path[0], "s", color="k", ms=6, label="start w = 0")
        ax.plot(*p.w_star, "*", color="C3", ms=14, label="optimum w*")
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_xlabel("weight w₁")
        ax.set_ylabel("weight w₂")
        ax.set_title(p.title, fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(title)
    return fig
