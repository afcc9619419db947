"""A multi-layer perceptron: Linear → (BatchNorm) → activation → dropout, repeated, then a
Linear head."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
}


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class MLP(nn.Module):
    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        n_classes: int,
        activation_name: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(activation(activation_name))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def mlp_parameter_count(in_features: int, hidden: Sequence[int], n_classes: int) -> int:
    """Weights and biases of an `MLP(in_features, hidden, n_classes)` (without BatchNorm,
    which adds 2 parameters per hidden unit)."""
    widths = [in_features, *hidden, n_classes]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


def width_for_budget(in_features: int, n_classes: int, depth: int, budget: int) -> int:
    """The width w of `depth` equal hidden layers whose parameter count is closest to `budget`.

    With d inputs, c classes and L = depth layers the count is
    P(w) = (L - 1) w² + (d + c + L) w + c, so w is the positive root of P(w) = budget,
    rounded to whichever neighbouring integer lands closer. ValueError if even w = 1 is over.

        width_for_budget(784, 10, 1, 100_000)  # 126: 784 -> 126 -> 10 has 100,180
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    smallest = mlp_parameter_count(in_features, [1] * depth, n_classes)
    if smallest > budget:
        raise ValueError(
            f"a budget of {budget} parameters is too small for {depth} hidden layers on "
            f"{in_features} inputs (width 1 already needs {smallest})"
        )
    a, b, c = depth - 1, in_features + n_classes + depth, n_classes - budget
    root = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(
        candidates,
        key=lambda w: (abs(mlp_parameter_count(in_features, [w] * depth, n_classes) - budget), w),
    )


def q3_network(
    in_features: int = 1024, hidden: int = 64, n_classes: int = 36, seed: int = 0
) -> nn.Sequential:
    """Seed 004's Q3 network in PyTorch (Q6.1.1): Flatten, Linear(in_features, hidden), Sigmoid,
    Linear(hidden, n_classes); the softmax is in the loss (`F.cross_entropy`). Its initial
    weights are those the NumPy engine draws for the same `seed` (`nnlab.scratch.q3`: Xavier
    uniform U(-a, a), a = sqrt(6 / (fan_in + fan_out)), zero biases, float32), so it starts
    exactly where `numpy-classifier`'s network starts. 1024-64-36: 67,940 parameters.

        model = q3_network(seed=0)   # torch.nn.Sequential, (N, 1024) or (N, 1, 32, 32) in
    """
    from nnlab.scratch.q3 import q3_network as engine_q3_network

    engine = engine_q3_network(hidden, seed, in_features, n_classes)
    first, last = nn.Linear(in_features, hidden), nn.Linear(hidden, n_classes)
    with torch.no_grad():
        for layer, params in ((first, engine.layers[0].params), (last, engine.layers[2].params)):
            layer.weight.copy_(torch.from_numpy(params["W"].T.copy()))  # engine: x @ W
            layer.bias.copy_(torch.from_numpy(params["b"]))
    return nn.Sequential(nn.Flatten(), first, nn.Sigmoid(), last)
