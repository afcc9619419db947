"""Figures of images: originals above their reconstructions, mosaics of many small tiles
(filters, patches) drawn as one image each, whitened photographs.

Mosaics (``nnlab.imaging.mosaic``) draw hundreds of tiles as one image: much faster than one
axes per tile, as ``image_grid`` does."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

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
