"""Batch augmentation in torch: flips and shifts of a whole batch at once (no Python loop
over images), for the `transform` hook of `nnlab.training.fit_classifier`."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def augment(
    x: torch.Tensor,
    generator: torch.Generator,
    flip: bool = True,
    pad: int = 4,
    fill: float = 0.0,
) -> torch.Tensor:
    """Random horizontal flips (p = 1/2) and random crops of the batch padded with `fill`,
    back to the input size: each image shifted by its own offset of up to `pad` pixels on
    each axis; vectorised over the batch with a gather.

        x = augment(x, torch.Generator().manual_seed(0), flip=False, pad=2, fill=background)
    """
    n, c, h, w = x.shape
    if flip:
        flips = torch.rand(n, generator=generator) < 0.5
        x = torch.where(flips.to(x.device)[:, None, None, None], x.flip(3), x)
    if pad <= 0:
        return x
    padded = F.pad(x, (pad, pad, pad, pad), value=fill)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows, cols]
