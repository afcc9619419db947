"""Activation functions and their derivatives, with numerical estimates of the derivatives."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure


def activations_figure(
    x: np.ndarray,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    x_check: np.ndarray,
    numeric: Mapping[str, np.ndarray],
    *,
    ylim: tuple[float, float] = (-1.6, 5.2),
    derivative_ylim: tuple[float, float] = (-0.1, 1.15),
    numeric_label: str = "central difference",
) -> Figure:
    """Two panels: each function f(x) (left) and its derivative f'(x) (right) over ``x``,
    ``curves[label] = (f(x), f'(x))``; circles of the same colour mark ``numeric[label]``,
    a numerical estimate of f' at the points ``x_check``, on the right."""
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    ax_f, ax_d = fig.subplots(1, 2)
    for label, (values, derivative) in curves.items():
        (line,) = ax_f.plot(x, values, label=label)
        ax_d.plot(x, derivative, color=line.get_color(), label=label)
        if label in numeric:
            ax_d.plot(x_check, numeric[label], "o", ms=3.5, mfc="none", color=line.get_color())
    ax_d.plot([], [], "o", ms=3.5, mfc="none", color="0.3", label=numeric_label)
    ax_f.set_title("Activation functions f(x)")
    ax_f.set_ylim(*ylim)
    ax_f.set_ylabel("f(x)")
    ax_d.set_title("Derivatives f'(x) (lines: engine; circles: numeric)")
    ax_d.set_ylim(*derivative_ylim)
    ax_d.set_ylabel("f'(x)")
    for ax in (ax_f, ax_d):
        ax.set_xlabel("x (pre-activation)")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.legend(fontsize=8, loc="upper left")
    return fig
