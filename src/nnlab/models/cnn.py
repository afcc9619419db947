"""A small convolutional classifier: conv blocks, then an MLP head.

Each block is Conv2d (k x k, padding k // 2) → BatchNorm2d (optional) → activation →
MaxPool2d(2, ceil_mode=True). "Same" padding and ceil-mode pooling keep every size ≥ 1, so the
network takes any input size, from 8x8 digits to 28x28 MNIST; the flattened size the head sees
is worked out with `nnlab.numerics.convshape` rather than by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nnlab.models.mlp import MLP, activation
from nnlab.numerics.convshape import Layer, ShapeRow, stack_shapes


class CNN(nn.Module):
    """`CNN((1, 28, 28), 10, channels=(40, 64), kernels=(5, 3), hidden=(128,))`.

    `input_shape` is (C, H, W). `first_conv` is the first convolution (its `.weight` holds the
    filters to look at); `feature_shape` is the (C, H, W) after the last block.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        n_classes: int,
        channels: Sequence[int] = (40, 64),
        kernels: Sequence[int] = (5, 3),
        hidden: Sequence[int] = (128,),
        dropout: float = 0.0,
        batchnorm: bool = True,
        activation_name: str = "relu",
    ) -> None:
        super().__init__()
        if len(channels) != len(kernels) or not channels:
            raise ValueError(
                f"channels {tuple(channels)} and kernels {tuple(kernels)} must be equally long "
                "and not empty: one kernel size per convolution"
            )
        self.input_shape = tuple(int(v) for v in input_shape)
        blocks: list[nn.Module] = []
        in_c = self.input_shape[0]
        for out_c, k in zip(channels, kernels, strict=True):
            blocks.append(nn.Conv2d(in_c, out_c, k, padding=k // 2, bias=not batchnorm))
            if batchnorm:
                blocks.append(nn.BatchNorm2d(out_c))
            blocks += [activation(activation_name), nn.MaxPool2d(2, ceil_mode=True)]
            in_c = out_c
        self.features = nn.Sequential(*blocks)
        self.first_conv: nn.Conv2d = blocks[0]  # type: ignore[assignment]
        self.layer_specs = [
            spec
            for c, k in zip(channels, kernels, strict=True)
            for spec in (Layer.conv(c, k, 1, k // 2), Layer.maxpool(2, 2, ceil_mode=True))
        ]
        self.feature_shape = stack_shapes(self.input_shape, self.layer_specs)[-1].shape
        c, h, w = self.feature_shape
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = MLP(c * h * w, hidden, n_classes, activation_name, dropout)

    def shape_rows(self) -> list[ShapeRow]:
        """Layer-by-layer output shapes and parameter counts, as `nnlab conv-shape` shows them
        (conv counts include a bias; with batch norm the conv has none and BN has 2 per channel)."""
        rows = stack_shapes(self.input_shape, self.layer_specs)
        head_in = self.feature_shape
        for module in self.head.net:
            if isinstance(module, nn.Linear):
                spec = Layer.fc(module.out_features)
                rows.append(
                    ShapeRow(
                        spec.describe(),
                        spec.output_shape(head_in),
                        spec.parameters(head_in),
                        spec.formula(head_in),
                    )
                )
                head_in = (module.out_features, 1, 1)
        return rows

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))

    def penultimate(self, x: torch.Tensor) -> torch.Tensor:
        """The activations the last Linear layer reads: (N, hidden[-1]), after the activation
        (and dropout, in train mode); the flattened conv features when `hidden` is empty."""
        return self.head.net[:-1](self.dropout(self.features(x)))
