"""Loss functions. Each takes ``(prediction, target)`` and returns ``(loss, grad)`` where
``grad`` is dL/d(prediction), ready to feed to ``model.backward``.

Convention (the same for every loss): the per-sample loss is *summed over output units* and
*averaged over the batch*. For squared error that is ``L = (1/N) sum_n 0.5 * ||p_n - y_n||^2``,
so for one sample it is the textbook ``0.5 * sum_j (p_j - y_j)^2`` and its gradient is simply
``(p - y) / N``. (PyTorch's ``MSELoss`` instead averages over every element and has no 0.5.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnlab.scratch.activations import log_softmax, sigmoid, softmax, softplus

Array = np.ndarray
LossFn = Callable[[Array, Array], tuple[float, Array]]


def _check_same_shape(name: str, pred: Array, target: Array) -> None:
    if pred.shape != target.shape:
        raise ValueError(
            f"{name}: prediction and target must have the same shape, "
            f"got {pred.shape} and {target.shape}"
        )


def squared_error(pred: Array, target: Array) -> tuple[float, Array]:
    """(1/N) sum_n 0.5 ||pred_n - target_n||^2; gradient (pred - target) / N."""
    _check_same_shape("squared_error", pred, target)
    n = pred.shape[0]
    diff = pred - target
    return float(0.5 * np.sum(diff * diff) / n), diff / n


def binary_cross_entropy(
    pred: Array, target: Array, eps: float | None = None
) -> tuple[float, Array]:
    """-(1/N) sum [y log p + (1 - y) log(1 - p)] for probabilities ``pred`` (e.g. sigmoid outputs).

    ``pred`` is clipped to [eps, 1 - eps] (default: the dtype's machine epsilon) so a saturated
    output gives a large finite loss instead of inf. Prefer ``binary_cross_entropy_with_logits``
    on the pre-sigmoid values: it never needs clipping.
    """
    _check_same_shape("binary_cross_entropy", pred, target)
    if eps is None:
        eps = float(np.finfo(pred.dtype).eps)
    n = pred.shape[0]
    p = np.clip(pred, eps, 1 - eps)
    loss = -np.sum(target * np.log(p) + (1 - target) * np.log1p(-p)) / n
    return float(loss), (p - target) / (p * (1 - p)) / n


def binary_cross_entropy_with_logits(logits: Array, target: Array) -> tuple[float, Array]:
    """Binary cross-entropy of sigmoid(logits), fused: loss uses softplus(z) - y z (exact for
    any z), gradient is (sigmoid(z) - y) / N."""
    _check_same_shape("binary_cross_entropy_with_logits", logits, target)
    n = logits.shape[0]
    loss = np.sum(softplus(logits) - target * logits) / n
    return float(loss), (sigmoid(logits) - target) / n


def _targets_as_matrix(name: str, logits: Array, target: Array) -> Array:
    """Integer labels of shape (N,) -> one-hot (N, C); (N, C) one-hot or probabilities as is."""
    n, c = logits.shape
    if target.shape == logits.shape:
        return target
    if target.shape == (n,) and np.issubdtype(target.dtype, np.integer):
        if target.size and (target.min() < 0 or target.max() >= c):
            raise ValueError(
                f"{name}: labels must be in [0, {c}), got {target.min()}..{target.max()}"
            )
        onehot = np.zeros_like(logits)
        onehot[np.arange(n), target] = 1
        return onehot
    raise ValueError(
        f"{name}: target must be integer labels of shape ({n},) or one-hot of shape "
        f"{logits.shape}, got {target.dtype} array of shape {target.shape}"
    )


def softmax_cross_entropy(logits: Array, target: Array) -> tuple[float, Array]:
    """Cross-entropy of softmax(logits) against integer labels or one-hot rows, fused with its
    gradient: dL/dlogits = (softmax(logits) - y) / N."""
    if logits.ndim != 2:
        raise ValueError(
            f"softmax_cross_entropy: logits must be (batch, classes), got {logits.shape}"
        )
    y = _targets_as_matrix("softmax_cross_entropy", logits, target)
    n = logits.shape[0]
    loss = -np.sum(y * log_softmax(logits)) / n
    return float(loss), (softmax(logits) - y) / n


def accuracy(scores: Array, target: Array, threshold: float = 0.5) -> float:
    """Fraction of correct predictions.

    Multi-class ``scores`` (N, C): predicted class = argmax; ``target`` is labels (N,) or one-hot.
    Binary ``scores`` (N,) or (N, 1): predicted 1 where score > ``threshold`` (0.5 for
    probabilities; use 0.0 for logits); ``target`` holds 0/1.
    """
    if scores.ndim == 2 and scores.shape[1] > 1:
        pred = np.argmax(scores, axis=1)
        labels = np.argmax(target, axis=1) if target.ndim == 2 else target
    else:
        pred = scores.reshape(-1) > threshold
        labels = target.reshape(-1) > 0.5
    if pred.shape != labels.shape:
        raise ValueError(
            f"accuracy: {pred.shape[0]} predictions but target has shape {target.shape}"
        )
    return float(np.mean(pred == labels))


#: Losses by name, for configuration files: ``name -> loss(pred, target) -> (loss, grad)``.
LOSSES: dict[str, LossFn] = {
    "squared_error": squared_error,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "softmax_cross_entropy": softmax_cross_entropy,
}


def get_loss(name: str) -> LossFn:
    try:
        return LOSSES[name]
    except KeyError:
        valid = ", ".join(sorted(LOSSES))
        raise ValueError(f"unknown loss {name!r}; valid names: {valid}") from None
