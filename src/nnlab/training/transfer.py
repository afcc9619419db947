"""Transfer learning with nnlab's own CNNs: take a trained network, give it a new last layer and
train it on a few labelled examples of another task, either whole (fine-tuning) or only the
new layer on the frozen features (a linear probe); `from_scratch` is the same network with
fresh weights, the baseline.

    x = as_chars36(mnist.x_train)                 # bright ink on black -> chars36's 32x32 page
    idx = per_class_subset(y, 10, seed=0)         # 10 examples of every class
    model = with_new_head(pretrained_cnn, 10)     # every layer but the last keeps its weights
    fit_steps(model, x[idx], y[idx], steps=200, batch_size=64, lr=1e-3, generator=g)
    probe = linear_probe(pretrained_cnn, x[idx], y[idx], 10, steps=200, ...)
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnlab.models.cnn import CNN
from nnlab.training.classifier import train_epoch
from nnlab.training.optim import make_optimizer
from nnlab.training.tensors import batches


def as_chars36(x: np.ndarray, size: int = 32) -> np.ndarray:
    """(N, H, W) images of bright ink on black in [0, 1] (MNIST, Fashion-MNIST, the 8x8
    digits) drawn as chars36 draws characters: dark ink on white paper, `size` x `size`, the
    image padded with a white border of a fourteenth of its side (MNIST's 28 + 2 + 2 = 32)
    and resized (bilinear) to fit. float32 (N, size, size)."""
    t = 1.0 - torch.as_tensor(np.asarray(x), dtype=torch.float32)[:, None]
    border = max(1, round(t.shape[-1] / 14))
    t = F.pad(t, (border,) * 4, value=1.0)
    if t.shape[-1] != size or t.shape[-2] != size:
        t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    return t[:, 0].clamp_(0.0, 1.0).numpy()


def per_class_subset(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Sorted indices of the first `per_class` examples of every class in a seeded shuffle:
    for one seed, the subset of a smaller size is part of every larger one."""
    order = np.random.default_rng([seed, 26]).permutation(len(labels))
    chosen = [order[labels[order] == c][:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def with_new_head(model: CNN, n_classes: int) -> CNN:
    """A copy of `model` whose last Linear layer is a new one (PyTorch's default
    initialisation, from the global generator) for `n_classes`."""
    new = copy.deepcopy(model)
    last = new.head.net[-1]
    new.head.net[-1] = nn.Linear(last.in_features, n_classes)
    return new


def fit_steps(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
) -> None:
    """Exactly `steps` Adam updates of cross-entropy on (x, y), over
    reshuffled passes in batches of min(batch_size, len(x)) (`train_epoch`): the same number of
    updates whatever the size of the training set."""
    optimizer = make_optimizer("adam", model.parameters(), lr)
    size = min(batch_size, len(x))

    def order():
        done = 0
        while True:
            for idx in batches(len(x), size, generator):
                if done == steps:
                    return
                done += 1
                yield idx

    train_epoch(model, optimizer, None, x, y, order())


def reinitialised(model: nn.Module, keep: nn.Module | None = None) -> nn.Module:
    """A copy of `model` with every layer initialised afresh (`reset_parameters`, from the
    global generator; batch-norm statistics too), except the copy of its sub-module `keep`,
    which keeps its weights: the same network from scratch."""
    new = copy.deepcopy(model)
    kept = {id(m) for m in (keep.modules() if keep is not None else ())}
    twins = dict(zip(model.modules(), new.modules(), strict=True))
    for old, module in twins.items():
        if id(old) not in kept and hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return new


@torch.no_grad()
def features(model: CNN, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """What the last Linear layer of `model` reads (`CNN.penultimate`), in eval mode."""
    model.eval()
    return torch.cat([model.penultimate(b) for b in x.split(batch_size)])


def linear_probe(
    model: CNN,
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
) -> nn.Module:
    """A new last layer trained on `model`'s frozen features of (x, y): the model with that
    layer, in eval mode (its own weights and batch-norm statistics unchanged)."""
    probe = with_new_head(model, n_classes)
    fit_steps(
        probe.head.net[-1],
        features(model, x),
        y,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        generator=generator,
    )
    return probe.eval()
