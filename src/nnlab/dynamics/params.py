"""A model's parameters as one flat vector: read, write, interpolate, and the
filter-normalised random directions of Li et al. (2018) for loss-landscape plots.

    theta = flat_parameters(model)                    # 1-D copy, in `model.parameters()` order
    set_flat_parameters(model, interpolate(t1, t2, 0.5))
    d = filter_normalised_direction(model, torch.Generator().manual_seed(0))
"""

from __future__ import annotations

import torch
from torch import nn


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """Every parameter of `model`, detached and concatenated into one 1-D tensor."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def parameter_sizes(model: nn.Module) -> list[int]:
    return [p.numel() for p in model.parameters()]


def unflatten(model: nn.Module, vector: torch.Tensor) -> dict[str, torch.Tensor]:
    """`vector` cut into tensors shaped like `model`'s parameters, by name (views of it, so
    gradients flow back to `vector`; for `torch.func.functional_call`)."""
    named = list(model.named_parameters())
    total = sum(p.numel() for _, p in named)
    if vector.shape != (total,):
        raise ValueError(
            f"vector has shape {tuple(vector.shape)}; the model has {total} parameters"
        )
    chunks = vector.split([p.numel() for _, p in named])
    return {name: c.view_as(p) for (name, p), c in zip(named, chunks, strict=True)}


@torch.no_grad()
def set_flat_parameters(model: nn.Module, vector: torch.Tensor) -> None:
    """Write `vector` (as from `flat_parameters`) into `model`'s parameters in place."""
    pieces = unflatten(model, vector.to(next(model.parameters()).device))
    for name, p in model.named_parameters():
        p.copy_(pieces[name])


def interpolate(a: torch.Tensor, b: torch.Tensor, alpha: float) -> torch.Tensor:
    """θ(α) = (1 − α)·a + α·b: a at α = 0, b at α = 1, extrapolated outside [0, 1]."""
    return (1 - alpha) * a + alpha * b


def filter_normalised_direction(model: nn.Module, generator: torch.Generator) -> torch.Tensor:
    """A random Gaussian direction in parameter space, normalised filter by filter (Li et al.
    2018, "Visualizing the Loss Landscape of Neural Nets", section 4).

    Every output unit of a layer is a filter: a row of a Linear weight, an output channel of
    a convolution (the first axis of any weight with two or more axes). Each filter of the
    direction is rescaled to the norm of the same filter of the model's weights, so a step
    along it changes every filter by the same fraction whatever the scale of its layer.
    1-D parameters (biases, BatchNorm) get 0, as in the paper's `ignore biasbn` setting.
    Returned flat, in `flat_parameters` order."""
    parts = []
    for p in model.parameters():
        w = p.detach()
        if w.dim() <= 1:
            parts.append(torch.zeros_like(w).reshape(-1))
            continue
        d = torch.randn(w.shape, generator=generator, dtype=w.dtype).to(w.device)
        rows, wrows = d.reshape(len(d), -1), w.reshape(len(w), -1)
        scale = wrows.norm(dim=1, keepdim=True) / rows.norm(dim=1, keepdim=True).clamp_min(1e-12)
        parts.append((rows * scale).reshape(-1))
    return torch.cat(parts)
