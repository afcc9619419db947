"""Two-class 2-D toy data sets, after TensorFlow Playground's.

Every set is exactly balanced (class counts differ by at most one), shuffled, and fits
roughly in [-1.5, 1.5]^2. `noise` is the standard deviation of Gaussian noise added to the
coordinates; the labels come from the noise-free points.
"""

from __future__ import annotations

import numpy as np

from nnlab.data.digest import note_dataset
from nnlab.errors import DataError

TOY_KINDS: dict[str, str] = {
    "circle": "2-D toy set: a disk (class 1) inside a ring (class 0)",
    "xor": "2-D toy set: quadrants, class 1 where x and y have the same sign",
    "gaussians": "2-D toy set: two Gaussian blobs",
    "spiral": "2-D toy set: two interleaved spirals",
    "moons": "2-D toy set: two interleaved half circles",
}


def _circle(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    # class 1: radius in [0, 0.5]; class 0: radius in [0.7, 1.0]
    radius = np.where(y == 1, rng.uniform(0.0, 0.5, y.size), rng.uniform(0.7, 1.0, y.size))
    angle = rng.uniform(0.0, 2 * np.pi, y.size)
    return radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _xor(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    # |x|, |y| in [0.1, 1]: a small margin keeps points off the axes
    magnitude = rng.uniform(0.1, 1.0, (y.size, 2))
    sign = rng.choice([-1.0, 1.0], y.size)
    second = np.where(y == 1, sign, -sign)
    return magnitude * np.stack([sign, second], axis=1)


def _gaussians(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    centre = np.where(y == 1, 0.6, -0.6)[:, None]
    return centre + rng.normal(0.0, 0.35, (y.size, 2))


def _spiral(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    t = rng.uniform(0.0, 1.0, y.size)
    angle = 1.75 * 2 * np.pi * t + np.pi * y
    return t[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)


def _moons(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    angle = rng.uniform(0.0, np.pi, y.size)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    points = np.where(y[:, None] == 0, upper, lower)
    return points - [0.5, 0.25]  # centre the pair on the origin


_MAKERS = {
    "circle": _circle,
    "xor": _xor,
    "gaussians": _gaussians,
    "spiral": _spiral,
    "moons": _moons,
}


def make_toy(
    kind: str, n: int = 200, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return `(X, y)`: `n` points of shape (n, 2), float64, and labels 0/1, int64.

    Deterministic for a given (kind, n, noise, seed).
    """
    if kind not in _MAKERS:
        raise DataError(f"unknown toy data set {kind!r}; choose one of: {', '.join(_MAKERS)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataError(f"toy data set size n must be an integer >= 1, got {n!r}")
    if not isinstance(noise, (int, float, np.number)) or not np.isfinite(noise) or noise < 0:
        raise DataError(f"toy data set noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 2).astype(np.int64)
    x = (_MAKERS[kind](rng, y) + rng.normal(0.0, noise, (n, 2))).astype(np.float64)
    note_dataset(f"toy-{kind}", {"x": x, "y": y}, n=int(n), noise=float(noise), seed=int(seed))
    return x, y
