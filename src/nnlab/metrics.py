"""Image-quality metrics on NumPy arrays.

PSNR (peak signal-to-noise ratio) of images with values in [0, 1], so the peak is 1::

    psnr(reconstructions, originals)       # dB per image (row)
    mean_psnr(reconstructions, originals)  # the mean of those, the usual single number
"""

from __future__ import annotations

import numpy as np

#: Mean squared errors are floored at this, so a perfect reconstruction scores 100 dB.
MIN_MSE = 1e-10


def psnr(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """PSNR of each image (row) in dB for values in [0, 1]: 10 log10(1 / mean squared error).
    A perfect reconstruction is capped at 100 dB (MSE 1e-10)."""
    diff = pred.astype(np.float64) - target
    mse = np.mean(diff * diff, axis=1)
    return 10.0 * np.log10(1.0 / np.maximum(mse, MIN_MSE))


def mean_psnr(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean over images of the per-image PSNR (dB)."""
    return float(np.mean(psnr(pred, target)))


def psnr_of_mean_mse(pred: np.ndarray, target: np.ndarray) -> float:
    """10 log10(1 / MSE over every pixel of every image) (dB): lower than ``mean_psnr``, as
    the log is concave."""
    diff = pred.astype(np.float64) - target
    return float(10.0 * np.log10(1.0 / max(float(np.mean(diff * diff)), MIN_MSE)))
