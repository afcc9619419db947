"""A small U-Net that predicts the noise ε of a diffusion model (Ho et al. 2020), in one file.

    cfg = UNetConfig(in_channels=1, channels=(32, 64, 128), num_classes=10)
    model = UNet(cfg)
    eps = model(x, t)                           # x: (B, 1, 28, 28), t: (B,) -> eps like x
    eps = model(x, t, labels)                   # class-conditional; labels == 10 is "no label"
    eps = model.guided(x, t, labels, guidance=3.0)   # classifier-free guidance, one forward
    labels = model.drop_labels(labels, 0.1, generator)   # training: forget some labels

The shape is Ronneberger et al. 2015's U-Net (an encoder that halves the resolution, a decoder
that doubles it, skip connections concatenated between matching resolutions) with the parts of
Ho et al. 2020's denoising network: a sinusoidal timestep embedding (Vaswani et al. 2017)
through a two-layer MLP, residual blocks (GroupNorm -> SiLU -> 3x3 conv, the embedding added
after the first conv, a 1x1 conv on the shortcut when the width changes), and optional
self-attention at the lowest resolution. `channels` has one width per resolution:

    stem conv -> [blocks, skip, stride-2 conv] for each resolution above the lowest
              -> middle at the lowest: block, attention (optional), block
              -> [nearest x2 + conv, concat skip, blocks] back up -> GroupNorm, SiLU, conv

Supported sizes: height and width must be multiples of 2 ** (len(channels) - 1), so each
halving is exact and each doubling lands on its skip: with three resolutions, 28x28
(28 -> 14 -> 7, 7 being the lowest and odd is fine) and 8x8 (8 -> 4 -> 2); a 4-resolution
network needs multiples of 8 (28 is not one). Other sizes are a ValueError.

Class conditioning (`num_classes > 0`) adds a learned class embedding to the time embedding;
label index `num_classes` is the "null" label of classifier-free guidance (Ho & Salimans 2022),
which `labels=None` also means. `guided` returns ε_uncond + w·(ε_cond − ε_uncond): w = 0 is
unconditional, w = 1 conditional, w > 1 guided (Ho & Salimans write (1 + w')·ε_cond − w'·ε_uncond,
so their w' is w − 1).

Initialisation: PyTorch's defaults, except two convs that start at zero (weights and bias), as
in Ho et al. 2020's released code (init_scale=0): the output conv, so the untrained network
predicts ε = 0, and each residual block's second conv, so every block starts as the identity
and the network as its shortest path. (That code also zeroes the attention output; here it
keeps the default.)

`scale_shift=True` conditions each block on the embedding as Nichol & Dhariwal 2021 do
(GroupNorm(h)·(1 + s) + b, with s and b projected from the embedding) instead of adding it;
False, the default, is the plain sum of Ho et al., which files saved before the option load as.

Parameters (one input channel, a 128-wide time embedding; the count does not depend on the image
size): channels (32, 64, 128) with one block per resolution have 981,441 parameters (1,047,745
with attention, 1,049,153 with attention and 10 classes; 1,191,681 with two blocks); channels
(16, 32, 64) have 285,537 (314,433 with scale_shift). For speed on CPU, convert the model and
its input to `torch.channels_last`: every conv then reads and writes that memory format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = 1  # image channels in, and ε channels out
    channels: tuple[int, ...] = (32, 64, 128)  # one width per resolution, finest first
    blocks: int = 1  # residual blocks per resolution (the decoder's take the skip)
    time_dim: int = 128  # width of the sinusoidal embedding and of the MLP after it
    groups: int = 8  # GroupNorm groups; must divide every width in `channels`
    dropout: float = 0.0  # in each residual block, before its second conv (Ho et al.: 0.1)
    attention: bool = False  # self-attention in the middle, at the lowest resolution
    heads: int = 4  # attention heads; must divide channels[-1]
    num_classes: int = 0  # 0: unconditional; > 0: labels 0..num_classes-1, num_classes = null
    scale_shift: bool = False  # the embedding scales and shifts the normalised h (else: added)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))  # a list from JSON is fine
        if not self.channels or min(self.channels) < 1:
            raise ValueError(
                f"channels must be a non-empty list of widths >= 1, got {self.channels}"
            )
        for name in ("in_channels", "blocks", "groups", "heads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.time_dim < 2 or self.time_dim % 2:
            raise ValueError(
                f"time_dim must be even and >= 2 (half sines, half cosines), got {self.time_dim}"
            )
        bad = [c for c in self.channels if c % self.groups]
        if bad:
            raise ValueError(
                f"groups ({self.groups}) must divide every width in channels {self.channels}; "
                f"{bad[0]} is not divisible by {self.groups}"
            )
        if self.attention and self.channels[-1] % self.heads:
            raise ValueError(
                f"heads ({self.heads}) must divide the lowest resolution's width "
                f"channels[-1] ({self.channels[-1]})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.num_classes < 0:
            raise ValueError(f"num_classes must be >= 0 (0: unconditional), got {self.num_classes}")

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this: one halving per resolution below the top."""
        return 2 ** (len(self.channels) - 1)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding (B, dim) of timesteps t (B,): sin(t·f_i) then cos(t·f_i) for
    dim/2 frequencies f_i = max_period^(-i / (dim/2)), from 1 down towards 1/max_period
    (Vaswani et al. 2017's position encoding, as Ho et al. 2020 use it). Every entry is in
    [-1, 1]; t may be integer or fractional. The angles are float32 whatever t's dtype (and
    `UNet.forward` keeps this and the MLP after it out of autocast): in bfloat16, with 8
    significant bits, t = 998 and 999 both round to 1000 and their embeddings are one."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class GroupNorm(nn.GroupNorm):
    """`nn.GroupNorm`, taken through the NCHW layout for a channels-last input where PyTorch
    2.13's CPU channels-last kernel is slow: under four channels per group, and under bfloat16
    autocast up to eight. Forward + backward, batch 128, 8 groups, one thread, channels-last
    against the detour through two layout copies: float32 16 ch 28x28 14.4 -> 8.7 ms (from 32
    channels on the detour costs more); bf16 16 ch 28x28 43.8 -> 7.6 ms, 32 ch 14x14
    12.5 -> 4.0, 64 ch 7x7 3.7 -> 1.8, but 128 ch 7x7 1.5 -> 4.3."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        per_group, last = self.num_channels // self.num_groups, torch.channels_last
        if per_group <= 8 and not x.is_contiguous() and x.is_contiguous(memory_format=last):
            kind = x.device.type
            bf16 = x.dtype == torch.bfloat16 or (
                torch.is_autocast_enabled(kind) and torch.get_autocast_dtype(kind) == torch.bfloat16
            )
            if per_group < 4 or bf16:
                return super().forward(x.contiguous()).contiguous(memory_format=last)
        return super().forward(x)


class ResBlock(nn.Module):
    """GroupNorm -> SiLU -> conv3x3, + projected embedding, GroupNorm -> SiLU -> dropout ->
    conv3x3, added to the input (through a 1x1 conv when the width changes). With
    `scale_shift`, the embedding gives a scale and a shift of the second GroupNorm's output
    instead of a sum before it."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        emb_dim: int,
        groups: int,
        dropout: float,
        scale_shift: bool = False,
    ) -> None:
        super().__init__()
        self.scale_shift = scale_shift
        self.norm1 = GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * c_out if scale_shift else c_out)
        self.norm2 = GroupNorm(groups, c_out)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        e = self.emb(F.silu(emb))[:, :, None, None]
        if self.scale_shift:
            scale, shift = e.chunk(2, dim=1)
            h = self.norm2(h) * (1 + scale) + shift
        else:
            h = self.norm2(h + e)
        h = self.conv2(self.drop(F.silu(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over the H·W positions of a feature map, residual, with
    GroupNorm before and 1x1 convs for the query/key/value and output projections."""

    def __init__(self, channels: int, heads: int, groups: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w)
        q, k, v = qkv.transpose(-1, -2).unbind(1)  # each (B, heads, H·W, c / heads)
        y = F.scaled_dot_product_attention(q, k, v)
        y = y.transpose(-1, -2).reshape(b, c, h, w)
        return x + self.proj(y)


class Upsample(nn.Module):
    """Nearest-neighbour x2, then a 3x3 conv (which also changes the width)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ch, g, d, emb = cfg.channels, cfg.groups, cfg.dropout, cfg.time_dim
        self.time_mlp = nn.Sequential(nn.Linear(emb, emb), nn.SiLU(), nn.Linear(emb, emb))
        # one row per class plus the null label; None when unconditional
        self.label_emb = nn.Embedding(cfg.num_classes + 1, emb) if cfg.num_classes else None
        self.stem = nn.Conv2d(cfg.in_channels, ch[0], 3, padding=1)

        def blocks(c_in: int, c_out: int) -> nn.ModuleList:
            return nn.ModuleList(
                ResBlock(c_in if i == 0 else c_out, c_out, emb, g, d, cfg.scale_shift)
                for i in range(cfg.blocks)
            )

        # encoder: every resolution above the lowest ends with a skip and a stride-2 conv
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        c_prev = ch[0]
        for c in ch[:-1]:
            self.down.append(blocks(c_prev, c))
            self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
            c_prev = c
        self.mid1 = ResBlock(c_prev, ch[-1], emb, g, d, cfg.scale_shift)
        self.attn = SelfAttention(ch[-1], cfg.heads, g) if cfg.attention else nn.Identity()
        self.mid2 = ResBlock(ch[-1], ch[-1], emb, g, d, cfg.scale_shift)
        # decoder, lowest first: upsample to the skip's width, concatenate it, blocks
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for c_low, c in zip(reversed(ch[1:]), reversed(ch[:-1]), strict=True):
            self.upsample.append(Upsample(c_low, c))
            self.up.append(blocks(2 * c, c))
        self.out_norm = GroupNorm(g, ch[0])
        self.out = nn.Conv2d(ch[0], cfg.in_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def null_label(self) -> int:
        """The label index that means "no label" (classifier-free guidance's ∅)."""
        return self.cfg.num_classes

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _check(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> None:
        cfg = self.cfg
        if x.ndim != 4 or x.shape[1] != cfg.in_channels:
            raise ValueError(f"x must be (B, {cfg.in_channels}, H, W), got {tuple(x.shape)}")
        h, w, m = x.shape[2], x.shape[3], cfg.size_multiple
        if h % m or w % m:
            raise ValueError(
                f"image size {h}x{w} is not supported: with {len(cfg.channels)} resolutions "
                f"height and width must be multiples of {m} (e.g. 28x28 or 8x8 for 3)"
            )
        if t.shape != (x.shape[0],):
            raise ValueError(
                f"t must be one timestep per image, ({x.shape[0]},), got {tuple(t.shape)}"
            )
        if labels is not None:
            if not cfg.num_classes:
                raise ValueError("labels given to an unconditional U-Net (num_classes=0)")
            if labels.shape != (x.shape[0],):
                raise ValueError(
                    f"labels must be one per image, ({x.shape[0]},), got {tuple(labels.shape)}"
                )

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """ε (B, C, H, W) predicted for noisy images x (B, C, H, W) at timesteps t (B,).
        With class conditioning, labels (B,) in 0..num_classes; None or num_classes: no label."""
        self._check(x, t, labels)
        # float32 even under autocast: t in bfloat16 would round 998 and 999 both to 1000
        with torch.autocast(x.device.type, enabled=False):
            emb = self.time_mlp(timestep_embedding(t, self.cfg.time_dim))
        if self.label_emb is not None:
            if labels is None:
                labels = torch.full_like(t, self.null_label, dtype=torch.long)
            emb = emb + self.label_emb(labels)
        h = self.stem(x)
        skips = []
        for level, down in zip(self.down, self.downsample, strict=True):
            for block in level:
                h = block(h, emb)
            skips.append(h)
            h = down(h)
        h = self.mid2(self.attn(self.mid1(h, emb)), emb)
        for level, up in zip(self.up, self.upsample, strict=True):
            h = torch.cat([up(h), skips.pop()], dim=1)
            for block in level:
                h = block(h, emb)
        return self.out(F.silu(self.out_norm(h)))

    def guided(
        self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor, guidance: float
    ) -> torch.Tensor:
        """Classifier-free guidance (Ho & Salimans 2022): ε_uncond + w·(ε_cond − ε_uncond),
        both from one forward over the batch twice (with labels, then with the null label);
        at w = 1 that is ε_cond, from one forward over the batch once."""
        if not self.cfg.num_classes:
            raise ValueError("guidance needs a class-conditional U-Net (num_classes > 0)")
        if guidance == 1.0:  # ε_uncond + 1·(ε_cond − ε_uncond) is ε_cond: one plain forward
            return self(x, t, labels)
        null = torch.full_like(labels, self.null_label)
        eps = self(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
        cond, uncond = eps.chunk(2)
        return uncond + guidance * (cond - uncond)

    def drop_labels(
        self, labels: torch.Tensor, p: float, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """A copy of labels with each replaced by the null label with probability p, drawn
        from `generator`: training on these teaches one network both ε_cond and ε_uncond
        (Ho & Salimans 2022 use p = 0.1 or 0.2)."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"label dropout p must be in [0, 1], got {p}")
        drop = torch.rand(labels.shape, generator=generator, device=labels.device) < p
        return labels.masked_fill(drop, self.null_label)
