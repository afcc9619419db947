"""Mini-batches and a small training loop. Nothing here prints: progress goes to a callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np

from nnlab.scratch.layers import Layer
from nnlab.scratch.losses import LossFn
from nnlab.scratch.optim import Optimizer

Array = np.ndarray
RngLike = np.random.Generator | int | None
Metric = Callable[[Array, Array], float]


def flatten(x: Array) -> Array:
    """(N, H, W) images -> (N, H*W) float32 rows (C-contiguous), the engine's input layout."""
    return np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32)


def minibatches(
    X: Array,
    y: Array | None,
    batch_size: int,
    rng: RngLike = None,
    shuffle: bool = True,
) -> Iterator[tuple[Array, Array | None]]:
    """Yield ``(X_batch, y_batch)`` covering every sample exactly once.

    With ``shuffle`` the order is one random permutation drawn from ``rng`` (pass the same
    ``np.random.Generator`` every epoch to get a new order each epoch, or an int seed to get
    the same order every time). The last batch is smaller when ``batch_size`` does not divide
    the number of samples; it is kept, not dropped. ``y`` may be None (e.g. autoencoders).
    """
    n = X.shape[0]
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if y is not None and y.shape[0] != n:
        raise ValueError(f"X has {n} samples but y has {y.shape[0]}")
    order = np.random.default_rng(rng).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], (None if y is None else y[idx])


def fit(
    model: Layer,
    loss: LossFn,
    optimizer: Optimizer,
    X: Array,
    y: Array,
    *,
    epochs: int,
    batch_size: int,
    rng: RngLike = None,
    validation: tuple[Array, Array] | None = None,
    metrics: Mapping[str, Metric] | None = None,
    schedule: Callable[[int], float] | None = None,
    callback: Callable[[int, dict[str, list[float]]], bool | None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` with mini-batch ``optimizer`` steps and return the history.

    history["train_loss"][e] is the mean loss over the samples of epoch e, as they were trained
    (the usual running average; dropout on). Each metric ``name`` (e.g. ``{"acc": accuracy}``)
    adds "train_<name>" (from the same batch outputs, weighted by batch size) and, with
    ``validation=(X_val, y_val)``, "val_<name>" and "val_loss" computed in evaluation mode
    after the epoch. history["lr"] records the learning rate used.

    ``schedule(epoch) -> lr`` sets ``optimizer.lr`` before each epoch. ``callback(epoch,
    history)`` runs after each epoch; returning True stops training early.
    """
    rng = np.random.default_rng(rng)
    metrics = dict(metrics or {})
    history: dict[str, list[float]] = {"train_loss": [], "lr": []}
    for name in metrics:
        history[f"train_{name}"] = []
    if validation is not None:
        history["val_loss"] = []
        for name in metrics:
            history[f"val_{name}"] = []

    n = X.shape[0]
    for epoch in range(epochs):
        if schedule is not None:
            optimizer.lr = schedule(epoch)
        totals = dict.fromkeys(["loss", *metrics], 0.0)
        for xb, yb in minibatches(X, y, batch_size, rng):
            out = model.forward(xb, training=True)
            value, grad = loss(out, yb)
            model.backward(grad, input_grad=False)
            optimizer.step()
            totals["loss"] += value * len(xb)
            for name, fn in metrics.items():
                totals[name] += fn(out, yb) * len(xb)
        history["lr"].append(optimizer.lr)
        history["train_loss"].append(totals["loss"] / n)
        for name in metrics:
            history[f"train_{name}"].append(totals[name] / n)
        if validation is not None:
            X_val, y_val = validation
            out = model.forward(X_val, training=False)
            history["val_loss"].append(loss(out, y_val)[0])
            for name, fn in metrics.items():
                history[f"val_{name}"].append(fn(out, y_val))
        if callback is not None and callback(epoch, history):
            break
    return history
