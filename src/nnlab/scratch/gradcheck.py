"""Numerical gradient checking by central differences, in float64.

    dL/dw_i  ~=  (L(w + eps e_i) - L(w - eps e_i)) / (2 eps)

Error measure, per tensor: ``max_i |analytic_i - numeric_i| / max_i max(|analytic_i|, |numeric_i|)``
-- the largest discrepancy relative to the tensor's largest gradient entry. (Dividing entry by
entry would blow up on entries that are ~0, e.g. behind a dead ReLU, where the finite
difference is pure rounding noise.) With eps = 1e-6 a correct float64 gradient typically gives
1e-10 .. 1e-8; a wrong one gives 1e-2 or more.

Typical use::

    errors = gradcheck_model(model, softmax_cross_entropy, X, y)   # {"0.W": 3e-11, ...}
    assert max(errors.values()) < 1e-7
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from nnlab.scratch.layers import Layer
from nnlab.scratch.losses import LossFn

Array = np.ndarray


def relative_error(analytic: Array, numeric: Array) -> float:
    """max |a - n| / max(|a|, |n|) over the tensor (0.0 when both are all zero)."""
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric), initial=0.0))
    diff = np.max(np.abs(analytic - numeric), initial=0.0)
    return 0.0 if scale == 0.0 else float(diff / scale)


def numerical_gradient(
    loss_fn: Callable[[], float],
    array: Array,
    eps: float = 1e-6,
    indices: Array | None = None,
) -> Array:
    """Central-difference gradient of ``loss_fn()`` w.r.t. ``array``, which ``loss_fn`` must read.

    Entries are perturbed in place one at a time and restored. With ``indices`` (flat indices)
    only those entries are computed; the others are left as NaN.
    """
    grad = np.full(array.shape, np.nan)
    flat_indices = range(array.size) if indices is None else indices
    for flat in flat_indices:
        i = np.unravel_index(flat, array.shape)
        old = array[i]
        array[i] = old + eps
        plus = loss_fn()
        array[i] = old - eps
        minus = loss_fn()
        array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    loss_fn: Callable[[], float],
    arrays: Mapping[str, Array],
    grads: Mapping[str, Array],
    eps: float = 1e-6,
    max_entries: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Compare analytic ``grads`` with central differences of ``loss_fn`` for each named array.

    ``loss_fn()`` must recompute the loss from the current contents of ``arrays`` (a closure
    over the model and data) and be deterministic. Tensors with more than ``max_entries``
    entries are checked on a random subset of that many entries (seeded by ``seed``).
    Returns ``{name: relative_error}``.
    """
    rng = np.random.default_rng(seed)
    errors = {}
    for name, array in arrays.items():
        if array.dtype != np.float64:
            raise ValueError(
                f"gradcheck needs float64 arrays; {name!r} is {array.dtype} "
                "(use model.astype(np.float64) and float64 inputs)"
            )
        analytic = grads[name]
        if analytic.shape != array.shape:
            raise ValueError(
                f"{name}: gradient shape {analytic.shape} != array shape {array.shape}"
            )
        indices = None
        if max_entries is not None and array.size > max_entries:
            indices = rng.choice(array.size, size=max_entries, replace=False)
        numeric = numerical_gradient(loss_fn, array, eps, indices)
        picked = np.ones(array.shape, dtype=bool) if indices is None else ~np.isnan(numeric)
        errors[name] = relative_error(analytic[picked], numeric[picked])
    return errors


def gradcheck_model(
    model: Layer,
    loss: LossFn,
    X: Array,
    y: Array,
    eps: float = 1e-6,
    max_entries: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Gradient check of ``loss(model(X), y)`` w.r.t. every parameter and the input.

    The model runs in evaluation mode (``training=False``) so the loss is deterministic;
    to check a layer with randomness in training mode, call ``gradcheck`` with your own
    closure. The input's error is reported under the name "input".
    """
    X = np.array(X, dtype=np.float64)  # a private copy: it gets perturbed
    _, grad_out = loss(model.forward(X, training=False), y)
    grad_X = model.backward(grad_out)
    arrays = dict(model.named_parameters())
    grads = {name: g.copy() for name, g in model.named_grads()}
    arrays["input"], grads["input"] = X, grad_X

    def loss_fn() -> float:
        return loss(model.forward(X, training=False), y)[0]

    return gradcheck(loss_fn, arrays, grads, eps=eps, max_entries=max_entries, seed=seed)
