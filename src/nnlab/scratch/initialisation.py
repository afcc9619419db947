"""Weight initialisation schemes for a whole network, and what they do at step 0.

A unit sums ``n`` products ``w_i x_i``. With independent, zero-mean weights of variance
``s^2`` and inputs of variance ``v``, the sum has variance ``n s^2 v``: the scale of the signal
is multiplied by ``sqrt(n) s`` at every layer. So

* ``"unit_normal"`` (N(0, 1): s = 1, unscaled) multiplies it by ``sqrt(n)`` per layer: ReLU
  activations explode, tanh and sigmoid units saturate (their derivative ~0);
* ``"small_normal"`` (N(0, 0.01²): s = 0.01) multiplies it by ``0.01 sqrt(n)`` (< 1 for
  n < 10,000): the signal, and the gradient sent back, vanish layer by layer;
* ``"xavier"`` (Glorot uniform, variance ``2 / (n_in + n_out)``) keeps the variance of a
  linear/tanh unit near 1 forward and backward;
* ``"he"`` (normal, variance ``2 / n_in``) doubles it to make up for ReLU zeroing half the
  units;
* ``"zeros"``: every unit of a layer computes the same thing and gets the same update, so the
  symmetry is never broken (with tanh or ReLU the hidden units output 0 and get no gradient).

Biases start at 0 in every scheme.

    model = mlp([1024, *[128] * 10, 36], "tanh", rng=0)
    initialise(model, "unit_normal", rng=0)
    stats = step0_statistics(model, softmax_cross_entropy, X, y)  # stds, saturation, grad norms
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from nnlab.scratch.layers import Activation, Layer, Linear, Sequential
from nnlab.scratch.losses import LossFn

Array = np.ndarray
RngLike = np.random.Generator | int | None

SCHEMES = ("zeros", "small_normal", "unit_normal", "xavier", "he")
"""The schemes ``initialise`` knows: unscaled ones first, then the ones scaled by layer size."""

#: The standard deviation of the unscaled normal schemes, whatever the layer's size.
NORMAL_STD = {"small_normal": 0.01, "unit_normal": 1.0}

#: |output| above which a tanh or sigmoid unit counts as saturated (tanh' < 0.02, σ' < 0.01).
SATURATION = {"tanh": 0.99, "sigmoid": 0.99}


def draw_weights(scheme: str, n_in: int, n_out: int, rng: np.random.Generator) -> Array:
    """A float64 (n_in, n_out) weight matrix drawn from ``scheme`` (see the module docstring)."""
    if scheme == "zeros":
        return np.zeros((n_in, n_out))
    if scheme in NORMAL_STD:
        return rng.normal(0.0, NORMAL_STD[scheme], size=(n_in, n_out))
    if scheme == "xavier":
        a = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_in, n_out))
    if scheme == "he":
        return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
    raise ValueError(f"unknown initialisation {scheme!r}; valid: {', '.join(SCHEMES)}")


def linears(model: Sequential) -> Iterator[Linear]:
    return (layer for layer in model.layers if isinstance(layer, Linear))


def initialise(model: Sequential, scheme: str, rng: RngLike = None) -> Sequential:
    """Redraw every ``Linear``'s weights from ``scheme`` (in its dtype) and zero its bias, in
    place, first layer first; returns ``model``."""
    rng = np.random.default_rng(rng)
    for layer in linears(model):
        W, b = layer.params["W"], layer.params["b"]
        W[...] = draw_weights(scheme, *W.shape, rng)
        b[...] = 0
    return model


@dataclass
class Step0:
    """What one forward and backward pass shows, layer by layer. Per hidden layer (after its
    activation): the activations' standard deviation and the fraction of saturated units
    (tanh/sigmoid; 0 for others). Per ``Linear`` (first to last): the norm of the gradient
    sent back to its output, ``delta_norm`` = ||dL/dz|| (z = x W + b; what vanishes or explodes
    on the way back), and of its weight gradient, ``grad_norm`` = ||dL/dW|| = ||x^T dL/dz||
    (Frobenius; the forward and the backward scale multiplied). And the loss."""

    activation_std: list[float]
    saturated: list[float]
    delta_norm: list[float]
    grad_norm: list[float]
    loss: float


def step0_statistics(model: Sequential, loss: LossFn, X: Array, y: Array) -> Step0:
    """One forward and backward pass on ``(X, y)`` (evaluation mode), measured layer by layer.
    Parameter gradients are left in the model's ``grads``."""
    h, stds, saturated = X, [], []
    for layer in model.layers:
        h = layer.forward(h, training=False)
        if isinstance(layer, Activation):
            stds.append(float(np.std(h)))
            limit = SATURATION.get(layer.name)
            saturated.append(0.0 if limit is None else float(np.mean(np.abs(h) > limit)))
    value, grad = loss(h, y)
    deltas = []
    for i in reversed(range(len(model.layers))):
        layer = model.layers[i]
        if isinstance(layer, Linear):
            deltas.append(float(np.linalg.norm(grad)))
        grad = layer.backward(grad, input_grad=i > 0)
    norms = [float(np.linalg.norm(layer.grads["W"])) for layer in linears(model)]
    return Step0(stds, saturated, deltas[::-1], norms, float(value))


def distinct_units(layer: Layer, decimals: int = 6) -> int:
    """How many different weight columns (hidden units) a ``Linear`` has, rounded to
    ``decimals``: 1 means every unit is the same (the symmetry of zero initialisation)."""
    W = layer.params["W"]
    return int(len(np.unique(np.round(W.T.astype(np.float64), decimals), axis=0)))
