"""Principal component analysis and principal angles between subspaces, in NumPy.

pca = fit_pca(x_train, 30)             # rows of x_train are examples
codes = pca.transform(x_test)          # (N, 30) coordinates in the top-30 subspace
recon = pca.reconstruct(x_test)        # the best rank-30 affine reconstruction
principal_angles(pca.components.T, w)  # degrees between span(components) and span(w)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PCA:
    """``mean`` (d,), ``components`` (k, d) orthonormal rows in order of decreasing variance,
    ``variances`` (k,) the variance of the data along each."""

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, np.float64).reshape(len(x), -1) - self.mean) @ self.components.T

    def inverse(self, codes: np.ndarray) -> np.ndarray:
        return codes @ self.components + self.mean

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return self.inverse(self.transform(x))


def fit_pca(x: np.ndarray, k: int) -> PCA:
    """The top-``k`` principal components of the rows of ``x`` (flattened to vectors), from
    the eigenvectors of the covariance matrix, in float64. Signs are fixed so that each
    component's largest-magnitude entry is positive (the same result on every machine)."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    if not 1 <= k <= x.shape[1]:
        raise ValueError(f"k must be in [1, {x.shape[1]}], got {k}")
    mean = x.mean(axis=0)
    centred = x - mean
    cov = centred.T @ centred / len(x)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:k]
    components = vectors[:, order].T
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    return PCA(mean, components * signs[:, None], values[order])


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Principal angles in degrees, ascending, between the column spaces of ``a`` (d, p) and
    ``b`` (d, q): 0 for every direction the two subspaces share. Bases need not be orthogonal."""
    from scipy.linalg import subspace_angles

    return np.sort(
        np.degrees(subspace_angles(np.asarray(a, np.float64), np.asarray(b, np.float64)))
    )
