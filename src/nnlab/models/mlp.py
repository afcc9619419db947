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
