"""Batch augmentation in torch: flips and shifts of a whole batch at once (no Python loop
over images), for the `transform` hook of
`nnlab.training.classifier.fit_classifier`; and the distortions
of a glyph on a photographed page (`glyph_augment`: slant, fit, stroke width, uneven ink,
blur) for the OCR classifier."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where it is used: `GlyphAugment` is a plain record
    import torch


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
    import torch
    import torch.nn.functional as F

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


@dataclass(frozen=True)
class GlyphAugment:
    """Ranges of the distortions `glyph_augment` draws per image, each uniform: what a page
    does to a letter that a rendered glyph lacks. `shear`: slant (x moves by -shear * y:
    positive leans right, as italic type does); `scale` and `shift` (pixels): the crop's
    fit; `stroke`: in [-stroke, stroke] of a one-pixel dilation (> 0, bolder) or erosion
    (< 0, thinner) of the ink; `fade`: the ink's darkness times a smooth field in
    [1 - fade, 1] (uneven ink, faint hairlines); `blur`: a Gaussian sigma in [0, blur]
    pixels. All zero: no change."""

    shear: tuple[float, float] = (0.0, 0.0)
    scale: float = 0.0  # in [1 - scale, 1 + scale]
    shift: float = 0.0
    stroke: float = 0.0
    fade: float = 0.0
    blur: float = 0.0


def glyph_augment(x: torch.Tensor, generator: torch.Generator, aug: GlyphAugment) -> torch.Tensor:
    """The batch `x` (N, C, H, W) of dark glyphs on lighter paper (H = W; each image's
    paper is its median), each distorted by its own draw from `aug`, in one pass over the
    batch (an affine `grid_sample`, max-pool dilation/erosion, an interpolated fade field and
    a grouped Gaussian convolution): no Python loop over images. Deterministic for the
    generator's state; the shape is kept. Every step commutes with a positive affine change
    of brightness, so standardised images can be passed as they are.

        g = torch.Generator().manual_seed(0)
        x = glyph_augment(x, g, GlyphAugment(shear=(-0.1, 0.3), stroke=0.5, blur=0.8))
    """
    import torch
    import torch.nn.functional as F

    n, c, h, w = x.shape
    if n == 0:
        return x

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, *shape, generator=generator, dtype=x.dtype)

    shear = uniform(*aug.shear)
    scale = uniform(1 - aug.scale, 1 + aug.scale)
    shift = uniform(-aug.shift, aug.shift, 2) * (2 / w)  # pixels -> normalised coordinates
    stroke = uniform(-aug.stroke, aug.stroke)
    sigma = uniform(0.0, aug.blur)
    field = uniform(1 - aug.fade, 1.0, 1, 4, 4)
    # forward map (about the centre) out = scale * [[1, -shear], [0, 1]] @ in + shift;
    # affine_grid wants its inverse, from output to input coordinates
    inverse = torch.zeros(n, 2, 3, dtype=x.dtype)
    inverse[:, 0, 0] = inverse[:, 1, 1] = 1 / scale
    inverse[:, 0, 1] = shear / scale
    inverse[:, :, 2] = -(inverse[:, :, :2] @ shift[:, :, None])[:, :, 0]
    grid = F.affine_grid(inverse.to(x.device), [n, c, h, w], align_corners=False)
    paper = x.flatten(1).median(dim=1).values[:, None, None, None]
    ink = paper - x  # 0 on paper, so the samples from outside the image are paper
    ink = F.grid_sample(ink, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    bolder, thinner = _max3(ink), -_max3(-ink)
    s = stroke.to(x.device)[:, None, None, None]
    ink = ink + s.clamp(min=0) * (bolder - ink) + (-s).clamp(min=0) * (thinner - ink)
    fade = F.interpolate(field.to(x.device), size=(h, w), mode="bilinear", align_corners=False)
    ink = ink * fade
    radius = max(1, math.ceil(2 * aug.blur))
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype)
    weights = torch.exp(-(offsets[None] ** 2) / (2 * sigma.clamp(min=1e-3)[:, None] ** 2))
    weights = weights / weights.sum(dim=1, keepdim=True)  # (n, k): a 1-D Gaussian per image
    kernels = (weights[:, :, None] * weights[:, None, :]).to(x.device)
    kernels = kernels[:, None].repeat_interleave(c, dim=0)  # (n * c, 1, k, k)
    padded = F.pad(ink.reshape(1, n * c, h, w), (radius,) * 4, mode="replicate")
    ink = F.conv2d(padded, kernels, groups=n * c).reshape(n, c, h, w)
    return paper - ink


def _max3(x: torch.Tensor) -> torch.Tensor:
    """The 3x3 maximum filter of (N, C, H, W) images, edges replicated: two separable passes
    of shifted views (torch's stride-1 max pooling is several times slower on a CPU)."""
    import torch
    import torch.nn.functional as F

    p = F.pad(x, (1, 1, 1, 1), mode="replicate")
    rows = torch.maximum(torch.maximum(p[:, :, :-2], p[:, :, 1:-1]), p[:, :, 2:])
    return torch.maximum(torch.maximum(rows[..., :-2], rows[..., 1:-1]), rows[..., 2:])
