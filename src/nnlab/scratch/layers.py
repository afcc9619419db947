"""Layers with an explicit forward and backward pass.

Conventions
-----------
* Data are row-major batches: ``x`` has shape ``(batch, features)``.
* ``forward(x, training=True)`` returns the output and caches what ``backward`` needs.
* ``backward(grad_out)`` takes dL/d(output) and returns dL/d(input). It *overwrites*
  ``layer.grads`` with the gradients of this batch (it does not accumulate, so there is no
  stale gradient to forget to clear; ``zero_grad`` only exists to reset them explicitly).
  Training never needs dL/d(input) of the first layer, and for a ``Linear`` on wide inputs it
  is a third of the backward cost: ``backward(grad_out, input_grad=False)`` lets a layer skip
  it and return None (``fit`` does this; PyTorch does the same for inputs without grad).
* ``params`` and ``grads`` are dicts with the same keys ("W", "b"); a ``Sequential`` names them
  ``"<index>.<key>"``, e.g. ``"0.W"``. Optimizers update ``params`` arrays in place.
* A ``Linear`` computes ``x @ W + b`` with ``W`` of shape ``(in_features, out_features)``
  (PyTorch stores the transpose).
* Arithmetic happens in the dtype of the parameters; use ``dtype=np.float32`` (or
  ``model.astype(np.float32)``) for speed and float64 for gradient checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from nnlab.scratch.activations import ACTIVATIONS, get_activation, softmax, softmax_backward

Array = np.ndarray
RngLike = np.random.Generator | int | None

INITS = ("xavier", "he", "zeros", "lecun")


class Layer:
    """Base class: a layer without parameters unless a subclass fills ``params``."""

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}

    def forward(self, x: Array, training: bool = True) -> Array:
        raise NotImplementedError

    def backward(self, grad_out: Array, input_grad: bool = True) -> Array | None:
        raise NotImplementedError

    def named_parameters(self) -> Iterator[tuple[str, Array]]:
        yield from self.params.items()

    def named_grads(self) -> Iterator[tuple[str, Array]]:
        yield from self.grads.items()

    def zero_grad(self) -> None:
        for g in self.grads.values():
            g.fill(0)

    def num_parameters(self) -> int:
        return sum(p.size for _, p in self.named_parameters())

    def astype(self, dtype: np.dtype | type) -> Layer:
        """Convert parameters and gradients to ``dtype`` (new arrays); returns self."""
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        self.grads = {k: v.astype(dtype) for k, v in self.grads.items()}
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Layer):
    """Fully connected layer ``y = x @ W + b``.

    ``init`` chooses W: "xavier" (Glorot uniform, U(-a, a) with a = sqrt(6 / (in + out))),
    "he" (Kaiming normal, N(0, 2 / in), for ReLU networks), "lecun" (N(0, 1 / in), which keeps
    the variance of tanh units near 1) or "zeros" (every unit stays identical: symmetry is never
    broken). The bias starts at 0.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        init: str = "xavier",
        rng: RngLike = None,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(
                f"Linear needs positive sizes, got in_features={in_features}, "
                f"out_features={out_features}"
            )
        rng = np.random.default_rng(rng)
        shape = (in_features, out_features)
        if init == "xavier":
            a = np.sqrt(6.0 / (in_features + out_features))
            W = rng.uniform(-a, a, size=shape)
        elif init == "he":
            W = rng.normal(0.0, np.sqrt(2.0 / in_features), size=shape)
        elif init == "lecun":
            W = rng.normal(0.0, np.sqrt(1.0 / in_features), size=shape)
        elif init == "zeros":
            W = np.zeros(shape)
        else:
            raise ValueError(f"unknown init {init!r}; valid: {', '.join(INITS)}")
        self.in_features, self.out_features, self.init = in_features, out_features, init
        self.params = {"W": W.astype(dtype), "b": np.zeros(out_features, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x: Array | None = None

    def forward(self, x: Array, training: bool = True) -> Array:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}) expected input of shape "
                f"(batch, {self.in_features}), got {x.shape}"
            )
        self._x = x
        out = x @ self.params["W"]
        out += self.params["b"]  # in place: saves allocating a second (batch, out) array
        return out

    def backward(self, grad_out: Array, input_grad: bool = True) -> Array | None:
        if self._x is None:
            raise RuntimeError("Linear.backward called before forward")
        # dL/dW = x^T g, dL/db = sum over the batch of g, dL/dx = g W^T
        np.matmul(self._x.T, grad_out, out=self.grads["W"])
        np.sum(grad_out, axis=0, out=self.grads["b"])
        return grad_out @ self.params["W"].T if input_grad else None

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, init={self.init!r})"


class Activation(Layer):
    """An elementwise activation by name: sigmoid, tanh, relu, leaky_relu, softplus, linear.

    Extra keyword arguments go to the function, e.g. ``Activation("leaky_relu", alpha=0.1)``.
    """

    def __init__(self, name: str, **kwargs: float) -> None:
        super().__init__()
        self.name, self.kwargs = name, kwargs
        self.fn, self.deriv = get_activation(name)
        self._x: Array | None = None
        self._y: Array | None = None

    def forward(self, x: Array, training: bool = True) -> Array:
        self._x = x
        self._y = self.fn(x, **self.kwargs)
        return self._y

    def backward(self, grad_out: Array, input_grad: bool = True) -> Array:
        if self._x is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        return grad_out * self.deriv(self._x, self._y, **self.kwargs)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"Activation({self.name!r}{extra})"


