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
