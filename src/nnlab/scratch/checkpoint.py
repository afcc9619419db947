"""Checkpoints of engine training that continue exactly: the model's parameters, the
optimizer's ``state_dict()`` and the state of the generator that shuffles the batches.

``engine_state`` returns them in the form a run's checkpoint stores (``torch.save``, read back
with ``torch.load(weights_only=True)``): arrays as tensors, the generator's state as a JSON
string. ``restore_engine_state`` loads such a state into fresh objects in place::

    run.save_checkpoint({"epoch": epoch, **engine_state(model, opt, shuffle)})
    ...
    state = run.load_checkpoint()
    restore_engine_state(state, model, opt, shuffle)  # then train the remaining epochs

``resume`` and ``epoch_callback`` are those two steps for ``fit``: the callback logs each
epoch's metrics to a run, checkpoints it and advances a progress bar::

    done = resume(run.load_checkpoint(), model, opt, shuffle)  # 0 without a checkpoint
    fit(..., epochs=epochs - done, callback=epoch_callback(run, model, opt, shuffle, done))

PyTorch is imported only when these are called; the engine itself never needs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
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


def resume(
    state: Mapping[str, Any] | None,
    model: Sequential,
    opt: Optimizer,
    rng: np.random.Generator,
) -> int:
    """Restore a checkpoint written through ``epoch_callback`` (None: nothing to restore) and
    return the number of epochs it had done (0 without one)."""
    if state is None:
        return 0
    restore_engine_state(state, model, opt, rng)
    return int(state["epoch"])


def epoch_callback(
    run: Any,
    model: Sequential,
    opt: Optimizer,
    rng: np.random.Generator,
    done: int = 0,
    *,
    name: str | None = None,
    skip: Collection[str] = (),
    extra: Mapping[str, Any] | None = None,
    bar: Any = None,
    postfix: Callable[[dict[str, list[float]]], Mapping[str, str]] | None = None,
) -> Callable[[int, dict[str, list[float]]], None]:
    """A ``fit`` callback for a resumable run: after epoch e of this call (``done`` epochs
    were trained before it) it logs the last value of every history key but ``skip`` at step
    ``done + e + 1`` (as ``key@name`` with a ``name``), saves the checkpoint
    ``{"epoch": step, **engine_state(...), **extra}``, and advances ``bar`` by one epoch with
    ``postfix(history)`` as its postfix. ``run`` is an ``nnlab.runs.Run`` (anything with its
    ``log`` and ``save_checkpoint``)."""

    def callback(epoch: int, hist: dict[str, list[float]]) -> None:
        step = done + epoch + 1
        suffix = "" if name is None else f"@{name}"
        run.log(step, **{f"{key}{suffix}": v[-1] for key, v in hist.items() if key not in skip})
        run.save_checkpoint({"epoch": step, **engine_state(model, opt, rng), **(extra or {})})
        if bar is not None:
            bar.update(1)
            if postfix is not None:
                bar.set_postfix(**postfix(hist))

    return callback
