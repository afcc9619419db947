"""Metrics on NumPy arrays: image quality (PSNR), the linear separability of a data set, the
most confused class pairs of a confusion matrix.

PSNR (peak signal-to-noise ratio) of images with values in [0, 1], so the peak is 1::

    psnr(reconstructions, originals)       # dB per image (row)
    mean_psnr(reconstructions, originals)  # the mean of those, the usual single number
    max_linear_accuracy(X, y)              # the best any linear classifier does: XOR 0.75
    confused_pairs_unordered(cm, names, 5)  # look-alike classes of a confusion matrix
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

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


def max_linear_accuracy(X: np.ndarray, y: np.ndarray) -> float:
    """The best accuracy any linear classifier [w·x + b > 0] reaches on (X, y), exactly.

    A subset of points can all be classified correctly iff the linear program
    s_i (w·x_i + b) >= 1 (s_i = ±1) is feasible; the answer is the largest feasible subset.
    ``y`` holds labels 0/1 (any shape with one per row of ``X``). It solves up to 2^n linear
    programs: meant for a handful of points, such as the four of XOR (answer 0.75).
    """
    from scipy.optimize import linprog

    signs = np.where(y.reshape(-1) > 0.5, 1.0, -1.0)
    n, dims = X.shape[0], X.shape[1] + 1  # the weights w and the bias b
    for size in range(n, 0, -1):
        for subset in combinations(range(n), size):
            idx = list(subset)
            a_ub = -signs[idx, None] * np.hstack([X[idx], np.ones((size, 1))])
            res = linprog(
                np.zeros(dims), A_ub=a_ub, b_ub=-np.ones(size), bounds=[(None, None)] * dims
            )
            if res.status == 0:
                return size / n
    return 0.0


def confused_pairs_unordered(cm: np.ndarray, names: Sequence[str], k: int) -> list[dict[str, Any]]:
    """The ``k`` pairs "a/b" with the most images of one predicted as the other, both ways
    summed (``count``), and each way (``first_as_second``: a predicted as b, and the reverse)."""
    both = cm + cm.T
    cells = [
        (int(both[i, j]), i, j)
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if both[i, j] > 0
    ]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [
        {
            "pair": f"{names[i]}/{names[j]}",
            "count": count,
            "first_as_second": int(cm[i, j]),
            "second_as_first": int(cm[j, i]),
        }
        for count, i, j in cells[:k]
    ]
