"""Are PCA and an autoencoder robust to outliers? (seed 003 ICE #4 statement 3.)

Both minimise the squared reconstruction error, so a few far-off points pull them alike. On
2-D data, PCA's first direction (``nnlab.numerics.pca``) and the decoder direction of a
2-1-2 linear autoencoder trained by gradient descent on the mean squared error are compared
with and without outliers::

    first_direction(x)                       # PCA's first component, a unit vector
    autoencoder_direction(x, rng=rng)        # the trained decoder's weights, normalised
    angle_degrees(u, v)                      # 0-90: lines, not arrows
"""

from __future__ import annotations

import numpy as np

from nnlab.numerics.pca import fit_pca


def first_direction(x: np.ndarray) -> np.ndarray:
    return fit_pca(x, 1).components[0]


def autoencoder_direction(
    x: np.ndarray, *, rng: np.random.Generator, steps: int = 3000, lr: float = 0.02
) -> np.ndarray:
    """Train h = x·w_e + b_e, x̂ = h w_d + b_d by full-batch gradient descent on
    mean ‖x̂ − x‖² from small random weights; return w_d / ‖w_d‖."""
    n = len(x)
    w_e, w_d = rng.normal(0.0, 0.5, x.shape[1]), rng.normal(0.0, 0.5, x.shape[1])
    b_e, b_d = 0.0, np.zeros(x.shape[1])
    for _ in range(steps):
        h = x @ w_e + b_e
        err = np.outer(h, w_d) + b_d - x  # (n, d)
        g_h = err @ w_d * (2 / n)
        g_wd, g_bd = (err * h[:, None]).sum(axis=0) * (2 / n), err.sum(axis=0) * (2 / n)
        w_e, b_e = w_e - lr * (x.T @ g_h), b_e - lr * g_h.sum()
        w_d, b_d = w_d - lr * g_wd, b_d - lr * g_bd
    return w_d / np.linalg.norm(w_d)


def angle_degrees(u: np.ndarray, v: np.ndarray) -> float:
    """The angle between the lines along u and v, in [0, 90] degrees."""
    c = abs(float(u @ v)) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(min(1.0, c))))
