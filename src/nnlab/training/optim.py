"""Optimizers and learning-rate schedules by name, and a checkpoint's parts saved and
restored by name.

    opt = make_optimizer("adamw", model.parameters(), lr=1e-3)
    sched = make_schedule("onecycle", opt, lr=1e-3, total_steps=1000)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from nnlab.config import OPTIMIZERS, SCHEDULES


def make_optimizer(
    name: str, params, lr: float, weight_decay: float = 0.0, device: torch.device | None = None
) -> torch.optim.Optimizer:
    """An optimizer by name; fused implementations where PyTorch has them."""
    fused = {"fused": True} if device is None or device.type in ("cpu", "cuda") else {}
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, **fused)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=0.9,
            nesterov=name == "nesterov",
            weight_decay=weight_decay,
            **fused,
        )
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, **fused)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, **fused)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def make_schedule(
    name: str,
    optimizer: torch.optim.Optimizer,
    total_steps: int,
) -> torch.optim.lr_scheduler.LRScheduler:
    """Learning-rate schedule stepped once per batch; `lr` is the peak for onecycle."""
    if name == "onecycle":
        lr = optimizer.param_groups[0]["lr"]
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")


@torch.no_grad()
def saved_states(**parts: Any) -> dict[str, Any]:
    """Each part's state by name, for a checkpoint: `state_dict()` of a module, optimizer or
    schedule, `get_state()` of a random generator."""
    return {
        name: part.get_state() if isinstance(part, torch.Generator) else part.state_dict()
        for name, part in parts.items()
    }


def restore_states(state: Mapping[str, Any], **parts: Any) -> None:
    """Load `state[name]` into each part (the inverse of `saved_states`)."""
    for name, part in parts.items():
        if isinstance(part, torch.Generator):
            part.set_state(state[name])
        else:
            part.load_state_dict(state[name])


def optimizer_and_schedule(
    model: nn.Module,
    optimizer: str,
    lr: float,
    weight_decay: float,
    schedule: str,
    total_steps: int,
    device: torch.device,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """An optimizer by name and its schedule over `total_steps` batches."""
    opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay, device)
    return opt, make_schedule(schedule, opt, total_steps)
