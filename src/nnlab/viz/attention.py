"""Attention maps: which earlier tokens each position of a sequence attends to."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def attention_map(weights: np.ndarray, tokens: Sequence[str], *, title: str) -> Figure:
    """A (T, T) matrix of attention probabilities (row: query position, column: key
    position), with each axis labelled by its token (`repr`-like for space and newline)."""
    shown = [{" ": "␣", "\n": "↵"}.get(t, t) for t in tokens]
    t = len(shown)
    side = min(12.0, 2.5 + 0.22 * t)
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=float(np.max(weights)))
    ax.set_xticks(range(t), shown, fontsize=8, family="monospace")
    ax.set_yticks(range(t), shown, fontsize=8, family="monospace")
    ax.set_xlabel("key: the earlier character attended to")
    ax.set_ylabel("query: the character predicting the next one")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8, label="attention probability")
    return fig


def cross_attention_maps(
    weights: Sequence[np.ndarray],
    sources: Sequence[str],
    outputs: Sequence[str],
    titles: Sequence[str],
    *,
    title: str,
) -> Figure:
    """One panel per example of a (T, S) matrix of attention probabilities: row t is the
    output character written at step t, column s the source character it reads (spaces
    shown as ␣)."""
    n = len(weights)
    cols = min(n, 2)
    rows = (n + cols - 1) // cols
    width = max(len(s) for s in sources)
    fig = Figure(figsize=(cols * (1.6 + 0.24 * width), rows * 3.3 + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    image = None
    top = max(float(np.max(w)) for w in weights)  # one colour scale for every panel
    for ax, w, src, out, name in zip(axes, weights, sources, outputs, titles, strict=False):
        image = ax.imshow(w[:, : len(src)], cmap="viridis", vmin=0.0, vmax=top, aspect="auto")
        ax.set_xticks(range(len(src)), [{" ": "␣"}.get(c, c) for c in src], family="monospace")
        ax.set_yticks(range(len(out)), list(out), family="monospace")
        ax.set_xlabel("source character (read)")
        ax.set_ylabel("output character (written)")
        ax.set_title(name, fontsize=10)
    for ax in axes[n:]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:n]), shrink=0.8, label="attention weight")
    fig.suptitle(title)
    return fig
