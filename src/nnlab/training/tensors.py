"""Data made into tensors: batches of indices, standardised flat or image tensors, seeded
train/validation splits and label noise.

    x_train, y_train, x_test, y_test = flat_tensors(data, train_subset=0, device=device)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import torch

from nnlab.errors import ConfigError


def batches(
    n: int,
    batch_size: int,
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """Index tensors covering range(n) in batches (shuffled when a generator is given)."""
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    yield from order.split(batch_size)


def standardise(
    arrays: Mapping[str, tuple[np.ndarray, np.ndarray]],
    device: torch.device,
    *,
    images: bool = False,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Every split `name -> (x, y)` as (float32 inputs, int64 labels) on `device`, the inputs
    standardised with the mean and std of `arrays["train"]` (one number each, over all values).

    Inputs become rows (`images=False`: flattened) or (N, C, H, W) images (`images=True`:
    greyscale (N, H, W) gets one channel, colour (N, H, W, C) is permuted), in
    `memory_format` (e.g. `torch.channels_last`)."""
    x_train = arrays["train"][0]
    mean, std = float(x_train.mean()), float(x_train.std())
    out = {}
    for name, (x, y) in arrays.items():
        x = torch.as_tensor((x - mean) / std, dtype=torch.float32)
        if images:
            x = x.reshape(len(x), 1, *x.shape[1:]) if x.ndim == 3 else x.permute(0, 3, 1, 2)
            x = x.to(device).contiguous(memory_format=memory_format)
        else:
            x = x.reshape(len(x), -1).to(device)
        out[name] = (x, torch.as_tensor(y, dtype=torch.long).to(device))
    return out


def _arrays(data, train_subset: int, with_val: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    x_train, y_train = data.x_train, data.y_train
    if train_subset:
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    arrays = {"train": (x_train, y_train)}
    if with_val and data.x_val is not None and data.y_val is not None:
        arrays["val"] = (data.x_val, data.y_val)
    arrays["test"] = (data.x_test, data.y_test)
    return arrays


def flat_tensors(data, train_subset: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test) of an `ArraySplits`: images flattened to vectors and
    standardised with the training set's mean and std; the first `train_subset` training
    examples only, when it is non-zero."""
    tensors = standardise(_arrays(data, train_subset, with_val=False), device)
    return (*tensors["train"], *tensors["test"])


def image_tensors(
    data,
    train_subset: int,
    device: torch.device,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The splits of an `ArraySplits` as (N, C, H, W) image tensors standardised with the
    training set's mean and std: "train" (the first `train_subset` examples, when non-zero),
    "val" (when the dataset has a validation split) and "test"."""
    return standardise(
        _arrays(data, train_subset, with_val=True), device, images=True, memory_format=memory_format
    )


def split_indices(n: int, train_size: int, val_size: int, seed: int) -> tuple[np.ndarray, ...]:
    """Disjoint random (train, validation) index arrays into range(n), of `train_size` and
    `val_size` indices; the same for the same seed. ConfigError when they do not fit."""
    if train_size + val_size > n:
        raise ConfigError(
            f"train_size {train_size} + val_size {val_size} exceeds the {n} training examples; "
            "lower them"
        )
    order = np.random.default_rng([seed, 7]).permutation(n)
    return order[val_size : val_size + train_size], order[:val_size]


def corrupt_labels(y: np.ndarray, fraction: float, n_classes: int, seed: int) -> np.ndarray:
    """A copy of `y` with round(fraction * len(y)) labels, chosen at random, each replaced
    by a different class drawn uniformly."""
    rng = np.random.default_rng([seed, 11])
    y = y.copy()
    idx = rng.choice(len(y), size=int(round(fraction * len(y))), replace=False)
    y[idx] = (y[idx] + rng.integers(1, n_classes, size=len(idx))) % n_classes
    return y


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one pass over `n` examples (the last batch may be smaller)."""
    return -(-n // batch_size)
