"""Figures of images: originals above their reconstructions, mosaics of many small tiles
(filters, patches) drawn as one image each, whitened photographs.

Mosaics (``nnlab.numerics.imaging.mosaic``) draw hundreds of tiles as one image: much faster than
one
axes per tile, as ``image_grid`` does."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from nnlab.numerics.imaging import contrast_normalise, mosaic
from nnlab.viz.figures import image_grid


def reconstruction_rows(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    original_titles: Sequence[str],
    reconstruction_titles: Sequence[str],
    ncols: int,
    title: str = "Images (odd rows) and their reconstructions (even rows)",
) -> Figure:
    """Row pairs: a row of ``ncols`` originals, then the row of their reconstructions beneath
    it, and so on. Images (n, h, w) or flattened square (n, side²), values in [0, 1]."""
    n = len(originals)
    if len(reconstructions) != n or len(original_titles) != n or len(reconstruction_titles) != n:
        raise ValueError(
            "reconstruction_rows: originals, reconstructions and titles differ in length"
        )
    images, titles = [], []
    for start in range(0, n, ncols):
        block = range(start, min(start + ncols, n))
        images += [originals[i] for i in block]
        titles += [original_titles[i] for i in block]
        images += [reconstructions[i] for i in block]
        titles += [reconstruction_titles[i] for i in block]
    stacked = np.stack(images)
    if stacked.ndim == 2:
        side = int(round(np.sqrt(stacked.shape[1])))
        stacked = stacked.reshape(-1, side, side)
    return image_grid(stacked, ncols=ncols, titles=titles, title=title, normalize=None)


def mosaics_figure(
    tile_sets: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    title: str = "Images",
    *,
    pad: int = 1,
    background: float = 0.0,
    normalize: str | None = None,
) -> Figure:
    """One mosaic per set of tiles (n, h, w), side by side (e.g. inputs and their
    reconstructions); ``normalize`` as in ``image_grid`` (None: values in [0, 1] as they are)."""
    shown = [mosaic(np.asarray(tiles), pad=pad, background=background) for tiles in tile_sets]
    return image_grid(
        np.stack(shown), ncols=len(shown), titles=titles, title=title, normalize=normalize
    )


def filters_figure(
    filter_sets: Sequence[np.ndarray], titles: Sequence[str], title: str, dpi: int = 110
) -> Figure:
    """Sets of filters (n, h, w), e.g. trained and initial weights, one mosaic each; every
    filter divided by its own max |w| (grey is 0, white +max, black −max), black between
    filters. Sized for at least 3 screen pixels per weight at ``dpi``, panels >= 3 inches."""
    shown = [mosaic(contrast_normalise(w), background=-1.0) for w in filter_sets]
    fig = image_grid(
        np.stack(shown), ncols=len(shown), titles=titles, title=title, normalize="global"
    )
    panel = max(3.0, 3 * shown[0].shape[1] / dpi)
    fig.set_size_inches(len(shown) * panel + 1.2, panel + 0.9)
    return fig


def whitened_images_figure(
    images: np.ndarray, n: int = 9, title: str | None = None, clip: float = 3.0
) -> Figure:
    """Up to ``n`` of the whitened images (N, h, w), evenly spaced through the stack, in one
    mosaic; each shown within ±``clip`` of its own standard deviations (mid-grey is 0)."""
    shown = images[np.unique(np.linspace(0, len(images) - 1, n).round().astype(int))]
    scale = clip * shown.std(axis=(1, 2), keepdims=True)
    tiles = np.clip(shown / scale, -1.0, 1.0) * 0.5 + 0.5
    return image_grid(
        mosaic(tiles, pad=4, background=1.0)[None],
        title=title or f"Whitened source images ({images.shape[1]}x{images.shape[2]})",
        normalize=None,
    )