class Step(Layer):
    """The step non-linearity g(z) = 1 if z > 0 else 0. Its derivative is 0 wherever it
    exists, which is why it cannot be trained by backprop (backward returns zeros)."""

    def forward(self, x: Array, training: bool = True) -> Array:
        return (x > 0).astype(x.dtype)

    def backward(self, grad_out: Array, input_grad: bool = True) -> Array:
        return np.zeros_like(grad_out)


class Softmax(Layer):
    """Row-wise softmax. For classification prefer a linear output layer and
    ``softmax_cross_entropy`` on the logits: it is fused, cheaper and more accurate."""

    def __init__(self) -> None:
        super().__init__()
        self._y: Array | None = None

    def forward(self, x: Array, training: bool = True) -> Array:
        self._y = softmax(x)
        return self._y

    def backward(self, grad_out: Array, input_grad: bool = True) -> Array:
        if self._y is None:
            raise RuntimeError("Softmax.backward called before forward")
        return softmax_backward(self._y, grad_out)


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``p`` and scale the
    survivors by 1 / (1 - p), so evaluation (``training=False``) is the identity.

    The scaled mask of the last training forward pass is kept in ``self.mask``.
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = np.random.default_rng(rng)
        self.mask: Array | None = None

    def forward(self, x: Array, training: bool = True) -> Array:
        if not training or self.p == 0.0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        return x * self.mask

    def backward(self, grad_out: Array, input_grad: bool = True) -> Array:
        return grad_out if self.mask is None else grad_out * self.mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        super().__init__()
        self.layers = list(layers)

    def forward(self, x: Array, training: bool = True) -> Array:
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def predict(self, x: Array) -> Array:
        """Forward pass in evaluation mode (dropout off)."""
        return self.forward(x, training=False)

    def backward(self, grad_out: Array, input_grad: bool = True) -> Array | None:
        for i, layer in reversed(list(enumerate(self.layers))):
            grad_out = layer.backward(grad_out, input_grad=input_grad or i > 0)
        return grad_out

    def named_parameters(self) -> Iterator[tuple[str, Array]]:
        for i, layer in enumerate(self.layers):
            for key, p in layer.named_parameters():
                yield f"{i}.{key}", p

    def named_grads(self) -> Iterator[tuple[str, Array]]:
        for i, layer in enumerate(self.layers):
            for key, g in layer.named_grads():
                yield f"{i}.{key}", g

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def astype(self, dtype: np.dtype | type) -> Sequential:
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def state_dict(self) -> dict[str, Array]:
        """Copies of all parameters by name."""
        return {name: p.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Copy ``state`` into the parameters (in place); names and shapes must match."""
        params = dict(self.named_parameters())
        if set(state) != set(params):
            raise ValueError(
                f"state names {sorted(state)} do not match parameters {sorted(params)}"
            )
        for name, p in params.items():
            if state[name].shape != p.shape:
                raise ValueError(f"{name}: expected shape {p.shape}, got {state[name].shape}")
            p[...] = state[name]

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


def collapse_linear(model: Sequential) -> tuple[Array, Array]:
    """(W, b) of the single affine map ``x @ W + b`` equal to a stack of ``Linear`` layers
    (and linear activations, which it ignores): W = W1 W2 ... WL and
    b = (...(b1 W2 + b2) W3 + ...) WL + bL. Only exact when every other layer is the identity."""
    linears = [layer for layer in model.layers if isinstance(layer, Linear)]
    W = linears[0].params["W"].copy()
    b = linears[0].params["b"].copy()
    for layer in linears[1:]:
        W = W @ layer.params["W"]
        b = b @ layer.params["W"] + layer.params["b"]
    return W, b


def activation_layer(name: str, **kwargs: float) -> Layer:
    """``Softmax()`` for "softmax", otherwise ``Activation(name, **kwargs)``."""
    if name == "softmax":
        return Softmax()
    if name not in ACTIVATIONS:
        valid = ", ".join(sorted([*ACTIVATIONS, "softmax"]))
        raise ValueError(f"unknown activation {name!r}; valid names: {valid}")
    return Activation(name, **kwargs)


def mlp(
    sizes: Sequence[int],
    activation: str | Sequence[str] = "relu",
    output_activation: str = "linear",
    init: str = "xavier",
    rng: RngLike = None,
    dtype: np.dtype | type = np.float64,
    dropout: float | Sequence[float] = 0.0,
) -> Sequential:
    """A multi-layer perceptron, e.g. ``mlp([784, 64, 10], "sigmoid")``:
    Linear, activation, ..., Linear, output activation (omitted when "linear").

    ``activation`` and ``dropout`` are one value for every hidden layer or one per hidden layer,
    e.g. ``mlp([2, 8, 8, 1], ["relu", "tanh"], dropout=[0.0, 0.2])``; a hidden layer with
    dropout p > 0 is followed by ``Dropout(p)`` after its activation."""
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got {list(sizes)}")
    n_hidden = len(sizes) - 2
    activations = [activation] * n_hidden if isinstance(activation, str) else list(activation)
    dropouts = [float(dropout)] * n_hidden if isinstance(dropout, (int, float)) else list(dropout)
    for name, values in (("activation", activations), ("dropout", dropouts)):
        if len(values) != n_hidden:
            raise ValueError(f"mlp: {len(values)} values of {name} for {n_hidden} hidden layers")
    rng = np.random.default_rng(rng)
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=dtype))
        last = i == n_hidden
        act = output_activation if last else activations[i]
        if not (last and act == "linear"):
            layers.append(activation_layer(act))
        if not last and dropouts[i] > 0:
            layers.append(Dropout(dropouts[i], rng=rng))
    return Sequential(layers)
