"""Loss along lines and planes of parameter space: the interpolation θ(α) between two
trained models and the 2-D surface around one minimum along filter-normalised directions.

    curve = evaluate_along(model, [interpolate(t1, t2, a) for a in alphas], splits)
    grid = loss_surface(model, t1, d1, d2, coords, x, y)

The model's parameters are overwritten while evaluating and restored afterwards. Buffers
(BatchNorm running statistics) are left as they are: an MLP without BatchNorm has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nnlab.dynamics.params import flat_parameters, set_flat_parameters
from nnlab.training import evaluate


def evaluate_along(
    model: nn.Module,
    thetas: Sequence[torch.Tensor],
    splits: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
) -> dict[str, list[float]]:
    """Cross-entropy and accuracy of `model` with each flat parameter vector of `thetas` on
    each split: `{"<split>_loss": [...], "<split>_accuracy": [...]}`, one value per theta."""
    keep = flat_parameters(model)
    out: dict[str, list[float]] = {}
    try:
        for theta in thetas:
            set_flat_parameters(model, theta)
            for name, (x, y) in splits.items():
                loss, acc, _ = evaluate(model, x, y)
                out.setdefault(f"{name}_loss", []).append(loss)
                out.setdefault(f"{name}_accuracy", []).append(acc)
    finally:
        set_flat_parameters(model, keep)
    return out


@torch.no_grad()
def loss_surface(
    model: nn.Module,
    center: torch.Tensor,
    d1: torch.Tensor,
    d2: torch.Tensor,
    coords: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
) -> torch.Tensor:
    """Cross-entropy on (x, y) at θ = center + a·d1 + b·d2 for every a (rows) and b (columns)
    in `coords`: a (len(coords), len(coords)) tensor."""
    keep = flat_parameters(model)
    model.eval()
    out = torch.empty(len(coords), len(coords), dtype=torch.float64)
    try:
        for i, a in enumerate(coords):
            for j, b in enumerate(coords):
                set_flat_parameters(model, center + a * d1 + b * d2)
                out[i, j] = F.cross_entropy(model(x), y).item()
    finally:
        set_flat_parameters(model, keep)
    return out
