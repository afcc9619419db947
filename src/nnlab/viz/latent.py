"""Figures of codes and of denoising in the plane: 2-D codes coloured by class, one panel per
model; a clean and a corrupted 2-D data set; a denoiser's vector field x̃ → r(x̃) − x̃.

    fig = latent_scatter([LatentPanel(codes, y, "conv AE (kNN 0.71)")], names, title="Codes")
    fig, caption = autoencoder_codes(codes, y, metrics, names, "conv AE")
    fig = denoising_field(clean, corrupted, grid_xy, arrows, curve, title="DAE on y = x²")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure


@dataclass(frozen=True)
class LatentPanel:
    """One panel: codes (N, 2) (only the first two coordinates are drawn; 1-D codes are drawn
    against their class), a label per code, the panel's title and the axis names."""

    codes: np.ndarray
    labels: np.ndarray
    title: str
    xlabel: str = "code 1"
    ylabel: str = "code 2"


def latent_scatter(
    panels: Sequence[LatentPanel],
    class_names: Sequence[str],
    *,
    title: str,
    ncols: int = 3,
    panel_size: float = 4.2,
) -> Figure:
    """One scatter plot per panel, points coloured by class (tab10, a legend of every class
    at the right), each panel with its own axis range (the codes of two models share no
    scale)."""
    import matplotlib as mpl

    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(panel_size * ncols + 1.4, panel_size * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    cmap = mpl.colormaps["tab10" if len(class_names) <= 10 else "tab20"]
    for ax, panel in zip(axes, panels, strict=False):
        codes, labels = np.asarray(panel.codes), np.asarray(panel.labels)
        one = codes.ndim == 1 or codes.shape[1] == 1
        codes = codes.reshape(len(codes), -1)
        for c, name in enumerate(class_names):
            pts = codes[labels == c]
            y = np.full(len(pts), float(c)) if one else pts[:, 1]
            ax.scatter(pts[:, 0], y, s=3, alpha=0.6, color=cmap(c), label=name, lw=0)
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel("class" if one else panel.ylabel)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    handles, names = axes[0].get_legend_handles_labels()
    legend = fig.legend(handles, names, loc="outside right center", title="class", markerscale=4)
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)
    fig.suptitle(title)
    return fig


def autoencoder_codes(
    codes: np.ndarray,
    labels: np.ndarray,
    metrics: dict[str, float],
    class_names: Sequence[str],
    title: str,
) -> tuple[Figure, str]:
    """One autoencoder's test codes coloured by class, titled with their kNN-5 accuracy and
    silhouette (`training.evaluate_autoencoder`'s metrics), and the figure's caption."""
    fig = latent_scatter(
        [
            LatentPanel(
                codes,
                labels,
                f"kNN-5 accuracy {metrics['knn_accuracy']:.3f}, "
                f"silhouette {metrics['silhouette']:.3f}",
            )
        ],
        class_names,
        title=f"{title}: test codes",
        ncols=1,
        panel_size=5.5,
    )
    caption = (
        f"The {codes.shape[1]}-D codes of the {len(labels)} test images"
        + (" (first two coordinates)" if codes.shape[1] > 2 else "")
        + ", coloured by class. kNN accuracy: each test code classified by its 5 nearest "
        "training codes; silhouette of 2000 test codes grouped by class (1: tight, "
        "separate clusters; 0: overlapping)."
    )
    return fig, caption


def denoising_field(
    clean: np.ndarray,
    corrupted: np.ndarray,
    grid: np.ndarray,
    arrows: np.ndarray,
    curve: np.ndarray,
    *,
    title: str,
    corruption: str,
) -> Figure:
    """Two panels. Left: the clean 2-D points and their corrupted copies. Right: the vector
    field ``arrows`` (r(x̃) − x̃) at the ``grid`` points, over the curve the data lie on."""
    fig = Figure(figsize=(11.5, 5.0), layout="constrained")
    left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    left.scatter(
        *corrupted.T, s=4, color="#b2182b", alpha=0.5, lw=0, label=f"corrupted: {corruption}"
    )
    left.scatter(*clean.T, s=4, color="#2166ac", lw=0, label="clean x")
    left.set_title("Data and its corruption C(x̃ | x)")
    right.plot(*curve.T, color="#2166ac", lw=1.5, label="the data's curve")
    length = np.hypot(*arrows.T)
    quiver = right.quiver(
        *grid.T, *arrows.T, length, cmap="viridis", angles="xy", scale_units="xy", scale=1.0
    )
    fig.colorbar(quiver, ax=right, label="|r(x̃) − x̃|", shrink=0.85)
    right.set_title("Denoising autoencoder: r(x̃) − x̃")
    for ax in (left, right):
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper center", fontsize="small", markerscale=3)
        ax.set_aspect("equal", adjustable="box")
    fig.suptitle(title)
    return fig
