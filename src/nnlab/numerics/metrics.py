"""Metrics on NumPy arrays: image quality (PSNR), the linear separability of a data set, the
most confused class pairs of a confusion matrix, how well codes (embeddings) keep classes
apart (k-nearest-neighbour accuracy, silhouette).

PSNR (peak signal-to-noise ratio) of images with values in [0, 1], so the peak is 1::

    psnr(reconstructions, originals)       # dB per image (row)
    mean_psnr(reconstructions, originals)  # the mean of those, the usual single number
    max_linear_accuracy(X, y)              # the best any linear classifier does: XOR 0.75
    confused_pairs_unordered(cm, names, 5)  # look-alike classes of a confusion matrix
    knn_accuracy(train_codes, y_train, test_codes, y_test, k=5)  # classes kept by a code
    silhouette(codes, labels, sample=2000, seed=0)  # -1..1: class clusters apart and tight
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


def knn_accuracy(
    train_codes: np.ndarray,
    train_labels: np.ndarray,
    test_codes: np.ndarray,
    test_labels: np.ndarray,
    k: int = 5,
) -> float:
    """Accuracy on the test codes of a k-nearest-neighbour vote (Euclidean, uniform weights)
    among the training codes: how much class information a code keeps, and how locally."""
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=k, algorithm="auto")
    knn.fit(np.asarray(train_codes, np.float64), np.asarray(train_labels))
    predicted = knn.predict(np.asarray(test_codes, np.float64))
    return float(np.mean(predicted == np.asarray(test_labels)))


def silhouette(codes: np.ndarray, labels: np.ndarray, sample: int = 2000, seed: int = 0) -> float:
    """Mean silhouette (b - a) / max(a, b) of the codes grouped by label (Euclidean): near 1
    when each class is a tight cluster far from the others, near 0 when they overlap. It
    costs O(n²), so it is measured on ``sample`` codes drawn at random (seeded)."""
    from sklearn.metrics import silhouette_score

    codes = np.asarray(codes, np.float64)
    labels = np.asarray(labels)
    if len(codes) > sample:
        idx = np.random.default_rng(seed).choice(len(codes), size=sample, replace=False)
        codes, labels = codes[idx], labels[idx]
    return float(silhouette_score(codes, labels))
