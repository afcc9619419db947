"""The playground's 2-D data sets, on the square [-6, 6]^2 the page draws.

Classification: circle, xor, gaussians, spiral and moons come from `nnlab.data.make_toy` (two
classes, scaled by 4); spiral and blobs also come with 3 to 5 classes. Regression: plane and
multigauss, whose target lies in [-1, 1]. `noise` is in percent (0 to 50) as on the page; it
moves the points (never the labels), like TensorFlow Playground's slider.
"""

from __future__ import annotations

import numpy as np

from nnlab.data import make_toy

EXTENT = 6.0  # the drawn square is [-EXTENT, EXTENT]^2
_TOY_SCALE = 4.0  # make_toy fits in about [-1.5, 1.5]^2
CLASSIFICATION = ("circle", "xor", "gaussians", "spiral", "moons", "blobs")
REGRESSION = ("plane", "multigauss")
MULTICLASS = ("spiral", "blobs")  # the sets that take classes = 3..5


def _spiral(rng: np.random.Generator, y: np.ndarray, k: int, noise: float) -> np.ndarray:
    t = rng.uniform(0.05, 1.0, y.size)
    angle = 1.75 * 2 * np.pi * t + 2 * np.pi * y / k
    radius = 5.0 * t
    x = radius[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    return x + rng.normal(0.0, noise * 1.6, x.shape)


def _blobs(rng: np.random.Generator, y: np.ndarray, k: int, noise: float) -> np.ndarray:
    angle = 2 * np.pi * y / k + np.pi / 4
    centres = 3.2 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centres + rng.normal(0.0, 0.6 + 2.5 * noise, (y.size, 2))


# (centre x1, centre x2, sign): bumps of the multigauss surface
_BUMPS = ((-3.0, 2.5, 1.0), (2.5, 3.0, -1.0), (3.0, -2.5, 1.0), (-2.5, -3.0, -1.0), (0, 0, 0.8))


def _multigauss(x: np.ndarray) -> np.ndarray:
    value = np.zeros(len(x))
    for cx, cy, sign in _BUMPS:
        value += sign * np.exp(-((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) / (2 * 1.5**2))
    return np.clip(value, -1.0, 1.0)


def generate(
    kind: str, n: int, noise_percent: float, seed: int, classes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """`(X, y)`: `n` points in [-6, 6]^2 (float64) and integer labels 0..classes-1 (int64), or
    float targets in [-1, 1] for a regression set. Deterministic in its arguments."""
    noise = noise_percent / 100.0
    rng = np.random.default_rng(seed)
    if kind in REGRESSION:
        x = rng.uniform(-EXTENT, EXTENT, (n, 2))
        target = (x[:, 0] + x[:, 1]) / (2 * EXTENT) if kind == "plane" else _multigauss(x)
        x = x + rng.normal(0.0, noise * EXTENT / 2, x.shape)
        return np.clip(x, -EXTENT, EXTENT), target.astype(np.float64)
    if kind in MULTICLASS and (classes > 2 or kind == "blobs"):
        y = rng.permutation(np.arange(n) % classes).astype(np.int64)
        x = (_spiral if kind == "spiral" else _blobs)(rng, y, classes, noise)
        return np.clip(x, -EXTENT, EXTENT), y
    if kind not in CLASSIFICATION:
        raise ValueError(f"unknown data set {kind!r}")
    x, y = make_toy(kind, n=n, noise=noise * 0.4, seed=seed)
    return np.clip(x * _TOY_SCALE, -EXTENT, EXTENT), y


def split(n: int, train_percent: float, seed: int) -> np.ndarray:
    """A boolean mask: True for the round(n * train_percent / 100) training points."""
    mask = np.zeros(n, dtype=bool)
    mask[: int(round(n * train_percent / 100.0))] = True
    return np.random.default_rng(seed + 1).permutation(mask)
