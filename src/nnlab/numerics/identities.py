"""Numerical checks of the back-propagation and cross-entropy identities of Nielsen's
chapters 2-3 (seed 001 Problems 2-3 and the bonus), each returning the measured error.

    softmax_delta_error(rng)                  # δᴸ = aᴸ − y for softmax + log-likelihood
    modified_neuron_gradcheck(rng)            # one neuron with its own f: engine vs finite diff.
    linear_backprop_error(rng)                # σ(z) = z throughout: δˡ = δˡ⁺¹ Wˡ⁺¹ᵀ, no σ'
    reversed_cross_entropy([0, 1], a)         # −[a ln y + (1 − a) ln(1 − y)]: inf at y ∈ {0, 1}
    cross_entropy_minimum(ys)                 # argmin and min of C over σ(z) for y ∈ (0, 1)
    softmax_temperature(z, temperatures)      # softmax(z / T) → one-hot arg-max as T → 0

``gelu`` and ``gelu_deriv`` are GELU, which the engine lacks too (for the activations figure).
The "modified neuron" is SiLU, f(z) = z σ(z), f′(z) = σ(z)(1 + z(1 − σ(z))), which the engine
does not have: ``Elementwise`` wraps any (f, f′) pair as a layer, so a network can carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nnlab.scratch import Layer, Linear, Sequential, log_softmax, sigmoid, softmax

Array = np.ndarray


def silu(z: Array) -> Array:
    return z * sigmoid(z)


def silu_deriv(z: Array) -> Array:
    s = sigmoid(z)
    return s * (1 + z * (1 - s))


class Elementwise(Layer):
    """y = f(x) elementwise for any ``f`` with derivative ``deriv``; backward multiplies by
    f′(x): the only change back-propagation needs for a neuron with another activation."""

    def __init__(self, f: Callable[[Array], Array], deriv: Callable[[Array], Array]) -> None:
        super().__init__()
        self.f, self.deriv = f, deriv
        self._x: Array | None = None

    def forward(self, x: Array, training: bool = True) -> Array:
        self._x = x
        return self.f(x)

    def backward(self, grad_out: Array, input_grad: bool = True) -> Array:
        if self._x is None:
            raise RuntimeError("Elementwise.backward called before forward")
        return grad_out * self.deriv(self._x)


def one_neuron_modified(f, deriv, unit: int = 0) -> Elementwise:
    """Sigmoid on every unit except ``unit``, which applies ``f`` (Problem 2.1's network)."""

    def mixed(fn_other, fn_unit):
        def apply(x: Array) -> Array:
            out = fn_other(x)
            out[:, unit] = fn_unit(x[:, unit])
            return out

        return apply

    return Elementwise(mixed(sigmoid, f), mixed(lambda x: sigmoid(x) * (1 - sigmoid(x)), deriv))


def softmax_delta_error(rng: np.random.Generator, n: int = 1000, classes: int = 10) -> float:
    """max |∂C/∂z_j − (a_j − y_j)| for C = −ln a_label, a = softmax(z), over n random rows;
    ∂C/∂z_j by central differences, one class column at a time for all rows at once."""
    z = rng.normal(0.0, 3.0, (n, classes))
    labels = rng.integers(0, classes, n)
    onehot = np.eye(classes)[labels]
    rows = np.arange(n)

    def cost(zz: Array) -> Array:
        return -log_softmax(zz)[rows, labels]

    h = 1e-5
    numeric = np.empty_like(z)
    for j in range(classes):
        step = np.zeros(classes)
        step[j] = h
        numeric[:, j] = (cost(z + step) - cost(z - step)) / (2 * h)
    return float(np.max(np.abs(numeric - (softmax(z) - onehot))))


def modified_neuron_network(rng: np.random.Generator) -> Sequential:
    """4-6-5-3: a hidden layer whose unit 0 is SiLU (the others sigmoid), then a layer of
    linear neurons, then the output logits."""
    return Sequential(
        [
            Linear(4, 6, rng=rng),
            one_neuron_modified(silu, silu_deriv),
            Linear(6, 5, rng=rng),
            Elementwise(lambda x: x, np.ones_like),
            Linear(5, 3, rng=rng),
        ]
    )


def modified_neuron_gradcheck(rng: np.random.Generator) -> dict[str, float]:
    """Relative error of every engine gradient against central differences (``gradcheck``),
    for ``modified_neuron_network`` under softmax cross-entropy."""
    from nnlab.scratch import gradcheck_model, softmax_cross_entropy

    model = modified_neuron_network(rng)
    X = rng.normal(0.0, 1.0, (16, 4))
    labels = rng.integers(0, 3, 16)
    return gradcheck_model(model, softmax_cross_entropy, X, labels)


def linear_backprop_error(rng: np.random.Generator, sizes: Sequence[int] = (5, 7, 6, 3)) -> float:
    """With σ(z) = z everywhere, back-propagation is δᴸ = ∂C/∂aᴸ, δˡ = δˡ⁺¹ (Wˡ⁺¹)ᵀ and
    ∂C/∂Wˡ = (aˡ⁻¹)ᵀ δˡ, ∂C/∂bˡ = Σ δˡ: no σ′ factor. That rewritten algorithm, written out
    here, against the engine's gradients of a linear-activation MLP: max abs difference."""
    from nnlab.scratch import mlp, squared_error

    model = mlp(list(sizes), activation="linear", rng=rng)
    X = rng.normal(0.0, 1.0, (32, sizes[0]))
    target = rng.normal(0.0, 1.0, (32, sizes[-1]))
    _, grad = squared_error(model.forward(X), target)
    model.backward(grad)
    engine = dict(model.named_grads())
    linears = [(i, layer) for i, layer in enumerate(model.layers) if isinstance(layer, Linear)]
    inputs = [X]  # a^0, a^1, ...: with linear neurons a^l = z^l
    for _, layer in linears[:-1]:
        inputs.append(inputs[-1] @ layer.params["W"] + layer.params["b"])
    delta, worst = grad, 0.0
    for (i, layer), a_prev in zip(reversed(linears), reversed(inputs), strict=True):
        worst = max(worst, float(np.max(np.abs(engine[f"{i}.W"] - a_prev.T @ delta))))
        worst = max(worst, float(np.max(np.abs(engine[f"{i}.b"] - delta.sum(axis=0)))))
        delta = delta @ layer.params["W"].T
    return worst


def cross_entropy(a: Array, y: Array) -> Array:
    """−[y ln a + (1 − y) ln(1 − a)], elementwise, with 0 ln 0 = 0."""
    from scipy.special import xlogy

    return -(xlogy(y, a) + xlogy(1 - y, 1 - a))


def reversed_cross_entropy(y: Array, a: Array) -> Array:
    """The mixed-up form −[a ln y + (1 − a) ln(1 − y)] (roles of a and y swapped)."""
    with np.errstate(divide="ignore"):
        return -(a * np.log(y) + (1 - a) * np.log(1 - y))


def cross_entropy_minimum(ys: Array) -> dict[str, Array]:
    """For each target y ∈ (0, 1): z* = argmin_z C(σ(z), y) by bounded scalar minimisation,
    σ(z*), C at z* and the formula −[y ln y + (1 − y) ln(1 − y)] (the binary entropy)."""
    from scipy.optimize import minimize_scalar

    zs = np.array(
        [
            minimize_scalar(
                lambda z, t=t: float(cross_entropy(sigmoid(np.array(z)), np.array(t))),
                bounds=(-30, 30),
                method="bounded",
                options={"xatol": 1e-10},
            ).x
            for t in ys
        ]
    )
    a = sigmoid(zs)
    return {"z": zs, "a": a, "minimum": cross_entropy(a, ys), "formula": cross_entropy(ys, ys)}


def softmax_temperature(z: Array, temperatures: Array) -> dict[str, Array]:
    """softmax(z / T) per temperature (rows), its max distance to the one-hot arg-max of z, and
    the soft maximum T·log Σ exp(z / T) against max z: softmax is a soft arg-max."""
    from scipy.special import logsumexp

    probs = np.array([softmax(z / t) for t in temperatures])
    onehot = np.eye(len(z))[np.argmax(z)]
    return {
        "probabilities": probs,
        "distance_to_onehot": np.max(np.abs(probs - onehot), axis=1),
        "soft_max_gap": np.array([t * logsumexp(z / t) for t in temperatures]) - np.max(z),
    }


def gelu(x: Array) -> Array:
    """GELU, x Φ(x) with Φ the standard normal CDF (exact form, not the tanh approximation)."""
    from scipy.special import ndtr

    return x * ndtr(x)


def gelu_deriv(x: Array) -> Array:
    """Φ(x) + x φ(x)."""
    from scipy.special import ndtr

    return ndtr(x) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
