"""Overlaid histograms: the distribution of one quantity in several groups, e.g. before and
after training, drawn over each other on the same bins, with a marked threshold or target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Histogram:
    """One group: its values, legend label, colour and opacity (None: opaque)."""

    values: np.ndarray
    label: str
    color: str
    alpha: float | None = None


def overlaid_histograms(
    hists: Sequence[Histogram],
    bins: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    marker: tuple[float, str] | None = None,
    log_x: bool = False,
    xlim: tuple[float, float] | None = None,
    legend_loc: str = "best",
    figsize: tuple[float, float] = (7.0, 3.6),
) -> Figure:
    """The histograms on common ``bins``, drawn in order (later ones on top); ``marker`` is a
    dashed vertical line ``(x, legend label)``, e.g. a threshold or a target value."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    for h in hists:
        ax.hist(h.values, bins=bins, color=h.color, alpha=h.alpha, label=h.label)
    if marker is not None:
        ax.axvline(marker[0], color="#b2182b", ls="--", lw=2, label=marker[1])
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_title(title)
    ax.legend(fontsize=9, loc=legend_loc)
    return fig
