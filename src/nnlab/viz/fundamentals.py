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
        ax.set_xlabel(xlabel)
        ax.set_ylabel("training cross-entropy (nats, log scale)")
        ax.set_title(title)
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.set_xscale("log")
    sizes_a, var = np.asarray(sizes, dtype=float), np.asarray(variance)
    ax_v.loglog(sizes_a, var, "o", color="C3", label=f"measured (fitted slope {slope:.3f})")
    ax_v.loglog(sizes_a, var[0] / sizes_a, "--", color="0.4", label="1/B law (slope −1)")
    ax_v.set_xlabel("batch size B")
    ax_v.set_ylabel("E‖g_B − g‖² (log scale)")
    ax_v.set_title("Variance of the gradient estimate")
    ax_v.legend(fontsize=8)
    ax_v.grid(True, which="both", alpha=0.3)
    return fig
