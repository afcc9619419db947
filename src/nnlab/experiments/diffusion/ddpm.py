"""ddpm: a denoising diffusion model on MNIST, sampled by DDPM and DDIM (seed 000 Problem 3C).

A small U-Net (`nnlab.models.unet`) learns to predict the noise ε of x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε
with the simple loss of Ho et al. 2020 (T = 1000, β linear from 1e-4 to 0.02); an exponential
moving average of its weights samples. The noise schedule and both samplers are
`nnlab.diffusion`, apart from the network, so DDPM's 1000 ancestral steps and DDIM's 10-100
steps (Song et al. 2021) draw from one trained model. Class-conditional (`conditional`, on in
the quick preset), the U-Net also sees each image's label, dropped 10% of the time so that
classifier-free guidance (Ho & Salimans 2022) can steer the by-label grid; the measured samples
are then each conditioned on a label drawn at the training set's class frequencies.

Sample quality is measured under a fixed protocol (`nnlab.diffusion.frechet`): the Fréchet
distance of the samples' features under nnlab's own MNIST classifier against the test set,
beside the same distance for real training images (the floor), with the classifier's mean
confidence and the class histogram of the samples.

Images are in [-1, 1]. Training shuffles once per epoch with the run's generator, so a resumed
run (checkpoint every epoch) repeats the same batches; training runs under `torchrun` too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment
from nnlab.training.settings import Precision, precision_setting

if TYPE_CHECKING:
    from nnlab.runs.run import Run

SEED_EPOCH_LOSSES = (0.0795, 0.0372)  # the seed's loss after its first and second epoch
NOISING_FRACTIONS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)  # of T - 1, for the strip
GRID = 64  # samples in each 8x8 grid


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    channels: tuple[int, ...] = param(
        (32, 64, 128), low=1, high=4096, help="U-Net width at each resolution"
    )
    blocks: int = param(1, low=1, high=8, help="residual blocks per resolution")
    attention: bool = param(False, help="self-attention at the lowest resolution")
    conditional: bool = param(False, help="class-conditional, with classifier-free guidance")
    label_dropout: float = param(0.1, low=0.0, high=1.0, help="labels dropped in training")
    guidance: float = param(2.0, low=0.0, high=50.0, help="guidance weight of labelled grids")
    schedule: Literal["linear", "cosine"] = "linear"
    T: int = param(1000, low=2, high=100_000, help="diffusion steps")
    epochs: int = param(5, low=1, high=10_000)
    batch_size: int = param(128, low=1, high=1_000_000)
    lr: float = param(2e-3, low=0.0, low_open=True, help="AdamW learning rate (cosine decay)")
    weight_decay: float = param(0.0, low=0.0)
    ema: float = param(0.995, low=0.0, high=1.0, help="EMA decay of the sampling weights")
    min_snr: float = param(
        0.0, low=0.0, help="Min-SNR-γ loss weight min(SNR, γ)/SNR (Hang et al. 2023); 0: off"
    )
    grad_clip: float = param(1.0, low=0.0, help="clip the gradient norm (0: off)")
    scale_shift: bool = param(
        True, help="the time embedding scales and shifts each block's features (else: added)"
    )
    train_subset: int = param(0, low=0, high=10_000_000, help="training images used (0: all)")
    quality_samples: int = param(
        1000, low=0, high=1_000_000, help="samples per sampler for the quality numbers (0: none)"
    )
    ddpm_quality: bool = param(True, help="also measure DDPM's full T steps (slow)")
    ddim_steps: tuple[int, ...] = param(
        (10, 20, 50, 100), low=1, high=100_000, help="DDIM step counts compared"
    )
    ddim_eta: float = param(
        0.0, low=0.0, high=1.0, help="DDIM's noise: 0 deterministic, 1 DDPM-like (Song et al.)"
    )
    clip_x0: bool = param(
        True, help="clip each step's predicted x0 to [-1, 1] while sampling (as diffusers does)"
    )
    sample_batch: int = param(500, low=1, high=1_000_000, help="images per sampling batch")
    channels_last: bool = param(True, help="NHWC memory layout (faster convolutions on CPU)")
    precision: Precision = precision_setting()

    def check(self) -> None:
        too_many = [s for s in self.ddim_steps if s > self.T]
        if too_many:
            raise ConfigError(
                f"ddim_steps {too_many} exceed T = {self.T}; DDIM takes from 1 to T steps"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "channels": (16, 32),
        "T": 100,
        "epochs": 3,
        "batch_size": 64,
        "quality_samples": 100,
        "ddim_steps": (5, 10),
        "sample_batch": 100,
        # 66 steps: at 0.995 the EMA would still be 72% the initial weights, whose samples
        # score as pure noise does (Fréchet 118 against 118-120); at 0.9 they score 77
        "ema": 0.9,
    },
    # a smaller U-Net, 256 samples per sampler, DDIM at 10 and 50 steps; batch 64 for 4 epochs
    # with EMA 0.998 (0.998^3,748 steps leaves 0.06% of the initial weights). Class-conditional,
    # each sample conditioned on a label drawn at the class frequencies: the same distribution
    # p(x) = sum_y p(y) p(x | y), drawn far better within 10 minutes than unconditionally (README)
    "quick": {
        "conditional": True,
        "channels": (16, 32, 64),
        "epochs": 4,
        "batch_size": 64,
        "ema": 0.998,
        "quality_samples": 256,
        "sample_batch": 256,
        "ddim_steps": (10, 50),
    },
    # the seed's 10 epochs (its loss reference is the epoch-2 loss, `epoch2_loss`)
    "full": {"epochs": 10, "attention": True, "quality_samples": 10_000, "lr": 1e-3},
}


def unet_config(cfg: Config):
    import math

    from nnlab.models.unet import UNetConfig

    groups = math.gcd(8, *cfg.channels)  # GroupNorm groups must divide every width
    return UNetConfig(
        in_channels=1,
        channels=tuple(cfg.channels),
        blocks=cfg.blocks,
        groups=groups,
        attention=cfg.attention,
        num_classes=10 if cfg.conditional else 0,
        scale_shift=cfg.scale_shift,
    )


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.diffusion.frechet import real_floor, sample_quality, to_signed
    from nnlab.diffusion.pipeline import DiffusionPipeline, make_schedule, schedule_config
    from nnlab.diffusion.samplers import Trajectory
    from nnlab.diffusion.train import NoiseTraining, fit_noise_predictor
    from nnlab.models.unet import UNet
    from nnlab.training.distributed import world
    from nnlab.training.precision import resolve
    from nnlab.viz import image_grid, learning_curves

    device = run.device
    precision = resolve(cfg.precision, device)  # training and sampling alike
    layout = torch.channels_last if cfg.channels_last else torch.contiguous_format
    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x_all = data.x_train[: cfg.train_subset or None]
    x_train = to_signed(torch.as_tensor(x_all, dtype=torch.float32)).unsqueeze(1)
    y_train = torch.as_tensor(data.y_train[: cfg.train_subset or None], dtype=torch.long)
    size = x_train.shape[-1]
    try:
        model = UNet(unet_config(cfg)).to(device, memory_format=layout)
        model(torch.zeros(1, 1, size, size, device=device), torch.zeros(1, dtype=torch.long))
    except ValueError as exc:
        raise ConfigError(f"U-Net: {exc}") from None
    ema = UNet(unet_config(cfg)).to(device, memory_format=layout)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    schedule_cfg = schedule_config(cfg.schedule, cfg.T)
    schedule = make_schedule(schedule_cfg).to(device)
    training = NoiseTraining(
        cfg.epochs,
        cfg.batch_size,
        cfg.lr,
        cfg.weight_decay,
        cfg.ema,
        cfg.conditional,
        cfg.label_dropout,
        layout,
        precision,
        cfg.min_snr,
        cfg.grad_clip,
    )
    draws = torch.Generator().manual_seed(run.seed)  # batches, timesteps, noise, label drops
    train_seconds = fit_noise_predictor(
        run, model, ema, schedule, x_train, y_train, training, draws
    )
    steps_per_epoch = max(1, len(x_train) // cfg.batch_size)
    run.record_time("train_seconds", train_seconds)
    trained = cfg.epochs * steps_per_epoch * min(cfg.batch_size, len(x_train))
    run.record_time("train_images_per_second", trained / max(train_seconds, 1e-9))
    if not world().is_main:  # sampling, quality and figures are rank 0's
        return {}
    pipe = DiffusionPipeline(
        ema, schedule, schedule_cfg, (1, size, size), cfg.clip_x0, layout, precision=precision
    )
    run.save_model("ema", pipe.state(dataset=cfg.dataset))
    ema.eval()

    # DDPM's reverse process, every T/10 steps, recorded on its first batch of samples
    strip = Trajectory(every=cfg.T // 10 or 1)

    # a class-conditional model samples p(x) as p(y) p(x | y): labels drawn at the training
    # set's class frequencies, each image conditioned on its own (guidance 1: one forward)
    prior = torch.bincount(y_train, minlength=10).double()

    def sampler_batches(sampler: str, steps: int, n: int, seed: int) -> tuple[torch.Tensor, float]:
        """`n` samples drawn `cfg.sample_batch` at a time, and the seconds they took."""
        generator = torch.Generator(device=device).manual_seed(seed)
        label_draws = torch.Generator().manual_seed(seed)
        began, out = time.perf_counter(), []
        for start in range(0, n, cfg.sample_batch):
            batch = min(cfg.sample_batch, n - start)
            record = strip if sampler == "ddpm" and start == 0 else None
            labels = None
            if cfg.conditional:
                labels = torch.multinomial(prior, batch, replacement=True, generator=label_draws)
                labels = labels.to(device)
            x = pipe.sample(batch, sampler, steps, cfg.ddim_eta, generator, labels, record=record)
            out.append(x.cpu())
        return torch.cat(out), time.perf_counter() - began

    samplers = {"ddpm": ("ddpm", cfg.T)} | {f"ddim{k}": ("ddim", k) for k in cfg.ddim_steps}

    def show(images: torch.Tensor) -> np.ndarray:
        return ((images[:, 0].numpy() + 1) / 2).clip(0, 1)

    quality = {}
    for name, (sampler, steps) in samplers.items():
        # one draw per sampler from the same starting noise: the grid is its first 64 images
        measured = cfg.quality_samples and (name != "ddpm" or cfg.ddpm_quality)
        n = max(cfg.quality_samples, GRID) if measured else GRID
        images, sample_seconds = sampler_batches(sampler, steps, n, run.seed + 1)
        run.record_time(f"{name}_sample_seconds_{n}", sample_seconds)
        run.record_time(f"{name}_images_per_second", n / max(sample_seconds, 1e-9))
        label = (
            "DDPM, T steps" if name == "ddpm" else f"DDIM, {name[4:]} steps, η = {cfg.ddim_eta:g}"
        )
        label += ", labels at the class frequencies" if cfg.conditional else ""
        run.figure(
            f"samples_{name}",
            image_grid(
                show(images[:GRID]), ncols=8, title=f"{label} (EMA weights)", normalize=None
            ),
            f"The first {GRID} of {n} samples, {label}, drawn in {sample_seconds:.1f} s "
            "from the same starting noise as the other grids.",
        )
        if measured:
            began = time.perf_counter()
            q = sample_quality(images, cfg.dataset, download=run.allow_download)
            run.record_time(f"{name}_quality_seconds", time.perf_counter() - began)
            quality[name] = {
                "frechet_distance": q["frechet_distance"],
                "mean_max_probability": q["mean_max_probability"],
                "class_fractions": q["class_fractions"],
            }
    if cfg.conditional:  # each class on a row, steered by classifier-free guidance
        labels = torch.arange(10, device=device).repeat_interleave(8)

        steps = min(50, cfg.T)
        generator = torch.Generator(device=device).manual_seed(run.seed + 3)
        rows = pipe.sample(80, "ddim", steps, 0.0, generator, labels, cfg.guidance)
        run.figure(
            "samples_by_label",
            image_grid(
                show(rows.cpu()),
                ncols=8,
                title=f"One class per row, guidance {cfg.guidance:g}, DDIM {steps} steps",
                normalize=None,
            ),
            "Row k: eight samples asked for class k with classifier-free guidance "
            f"(ε_uncond + {cfg.guidance:g}·(ε_cond − ε_uncond); Ho & Salimans 2022).",
        )

    floor = None
    if cfg.quality_samples:
        f = real_floor(cfg.dataset, cfg.quality_samples, download=run.allow_download)
        floor = f["frechet_distance"]

    # the forward process on real images, and the reverse process of DDPM
    x0 = x_train[:8]
    noising_steps = [round(f * (cfg.T - 1)) for f in NOISING_FRACTIONS]
    noisy = torch.stack(
        [
            schedule.add_noise(
                x0, torch.full((8,), int(s)), torch.randn(x0.shape, generator=draws)
            ).cpu()
            for s in noising_steps
        ],
        dim=1,
    ).reshape(-1, 1, size, size)
    run.figure(
        "forward_noising",
        image_grid(
            show(noisy.clamp(-1, 1)),
            ncols=len(noising_steps),
            titles=[f"t={s}" if row == 0 else "" for row in range(8) for s in noising_steps],
            title="The forward process q(x_t | x_0) on training images",
            normalize=None,
        ),
        "Each row: one training image noised to x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε at the t above it.",
    )
    states = strip.stack()[:, :8].clamp(-1, 1)  # (K, 8, 1, H, W): the grid's first 8
    k = states.shape[0]
    run.figure(
        "reverse_trajectory",
        image_grid(
            show(states.transpose(0, 1).reshape(-1, 1, size, size)),
            ncols=k,
            titles=[
                ("sample" if s < 0 else f"t={s}") if row == 0 else ""
                for row in range(8)
                for s in strip.timesteps
            ],
            title="DDPM's reverse process, from noise (left) to a sample (right)",
            normalize=None,
        ),
        f"Each row: one sample's x_t every {strip.every} steps of ancestral sampling.",
    )
    history = run.history()
    run.figure(
        "loss",
        learning_curves(
            history,
            {"loss": ["train_loss", "epoch_loss"]},
            title="ε-prediction loss",
            xlabel="step",
        ),
        "Mean squared error of the predicted noise per step and its mean per epoch; the seed "
        f"reported {SEED_EPOCH_LOSSES[0]} and {SEED_EPOCH_LOSSES[1]} after epochs 1 and 2.",
    )

    epoch_losses = [r["epoch_loss"] for r in history if "epoch_loss" in r]
    summary: dict[str, Any] = {
        "dataset": cfg.dataset,
        "parameters": model.num_parameters(),
        "epoch_losses": epoch_losses,
        "final_epoch_loss": epoch_losses[-1],
        # the seed reported its loss after epoch 2 (0.0372): compared at the same epoch
        "epoch2_loss": epoch_losses[1] if len(epoch_losses) > 1 else None,
        "precision": precision,
        "quality_samples": cfg.quality_samples,
        "sampling": (
            "each conditioned on a label drawn at the training set's class frequencies"
            if cfg.conditional
            else "unconditional"
        ),
        "real_floor_frechet": floor,
    }
    for name, q in quality.items():
        summary[f"{name}_frechet"] = q["frechet_distance"]
        summary[f"{name}_max_probability"] = q["mean_max_probability"]
        summary[f"{name}_class_fractions"] = q["class_fractions"]
    ddims = sorted((int(k[4:]), k) for k in quality if k.startswith("ddim"))
    headline = "ddim50" if "ddim50" in quality else (ddims[-1][1] if ddims else None)
    headline = headline or ("ddpm" if "ddpm" in quality else None)
    summary["headline_sampler"] = headline
    summary["frechet"] = quality[headline]["frechet_distance"] if headline else None
    return summary


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
