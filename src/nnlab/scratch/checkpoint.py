"""Checkpoints of engine training that continue exactly: the model's parameters, the
optimizer's ``state_dict()`` and the state of the generator that shuffles the batches.

``engine_state`` returns them in the form a run's checkpoint stores (``torch.save``, read back
with ``torch.load(weights_only=True)``): arrays as tensors, the generator's state as a JSON
string. ``restore_engine_state`` loads such a state into fresh objects in place::

    run.save_checkpoint({"epoch": epoch, **engine_state(model, opt, shuffle)})
    ...
    state = run.load_checkpoint()
    restore_engine_state(state, model, opt, shuffle)  # then train the remaining epochs

PyTorch is imported only when these are called; the engine itself never needs it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from nnlab.scratch.layers import Sequential
from nnlab.scratch.optim import Optimizer

if TYPE_CHECKING:
    import torch


def to_tensors(arrays: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Copies of named arrays as CPU tensors of the same dtype."""
    import torch

    return {k: torch.from_numpy(np.array(v, copy=True)) for k, v in arrays.items()}


def to_arrays(tensors: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """The inverse of ``to_tensors``: copies of named tensors as arrays."""
    return {k: t.numpy().copy() for k, t in tensors.items()}


def engine_state(model: Sequential, opt: Optimizer, rng: np.random.Generator) -> dict[str, Any]:
    """Everything needed to continue training exactly: parameters, optimizer state (step count,
    lr, per-parameter buffers) and the shuffling generator's state (as a JSON string, so the
    checkpoint loads with ``torch.load(weights_only=True)``)."""
    opt_state = opt.state_dict()
    return {
        "params": to_tensors(model.state_dict()),
        "optimizer": {
            "t": opt_state["t"],
            "lr": opt_state["lr"],
            "state": {name: to_tensors(slot) for name, slot in opt_state["state"].items()},
        },
        "rng": json.dumps(rng.bit_generator.state),
    }


def restore_engine_state(
    state: Mapping[str, Any], model: Sequential, opt: Optimizer, rng: np.random.Generator
) -> None:
    """The inverse of ``engine_state``: load it into ``model``, ``opt`` and ``rng`` in place."""
    model.load_state_dict(to_arrays(state["params"]))
    saved = state["optimizer"]
    opt.load_state_dict(
        {
            "t": saved["t"],
            "lr": saved["lr"],
            "state": {name: to_arrays(slot) for name, slot in saved["state"].items()},
        }
    )
    rng.bit_generator.state = json.loads(state["rng"])
