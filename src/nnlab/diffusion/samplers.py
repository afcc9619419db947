"""The DDPM and DDIM samplers: loops over a `NoiseSchedule`'s reverse steps (see README.md).

x = sample_ddim(model, schedule, (16, 1, 28, 28), steps=50)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

from nnlab.diffusion.schedules import NoiseSchedule, Spacing, Variance, _check_length, _randn


@dataclass
class Trajectory:
    """States of a reverse process, recorded by a sampler given `record=`: the start (pure
    noise), the state after every `every`-th step, and the sample; `timesteps[k]` is the t
    of `states[k]` (-1 for the sample). States are copied to the CPU.

        strip = Trajectory(every=100)
        x = sample_ddpm(model, schedule, (4, 1, 28, 28), record=strip)  # strip.stack(): 11 x 4
    """

    every: int = 1
    timesteps: list[int] = field(default_factory=list)
    states: list[torch.Tensor] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"every must be an integer >= 1, got {self.every!r}")

    def add(self, t: int, x: torch.Tensor) -> None:
        self.timesteps.append(t)
        self.states.append(x.detach().to("cpu", copy=True))

    def stack(self) -> torch.Tensor:
        """The states as one (K, B, ...) tensor."""
        return torch.stack(self.states)


def ddim_timesteps(T: int, steps: int, spacing: Spacing = "trailing") -> list[int]:
    """`steps` distinct timesteps of a T-step schedule, decreasing, for a DDIM sampler
    (Lin et al. 2024, Table 2): "trailing" round(T (S - i) / S) - 1, from T-1 down to T/S - 1;
    "linspace" round(i (T-1) / (S-1)) from T-1 down to 0; "leading" i floor(T / S), from
    (S-1) floor(T / S) down to 0. Rounding is half up.

        ddim_timesteps(1000, 50)                         # [999, 979, ..., 39, 19]
        ddim_timesteps(1000, 50, "leading")              # [980, 960, ..., 20, 0]
    """
    _check_length(T)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= T:
        raise ValueError(f"steps must be an integer from 1 to T = {T}, got {steps!r}")
    S = steps
    if spacing == "trailing":
        return [(2 * T * (S - i) + S) // (2 * S) - 1 for i in range(S)]
    if spacing == "linspace":
        if S == 1:
            return [T - 1]
        return [(2 * (T - 1) * (S - 1 - i) + (S - 1)) // (2 * (S - 1)) for i in range(S)]
    if spacing == "leading":
        return [(S - 1 - i) * (T // S) for i in range(S)]
    raise ValueError(f"spacing must be 'trailing', 'linspace' or 'leading', got {spacing!r}")


def sample_ddpm(
    model: EpsModel,
    schedule: NoiseSchedule,
    shape: Sequence[int],
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    variance: Variance = "beta",
    clip_x0: bool = False,
    x_T: torch.Tensor | None = None,
    record: Trajectory | None = None,
) -> torch.Tensor:
    """Samples of shape `shape` (B, ...) by all T ancestral steps of Ho et al. (2020),
    Algorithm 2, from x_T ~ N(0, I) (drawn by `generator` unless given) down to t = -1.

        gen = torch.Generator().manual_seed(0)
        x = sample_ddpm(model, NoiseSchedule.linear(), (16, 1, 28, 28), gen)
    """
    T = schedule.T
    pairs = [(t, t - 1) for t in range(T - 1, -1, -1)]

    def step(eps, t, t_prev, x, sched):
        return sched.ddpm_step(eps, t, x, generator, variance=variance, clip_x0=clip_x0)

    return _sample(model, schedule, shape, pairs, step, generator, device, progress, x_T, record)


def sample_ddim(
    model: EpsModel,
    schedule: NoiseSchedule,
    shape: Sequence[int],
    steps: int = 50,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    spacing: Spacing = "trailing",
    clip_x0: bool = False,
    x_T: torch.Tensor | None = None,
    record: Trajectory | None = None,
) -> torch.Tensor:
    """Samples of shape `shape` (B, ...) by `steps` DDIM steps (Song et al. 2021, eq. 12)
    over `ddim_timesteps(T, steps, spacing)`, the last one to t = -1; eta = 0 is deterministic
    given x_T, eta = 1 adds DDPM-like noise. For guidance, pass a guided closure as `model`.

        x = sample_ddim(model, NoiseSchedule.linear(), (16, 1, 28, 28), steps=50)
        x = sample_ddim(model, schedule, (16, 1, 28, 28), 100, eta=1.0, generator=gen)
    """
    timesteps = ddim_timesteps(schedule.T, steps, spacing)
    pairs = list(zip(timesteps, [*timesteps[1:], -1], strict=True))

    def step(eps, t, t_prev, x, sched):
        return sched.ddim_step(eps, t, t_prev, x, eta, generator, clip_x0=clip_x0)

    return _sample(model, schedule, shape, pairs, step, generator, device, progress, x_T, record)


@torch.no_grad()
def _sample(
    model: EpsModel,
    schedule: NoiseSchedule,
    shape: Sequence[int],
    pairs: list[tuple[int, int]],
    step: Callable[..., torch.Tensor],
    generator: torch.Generator | None,
    device: torch.device | str | None,
    progress: Callable[[int, int], None] | None,
    x_T: torch.Tensor | None,
    record: Trajectory | None,
) -> torch.Tensor:
    """The loop both samplers share: x <- step(model(x, t), t, t_prev, x) over `pairs`."""
    if x_T is not None:
        if tuple(x_T.shape) != tuple(shape):
            raise ValueError(f"x_T has shape {tuple(x_T.shape)} but shape is {tuple(shape)}")
        device = torch.device(device) if device is not None else x_T.device
        x = x_T.to(device, torch.float32)
    else:
        if device is None:
            device = generator.device if generator is not None else schedule.device
        device = torch.device(device)
        x = _randn(torch.empty(tuple(shape), device=device), generator)
    schedule = schedule.to(device)
    if record is not None:
        record.timesteps.clear()
        record.states.clear()
        record.add(pairs[0][0], x)
    n = len(pairs)
    for i, (t, t_prev) in enumerate(pairs, start=1):
        eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long, device=device))
        if eps.shape != x.shape:
            raise ValueError(
                f"model(x, t) returned shape {tuple(eps.shape)} for x of shape "
                f"{tuple(x.shape)}: it must predict the noise eps, one value per element of x"
            )
        x = step(eps.to(x.dtype), t, t_prev, x, schedule)
        if record is not None and (i % record.every == 0 or i == n):
            record.add(t_prev, x)
        if progress is not None:
            progress(i, n)
    return x
