"""Diffusion: noise schedules, the forward process and the DDPM and DDIM samplers, independent
of any network (see README.md). A model is any callable `model(x_t, t) -> eps` that
predicts the noise; a guided model is such a callable too (README.md shows one).

    schedule = NoiseSchedule.linear()                    # Ho et al. (2020): T = 1000
    x = sample_ddim(model, schedule, (16, 1, 28, 28), steps=50)

Like diffusers, the schedule is an object apart from the network and the sampling loop: it
noises (`add_noise`) and takes one reverse step (`ddpm_step`, `ddim_step`), so DDPM and DDIM
sample from the same trained model. Training a noise predictor takes three lines:

    t = torch.randint(schedule.T, (len(x0),), device=x0.device)
    noise = torch.randn_like(x0)
    loss = F.mse_loss(model(schedule.add_noise(x0, t, noise), t), noise)

Timesteps count from 0, as in diffusers: t = 0 .. T-1, and `betas[t]` is Ho et al.'s
beta_{t+1}. The state "at t" is x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps with
abar_t = prod_{s <= t} (1 - beta_s); t = -1 stands for the clean image (abar = 1), so a
reverse step goes from t to t_prev and the last one ends at t_prev = -1. A timestep is an int
or a (B,) integer tensor, one per sample; everything broadcasts over the image dimensions
and is vectorised over the batch.

The schedule's tables are float64 (as in Ho et al.'s code): a step forms its coefficients in
float64 and casts them to x's dtype (float32) only to apply them, which keeps quantities like
1 - abar_t ~ 1e-4 exact where float32 would lose three digits.

References: Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (DDPM, the
linear schedule); Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models"
(the cosine schedule); Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models" (DDIM);
Lin, Liu, Li & Yang 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed"
(timestep spacing).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal

import torch

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

Timestep = int | torch.Tensor
Variance = Literal["beta", "beta_tilde"]
Spacing = Literal["trailing", "linspace", "leading"]

__all__ = ["NoiseSchedule"]


def _check_length(T: object) -> int:
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"T (the number of diffusion steps) must be an integer >= 1, got {T!r}")
    return T


@dataclass(frozen=True, eq=False, repr=False)
class NoiseSchedule:
    """The variances beta_t of a diffusion's forward process and the tables derived from them,
    indexed by t = 0 .. T-1 (see the module docstring for the conventions).

        schedule = NoiseSchedule.cosine(1000)
        x_t = schedule.add_noise(x0, t, torch.randn_like(x0))

    Build one with `linear`, `cosine` or `from_betas`; every field is a (T,) float64 tensor.
    Steps look their coefficients up on x's device: `.to(device)` once to keep them there.
    """

    betas: torch.Tensor  # beta_t
    alphas: torch.Tensor  # alpha_t = 1 - beta_t
    alphas_cumprod: torch.Tensor  # abar_t = prod_{s <= t} alpha_s
    alphas_cumprod_prev: torch.Tensor  # abar_{t-1}, with abar_{-1} = 1
    posterior_variance: torch.Tensor  # beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t
    posterior_mean_coef_x0: torch.Tensor  # sqrt(abar_{t-1}) beta_t / (1 - abar_t)
    posterior_mean_coef_xt: torch.Tensor  # sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t)

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_betas(cls, betas: Sequence[float] | torch.Tensor) -> NoiseSchedule:
        """A schedule from any T variances, each in (0, 1); the posterior q(x_{t-1} | x_t, x0)
        of Ho et al. (2020), eqs. 6-7, gives the mean coefficients and beta~_t.

            schedule = NoiseSchedule.from_betas(torch.full((500,), 0.01))
            schedule.alphas_cumprod[-1]                  # 0.99 ** 500
        """
        b = torch.as_tensor(betas).detach().to("cpu", torch.float64)
        if b.ndim != 1 or len(b) == 0:
            raise ValueError(f"betas must be a non-empty 1-D sequence, got shape {tuple(b.shape)}")
        if not bool(((b > 0) & (b < 1)).all()):
            raise ValueError(
                f"every beta must be in (0, 1), got values from {b.min().item():g} "
                f"to {b.max().item():g}"
            )
        alphas = 1.0 - b
        abar = torch.cumprod(alphas, 0)
        abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
        return cls(
            betas=b,
            alphas=alphas,
            alphas_cumprod=abar,
            alphas_cumprod_prev=abar_prev,
            posterior_variance=(1.0 - abar_prev) / (1.0 - abar) * b,
            posterior_mean_coef_x0=abar_prev.sqrt() * b / (1.0 - abar),
            posterior_mean_coef_xt=alphas.sqrt() * (1.0 - abar_prev) / (1.0 - abar),
        )

    @classmethod
    def linear(
        cls, T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02
    ) -> NoiseSchedule:
        """Betas evenly spaced from `beta_start` to `beta_end` (Ho et al. 2020, sec. 4).

        schedule = NoiseSchedule.linear()            # T = 1000, 1e-4 .. 0.02
        schedule.alphas_cumprod[-1]                  # 4.0358e-5
        """
        _check_length(T)
        if not 0.0 < beta_start < beta_end < 1.0:
            raise ValueError(
                "the linear schedule needs 0 < beta_start < beta_end < 1, "
                f"got beta_start={beta_start!r}, beta_end={beta_end!r}"
            )
        return cls.from_betas(torch.linspace(beta_start, beta_end, T, dtype=torch.float64))

    @classmethod
    def cosine(cls, T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
        """abar(t) = f(t) / f(0), f(t) = cos^2((t/T + s) / (1 + s) * pi/2), and
        beta_t = 1 - abar(t) / abar(t-1) clipped at `max_beta` (Nichol & Dhariwal 2021, eq. 17);
        the offset s keeps beta_t from being too small near t = 0.

            schedule = NoiseSchedule.cosine(1000)
            schedule.alphas_cumprod[0]                   # 0.99996
        """
        _check_length(T)
        if not (math.isfinite(s) and s >= 0):
            raise ValueError(f"the cosine schedule's offset s must be >= 0, got {s!r}")
        if not 0.0 < max_beta < 1.0:
            raise ValueError(f"max_beta must be in (0, 1), got {max_beta!r}")
        steps = torch.arange(T + 1, dtype=torch.float64)
        f = torch.cos((steps / T + s) / (1 + s) * (math.pi / 2)) ** 2
        abar = f / f[0]
        return cls.from_betas((1.0 - abar[1:] / abar[:-1]).clamp(max=max_beta))

    # ----------------------------------------------------------------- basics

    @property
    def T(self) -> int:
        """The number of diffusion steps."""
        return len(self.betas)

    @property
    def device(self) -> torch.device:
        return self.betas.device

    def to(self, device: torch.device | str) -> NoiseSchedule:
        """The same schedule with its tables on `device` (float32 where float64 is missing).

        schedule = NoiseSchedule.linear().to("cuda")
        """
        device = torch.device(device)
        dtype = torch.float32 if device.type == "mps" else torch.float64
        return NoiseSchedule(
            **{f.name: getattr(self, f.name).to(device, dtype) for f in fields(self)}
        )

    def __repr__(self) -> str:
        return (
            f"NoiseSchedule(T={self.T}, beta_0={self.betas[0].item():.4g}, "
            f"beta_T-1={self.betas[-1].item():.4g}, "
            f"alpha_bar_T-1={self.alphas_cumprod[-1].item():.4g}, device={self.device})"
        )

    # ----------------------------------------------------------------- forward process

    def add_noise(self, x0: torch.Tensor, t: Timestep, noise: torch.Tensor) -> torch.Tensor:
        """A draw of q(x_t | x0) = N(sqrt(abar_t) x0, (1 - abar_t) I) for the given noise
        (Ho et al. 2020, eq. 4): sqrt(abar_t) x0 + sqrt(1 - abar_t) noise.

            t = torch.randint(schedule.T, (len(x0),))
            x_t = schedule.add_noise(x0, t, torch.randn_like(x0))
        """
        t = self._check_t(t, x0)
        abar = self._at(self.alphas_cumprod, t, x0)
        return _cast(abar.sqrt(), x0) * x0 + _cast((1.0 - abar).sqrt(), x0) * noise

    def predict_x0(self, x_t: torch.Tensor, t: Timestep, eps: torch.Tensor) -> torch.Tensor:
        """The x0 that `add_noise` would turn into x_t with noise eps:
        (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) (Ho et al. 2020, eq. 15).

            x0_hat = schedule.predict_x0(x_t, t, model(x_t, t))
        """
        t = self._check_t(t, x_t)
        abar = self._at(self.alphas_cumprod, t, x_t)
        return _cast(abar.rsqrt(), x_t) * x_t - _cast((1.0 / abar - 1.0).sqrt(), x_t) * eps

    # ----------------------------------------------------------------- reverse steps

    def ddpm_step(
        self,
        eps: torch.Tensor,
        t: Timestep,
        x_t: torch.Tensor,
        generator: torch.Generator | None = None,
        *,
        variance: Variance = "beta",
        clip_x0: bool = False,
    ) -> torch.Tensor:
        """One ancestral step x_t -> x_{t-1} of Ho et al. (2020), Algorithm 2: a draw of
        N(mu~_t(x_t, x0_hat), sigma_t^2 I), where mu~_t is the posterior mean of eq. 7 at the
        predicted x0_hat, and sigma_t^2 = beta_t (`variance="beta"`) or beta~_t
        (`"beta_tilde"`). At t = 0 it returns the mean, x0_hat, without noise. Unclipped, the
        mean equals eq. 11's (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t).

            x = torch.randn(8, 1, 28, 28)
            x = schedule.ddpm_step(model(x, t), t, x)    # for t = T-1, ..., 0
        """
        if variance not in ("beta", "beta_tilde"):
            raise ValueError(f"variance must be 'beta' or 'beta_tilde', got {variance!r}")
        t = self._check_t(t, x_t)
        noise = _randn(x_t, generator)
        var = self._at(self.betas if variance == "beta" else self.posterior_variance, t, x_t)
        noisy = (torch.as_tensor(t, device=x_t.device) > 0).reshape(var.shape)  # none at t = 0
        coef_x0 = self._at(self.posterior_mean_coef_x0, t, x_t)
        coef_xt = self._at(self.posterior_mean_coef_xt, t, x_t)
        mean = self._mean(coef_x0, coef_xt, t, x_t, eps, clip_x0)
        return mean + _cast(var.sqrt() * noisy, x_t) * noise

    def ddim_step(
        self,
        eps: torch.Tensor,
        t: Timestep,
        t_prev: Timestep,
        x_t: torch.Tensor,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
        *,
        clip_x0: bool = False,
    ) -> torch.Tensor:
        """One step x_t -> x_{t_prev} of Song et al. (2021), eq. 12, for any t_prev < t
        (t_prev = -1: the clean image, abar = 1):

            sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps + sigma z,
            sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev),

        with eta in [0, 1]: 0 is deterministic (no noise is drawn), 1 with t_prev = t - 1 is
        the DDPM step with beta~_t.

            x = schedule.ddim_step(model(x, t), t, t_prev, x)   # t = 999, 979, ..., 19; -1
        """
        if not 0.0 <= eta <= 1.0:
            raise ValueError(f"eta must be in [0, 1] (0: deterministic DDIM), got {eta!r}")
        t = self._check_t(t, x_t)
        t_prev = self._check_t(t_prev, x_t, name="t_prev", lowest=-1)
        if not _all_less(t_prev, t, x_t.device):
            raise ValueError("t_prev must be smaller than t: a reverse step goes towards t = -1")
        abar = self._at(self.alphas_cumprod, t, x_t)
        abar_prev = self._at_prev(t_prev, x_t)
        sigma2 = eta**2 * (1.0 - abar_prev) / (1.0 - abar) * (1.0 - abar / abar_prev)
        direction = (1.0 - abar_prev - sigma2).clamp(min=0.0).sqrt()
        # eq. 12 with eps = (x_t - sqrt(abar) x0_hat) / sqrt(1 - abar), as a posterior mean:
        # the clipped x0_hat then comes with the eps that matches it
        coef_xt = direction / (1.0 - abar).sqrt()
        coef_x0 = abar_prev.sqrt() - coef_xt * abar.sqrt()
        x_prev = self._mean(coef_x0, coef_xt, t, x_t, eps, clip_x0)
        if eta > 0:
            x_prev = x_prev + _cast(sigma2.sqrt(), x_t) * _randn(x_t, generator)
        return x_prev

    # ----------------------------------------------------------------- helpers

    def _check_t(
        self, t: Timestep, x: torch.Tensor, name: str = "t", lowest: int = 0
    ) -> int | torch.Tensor:
        """An int in [lowest, T-1], or an integer tensor of shape () or (B,) with its values
        there; a one-line ValueError otherwise."""
        last = self.T - 1
        if not isinstance(t, torch.Tensor):
            try:
                t = operator.index(t)
            except TypeError:
                raise TypeError(f"{name} must be an int or an integer tensor, got {t!r}") from None
            if not lowest <= t <= last:
                raise ValueError(f"{name} must be in [{lowest}, {last}], got {t}")
            return t
        if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
            raise ValueError(f"{name} must be an integer tensor (torch.long), got {t.dtype}")
        if t.ndim > 1 or (t.ndim == 1 and len(t) != x.shape[0]):
            raise ValueError(
                f"{name} must be an int or a ({x.shape[0]},) tensor, one timestep per sample; "
                f"got shape {tuple(t.shape)}"
            )
        if t.numel() and not bool(((t >= lowest) & (t <= last)).all()):
            raise ValueError(
                f"{name} must be in [{lowest}, {last}], got values from {t.min().item()} "
                f"to {t.max().item()}"
            )
        return t.to(x.device)

    def _mean(
        self,
        coef_x0: torch.Tensor,
        coef_xt: torch.Tensor,
        t: int | torch.Tensor,
        x_t: torch.Tensor,
        eps: torch.Tensor,
        clip_x0: bool,
    ) -> torch.Tensor:
        """coef_x0 x0_hat + coef_xt x_t. Unclipped, x0_hat = (x_t - sqrt(1 - abar) eps) /
        sqrt(abar) is folded into the float64 coefficients of x_t and eps, so the early steps'
        large x0_hat (x_t / sqrt(abar), up to 157 x_t) is never rounded to float32."""
        if clip_x0:
            x0 = self.predict_x0(x_t, t, eps).clamp(-1.0, 1.0)
            return _cast(coef_x0, x_t) * x0 + _cast(coef_xt, x_t) * x_t
        abar = self._at(self.alphas_cumprod, t, x_t)
        on_xt = coef_x0 * abar.rsqrt() + coef_xt
        on_eps = coef_x0 * (1.0 / abar - 1.0).sqrt()
        return _cast(on_xt, x_t) * x_t - _cast(on_eps, x_t) * eps

    @staticmethod
    def _at(table: torch.Tensor, t: int | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """table[t] on x's device, shaped to broadcast against x (B, ...): 0-d for an int or
        0-d t, (B, 1, ..., 1) for a (B,) t. Still float64: cast after combining."""
        values = table.to(x.device)[t]
        return values.reshape(-1, *([1] * (x.ndim - 1))) if values.ndim else values

    def _at_prev(self, t_prev: int | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """abar at t_prev, with abar = 1 where t_prev = -1."""
        index = t_prev.clamp(min=0) if isinstance(t_prev, torch.Tensor) else max(t_prev, 0)
        abar = self._at(self.alphas_cumprod, index, x)
        clean = (torch.as_tensor(t_prev, device=x.device) < 0).reshape(abar.shape)
        return torch.where(clean, torch.ones_like(abar), abar)


def _cast(coef: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return coef.to(x.dtype)


def _all_less(a: int | torch.Tensor, b: int | torch.Tensor, device: torch.device) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a < b
    return bool(torch.all(torch.as_tensor(a, device=device) < torch.as_tensor(b, device=device)))


def _randn(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal noise shaped like x, drawn by `generator`, which must live on x's device."""
    if generator is not None and generator.device.type != x.device.type:
        raise ValueError(
            f"the generator is on {generator.device} but x_t is on {x.device}: "
            f"create it with torch.Generator(device={str(x.device)!r})"
        )
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
