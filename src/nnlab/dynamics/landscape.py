"""Loss along lines and planes of parameter space: the interpolation θ(α) between two
trained models and the 2-D surface around one minimum along filter-normalised directions.

    curve = evaluate_along(model, [interpolate(t1, t2, a) for a in alphas], splits)
    grid = loss_surface(model, t1, d1, d2, coords, x, y, batchnorm_data=x)

The model's parameters and buffers are overwritten while evaluating and restored afterwards.
BatchNorm running statistics are not parameters: the statistics of one trained model (or an
interpolation of two models' statistics) do not describe the activations of θ(α). With
`batchnorm_data` given they are recomputed at every point from those inputs
(`recompute_batchnorm`); without it the model's own are used, which is right only for a
model without BatchNorm.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nnlab.dynamics.params import set_flat_parameters
from nnlab.training.classifier import evaluate
from nnlab.training.tensors import batches


def batchnorm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> None:
    """Replace every BatchNorm layer's running mean and variance by the exact averages over
    the batches of `x` with the current parameters (cumulative averaging, momentum None),
    as if those parameters had been trained on `x` (a last batch of one example, which
    BatchNorm cannot normalise, is left out). Leaves the model in eval mode."""
    if len(x) < 2:
        raise ValueError(f"BatchNorm statistics need two or more examples, got {len(x)}")
    layers = batchnorm_layers(model)
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    try:
        for idx in batches(len(x), batch_size):
            if len(idx) > 1:
                model(x[idx])
    finally:
        for m, momentum in zip(layers, momenta, strict=True):
            m.momentum = momentum
        model.eval()


def _prepare(model: nn.Module, theta: torch.Tensor, batchnorm_data: torch.Tensor | None) -> None:
    set_flat_parameters(model, theta)
    if batchnorm_data is not None:
        recompute_batchnorm(model, batchnorm_data)


def evaluate_along(
    model: nn.Module,
    thetas: Sequence[torch.Tensor],
    splits: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    batchnorm_data: torch.Tensor | None = None,
) -> dict[str, list[float]]:
    """Cross-entropy and accuracy of `model` with each flat parameter vector of `thetas` on
    each split: `{"<split>_loss": [...], "<split>_accuracy": [...]}`, one value per theta.
    BatchNorm statistics recomputed from `batchnorm_data` at every theta when given."""
    keep = copy.deepcopy(model.state_dict())
    out: dict[str, list[float]] = {}
    try:
        for theta in thetas:
            _prepare(model, theta, batchnorm_data)
            for name, (x, y) in splits.items():
                loss, acc, _ = evaluate(model, x, y)
                out.setdefault(f"{name}_loss", []).append(loss)
                out.setdefault(f"{name}_accuracy", []).append(acc)
    finally:
        model.load_state_dict(keep)
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
    *,
    batchnorm_data: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy on (x, y) at θ = center + a·d1 + b·d2 for every a (rows) and b (columns)
    in `coords`: a (len(coords), len(coords)) tensor. BatchNorm statistics recomputed from
    `batchnorm_data` at every point when given."""
    keep = copy.deepcopy(model.state_dict())
    model.eval()
    out = torch.empty(len(coords), len(coords), dtype=torch.float64)
    try:
        for i, a in enumerate(coords):
            for j, b in enumerate(coords):
                _prepare(model, center + a * d1 + b * d2, batchnorm_data)
                out[i, j] = F.cross_entropy(model(x), y).item()
    finally:
        model.load_state_dict(keep)
    return out
