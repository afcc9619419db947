"""Building a model that a checkpoint describes, without letting the file choose how much memory
we allocate.

A checkpoint names its architecture (a GPT's width, a CNN's channels, an autoencoder's sizes)
and carries its weights. A 1 KB file can ask for a model of many gigabytes, and a saved tensor can
claim any shape over a one-element storage (an expanded view). `build_checked` therefore builds
the model on the meta device first (nothing allocated), and builds it for real only when its
parameters and buffers have exactly the shapes of weights the file really stores, plus at most
`BUFFER_SLACK` elements of buffers that are not saved (a causal mask, say). What it allocates is
then bounded by the file's own size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from nnlab.errors import DataError

BUFFER_SLACK = 16 * 2**20
"""Elements a model may hold beyond its saved weights (unsaved buffers): 64 MB in float32."""


def build_checked(
    make: Callable[[], nn.Module], weights: Mapping[str, torch.Tensor], source: str
) -> nn.Module:
    """`make()` with `weights` loaded, or DataError("`source` cannot be loaded: …") when the
    model it makes does not match the weights the file holds (see the module docstring)."""
    try:
        with torch.device("meta"):
            expected = make()
    except Exception as exc:  # TypeError for a foreign keyword, ValueError for a bad size…
        raise DataError(f"{source} cannot be loaded: {_reason(exc)}") from None
    shapes = {k: tuple(v.shape) for k, v in expected.state_dict().items()}
    if not isinstance(weights, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in weights.values()
    ):
        raise DataError(f"{source} cannot be loaded: its weights are not a dict of tensors")
    saved = {k: tuple(v.shape) for k, v in weights.items()}
    if saved != shapes:
        wrong = sorted(set(saved) ^ set(shapes)) or [k for k in shapes if saved[k] != shapes[k]]
        raise DataError(
            f"{source} cannot be loaded: its architecture does not match its weights "
            f"(first difference: {wrong[0]})"
        )
    for name, tensor in weights.items():
        if tensor.untyped_storage().nbytes() < tensor.numel() * tensor.element_size():
            raise DataError(f"{source} cannot be loaded: weight {name} claims more than it stores")
    stored = sum(v.numel() for v in weights.values())
    held = sum(p.numel() for p in expected.parameters()) + sum(
        b.numel() for b in expected.buffers()
    )
    if held > stored + BUFFER_SLACK:
        raise DataError(
            f"{source} cannot be loaded: its architecture holds {held:,} values, far more than "
            f"the {stored:,} weights the file carries"
        )
    model = make()
    model.load_state_dict(weights)
    return model


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
