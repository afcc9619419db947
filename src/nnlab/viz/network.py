"""Network diagrams: a small 2-2-2 network with every number of one training step on it."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

#: Where the nodes of the 2-2-2 network sit: inputs x1, x2; hidden h1, h2; outputs o1, o2;
#: the bias b1 shared by the hidden units and b2 shared by the outputs.
POSITIONS = {
    "x1": (0.0, 2.4),
    "x2": (0.0, 0.0),
    "h1": (4.5, 2.4),
    "h2": (4.5, 0.0),
    "o1": (9.0, 2.4),
    "o2": (9.0, 0.0),
    "b1": (2.25, 4.3),
    "b2": (6.75, 4.3),
}
BIAS_TARGETS = {"b1": ("h1", "h2"), "b2": ("o1", "o2")}
RADIUS = 0.42
COLOURS = {"x": "#d6e9ff", "h": "#ffe8c2", "o": "#d9f2d0", "b": "#f3f3f3"}


def _g(v: float, digits: int = 6) -> str:
    return f"{v:.{digits}g}"


def backprop_step_figure(
    inputs: Mapping[str, float],
    targets: Mapping[str, float],
    edges: Mapping[str, tuple[str, str]],
    before: Mapping[str, float],
    after: Mapping[str, float],
    units: Mapping[str, tuple[float, float, float]],
    title: str,
) -> Figure:
    """The 2-2-2 network of one gradient step: edges labelled with their weight before → after,
    the biases likewise, every unit with its pre-activation z, activation and δ = ∂C/∂z.

    ``inputs``: {"x1": value, "x2": value}; ``targets``: {"o1": t1, "o2": t2}; ``edges``: weight
    name -> (source node, unit it feeds), e.g. {"w1": ("x1", "h1"), ...}; ``before``/``after``:
    every parameter (the weights of ``edges``, "b1", "b2") by name; ``units``: {"h1": (z, a,
    δ), ...} for h1, h2, o1, o2.
    """
    fig = Figure(figsize=(15.0, 6.8), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(-1.6, 11.6)
    ax.set_ylim(-2.2, 5.0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    pos, r = POSITIONS, RADIUS

    def arrow(a: str, b: str, **style: object) -> None:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        d = np.hypot(xb - xa, yb - ya)
        ux, uy = (xb - xa) / d, (yb - ya) / d
        ax.annotate(
            "",
            xy=(xb - r * ux, yb - r * uy),
            xytext=(xa + r * ux, ya + r * uy),
            arrowprops={"arrowstyle": "-|>", **style},
        )

    def step_label(k: str) -> str:
        return f"{k}: {_g(before[k])} → {_g(after[k])}"

    for k, (a, b) in edges.items():
        arrow(a, b, color="0.35", lw=1.2)
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if ya == yb:  # horizontal: the label at mid-edge, above the top edge, below the bottom
            frac, offset = 0.5, (0.0, 0.28 if ya > 1 else -0.28)
        else:  # the crossing diagonals: labels near their source, apart from each other
            frac, offset = 0.26, (0.0, 0.0)
        ax.text(
            xa + frac * (xb - xa) + offset[0],
            ya + frac * (yb - ya) + offset[1],
            step_label(k),
            ha="center",
            va="center",
            fontsize=8.5,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.7", "lw": 0.6},
        )
    for bias, targets_of_bias in BIAS_TARGETS.items():
        for unit in targets_of_bias:
            arrow(bias, unit, color="0.6", lw=0.9, ls="--")

    for name, (cx, cy) in pos.items():
        ax.add_patch(Circle((cx, cy), r, fc=COLOURS[name[0]], ec="0.25", lw=1.2, zorder=3))
        ax.text(cx, cy, name, ha="center", va="center", fontsize=12, weight="bold", zorder=4)
    for name, value in inputs.items():
        cx, cy = pos[name]
        ax.text(cx - r - 0.12, cy, f"{name} = {_g(value)}", ha="right", va="center")
    for bias in BIAS_TARGETS:
        cx, cy = pos[bias]
        ax.text(
            cx + r + 0.12, cy, step_label(bias), ha="left", va="center", fontsize=9, color="0.2"
        )
    for unit, (z, a, delta) in units.items():
        cx, cy = pos[unit]
        text = f"z = {_g(z, 9)}\n{unit} = σ(z) = {_g(a, 9)}\nδ = ∂C/∂z = {_g(delta, 6)}"
        above = cy > 1
        ax.text(
            cx,
            cy + (r + 0.15) * (1 if above else -1),
            text,
            ha="center",
            va="bottom" if above else "top",
            fontsize=8.5,
            linespacing=1.3,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.25", "fc": "#fffdf3", "ec": "0.75", "lw": 0.6},
        )
    for i, (unit, target) in enumerate(targets.items()):
        cx, cy = pos[unit]
        ax.text(cx + r + 0.15, cy, f"target t{i + 1} = {_g(target)}", ha="left", va="center")
    ax.text(
        4.5,
        -2.1,
        "edges: weight before → after the step;   δ = ∂C/∂z;   ∂C/∂w = δ of the unit the weight "
        "feeds × the value it multiplies;   b1 (b2) is shared by both hidden (output) units",
        ha="center",
        va="bottom",
        fontsize=9,
        color="0.3",
    )
    fig.suptitle(title, fontsize=13)
    return fig
