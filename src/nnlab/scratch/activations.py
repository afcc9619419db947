"""Activation functions and their derivatives, on NumPy arrays of any float dtype.

Every elementwise activation ``f`` has a derivative ``f_deriv(x, y=None)`` that returns
``f'(x)`` elementwise. If you already have ``y = f(x)`` (as a layer does after its forward
pass), pass it: sigmoid and tanh then reuse it instead of recomputing.

Softmax is not elementwise (each output depends on the whole row), so it has no elementwise
derivative; ``softmax_backward`` gives the vector-Jacobian product a layer needs instead.

Numerical stability: nothing here overflows or warns for inputs as large as +-1e4. Results that
are too small for the float type underflow to exactly 0, which is the correctly rounded answer,
so underflow is silenced locally and not reported.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit, log_expit

Array = np.ndarray


def sigmoid(x: Array) -> Array:
    """1 / (1 + exp(-x)), computed without overflow (``scipy.special.expit``)."""
    return expit(x)


def sigmoid_deriv(x: Array, y: Array | None = None) -> Array:
    """sigma'(x) = sigma(x) * (1 - sigma(x))."""
    s = sigmoid(x) if y is None else y
    return s * (1 - s)


def tanh(x: Array) -> Array:
    return np.tanh(x)


def tanh_deriv(x: Array, y: Array | None = None) -> Array:
    """tanh'(x) = 1 - tanh(x)**2."""
    t = np.tanh(x) if y is None else y
    return 1 - t * t


def relu(x: Array) -> Array:
    return np.maximum(x, 0)


def relu_deriv(x: Array, y: Array | None = None) -> Array:
    """1 where x > 0, else 0 (the derivative at exactly 0 is taken as 0, like PyTorch)."""
    return (x > 0).astype(x.dtype)


def leaky_relu(x: Array, alpha: float = 0.01) -> Array:
    """x for x > 0, alpha * x otherwise."""
    return np.where(x > 0, x, alpha * x)


def leaky_relu_deriv(x: Array, y: Array | None = None, alpha: float = 0.01) -> Array:
    return np.where(x > 0, 1, alpha).astype(x.dtype)


def softplus(x: Array) -> Array:
    """log(1 + exp(x)), computed as -log(sigmoid(-x)) so it neither overflows nor underflows."""
    return -log_expit(-x)


def softplus_deriv(x: Array, y: Array | None = None) -> Array:
    """softplus'(x) = sigmoid(x)."""
    return sigmoid(x)


def linear(x: Array) -> Array:
    """The identity: a layer with no non-linearity."""
    return x


def linear_deriv(x: Array, y: Array | None = None) -> Array:
    return np.ones_like(x)


def softmax(x: Array, axis: int = -1) -> Array:
    """exp(x) / sum(exp(x)) along ``axis``; the row maximum is subtracted first so exp <= 1.

    softmax(x + c) = softmax(x) for any constant c, so this changes nothing mathematically,
    but exp never overflows and the largest entry is exp(0) = 1, so the sum is >= 1.
    """
    z = x - np.max(x, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: Array, axis: int = -1) -> Array:
    """log(softmax(x)) without taking the log of a number that underflowed to 0."""
    z = x - np.max(x, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def softmax_backward(y: Array, grad_out: Array) -> Array:
    """Gradient w.r.t. the softmax input, given its output ``y`` (rows) and dL/dy.

    The Jacobian is dy_i/dx_j = y_i (delta_ij - y_j), so
    dL/dx_j = y_j * (dL/dy_j - sum_i dL/dy_i * y_i).
    """
    return y * (grad_out - np.sum(grad_out * y, axis=-1, keepdims=True))


ActivationFn = Callable[..., Array]

#: Elementwise activations by name: ``name -> (function, derivative)``.
ACTIVATIONS: dict[str, tuple[ActivationFn, ActivationFn]] = {
    "sigmoid": (sigmoid, sigmoid_deriv),
    "tanh": (tanh, tanh_deriv),
    "relu": (relu, relu_deriv),
    "leaky_relu": (leaky_relu, leaky_relu_deriv),
    "softplus": (softplus, softplus_deriv),
    "linear": (linear, linear_deriv),
}


def get_activation(name: str) -> tuple[ActivationFn, ActivationFn]:
    """Return ``(function, derivative)`` for an elementwise activation name."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        valid = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}; valid names: {valid}") from None
