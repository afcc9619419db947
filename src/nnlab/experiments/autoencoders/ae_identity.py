"""ae-identity: why an autoencoder must not be free to learn the identity (seed 001 Problem 5.1).

Four autoencoders with linear encoder and decoder (no activation, no sigmoid on the output;
``nnlab.models.autoencoders.MLPAutoencoder``) are trained on the same digits with the same
Adam steps (``nnlab.training.autoencoder.fit_autoencoders``), from the same initial weights
where their shapes agree:

- ``open``: over-complete, pixels → ``hidden`` (> pixels) → pixels, nothing else. It can copy
  its input, and copying is the cheapest way to a small loss;
- ``bottleneck``: pixels → ``latent`` (≪ pixels) → pixels: it must choose what to keep;
- ``sparse``: over-complete, but a ReLU on the code and λ₁ · Σ_j |h_j| added to the loss: few
  units may be on at once;
- ``denoise``: over-complete, inputs corrupted by N(0, ``noise_std``²), clean targets: copying
  the input copies the noise, so it must learn what digits look like.

Each reconstructs held-out digits and images that are nothing like digits: ``n_noise`` images
of uniform noise U(0, 1) on the pixels where the training digits are drawn (those whose
standard deviation over the training set exceeds ``support``; MNIST: 444 of 784, the centre),
and as many of uniform noise over the whole frame. Reported per variant: the mean squared
error per pixel on each set, the ratio noise / digits, and the fraction of each set's pixel
variance reconstructed, 1 − MSE / MSE(the set's mean image) (0: no better than ignoring the
input). A model that learned the identity reconstructs noise as well as digits; one that
learned digits turns noise into digit-like strokes, worse than the noise's mean image. On the
corners where no training digit ever has ink no model learns anything: whole-frame noise shows
that even the identity is only learned where the data vary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, check_choices, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment
from nnlab.training.settings import Precision, precision_setting

if TYPE_CHECKING:
    from nnlab.runs.run import Run

VARIANTS = ("open", "bottleneck", "sparse", "denoise")
SETS = ("digits", "noise", "frame_noise")
SHOWN = 3  # rows of each set in the reconstruction figure


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    variants: tuple[str, ...] = param(
        VARIANTS, help=f"autoencoders compared, among {', '.join(VARIANTS)}"
    )
    hidden: int = param(1024, low=1, high=65536, help="code width of the over-complete ones")
    latent: int = param(32, low=1, high=65536, help="code width of the bottleneck")
    l1: float = param(1e-3, low=0.0, low_open=True, help="λ₁ of the sparse variant's L1 term")
    noise_std: float = param(
        0.5, low=0.0, low_open=True, high=10.0, help="σ of the denoiser's input noise"
    )
    support: float = param(
        0.1, low=0.0, high=1.0, help="noise goes on pixels whose training std exceeds this"
    )
    n_noise: int = param(1000, low=1, high=1_000_000, help="noise images per noise set")
    epochs: int = param(10, low=1, high=10_000)
    batch_size: int = param(128, low=1, high=1_000_000)
    lr: float = param(1e-3, low=0.0, low_open=True, help="Adam learning rate")
    train_subset: int = param(0, low=0, high=10_000_000, help="training images used (0: all)")
    precision: Precision = precision_setting()

    def check(self) -> None:
        check_choices("variants", self.variants, VARIANTS)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "hidden": 128,
        "latent": 8,
        "epochs": 30,
        "batch_size": 32,
        "n_noise": 300,
    },
    "quick": {"train_subset": 20000},
    "full": {"epochs": 30},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.errors import DataError
    from nnlab.models.autoencoders import MLPAutoencoder, autoencoder_from_state
    from nnlab.training.autoencoder import (
        autoencoder_tensors,
        fit_autoencoders,
        image_errors,
        noise_images,
        reconstruct,
        variance_explained,
    )
    from nnlab.viz import grouped_bars, image_grid

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x_train, _, x_test, _ = autoencoder_tensors(data, cfg.train_subset, run.device)
    pixels = x_train[0].numel()
    if cfg.hidden <= pixels:
        raise ConfigError(
            f"setting 'hidden' must exceed the {pixels} pixels (over-complete), got {cfg.hidden}"
        )
    if cfg.latent >= pixels:
        raise ConfigError(f"setting 'latent' must be below the {pixels} pixels, got {cfg.latent}")
    support = x_train.std(dim=0) > cfg.support
    if not support.any():
        raise DataError(f"no pixel of {data.name} varies more than support={cfg.support}")
    draw = torch.Generator().manual_seed(run.seed + 10)
    sets = {
        "digits": x_test,
        "noise": noise_images(cfg.n_noise, support, draw),
        "frame_noise": noise_images(cfg.n_noise, torch.ones_like(support), draw),
    }

    def build(name: str) -> MLPAutoencoder:
        width = cfg.latent if name == "bottleneck" else cfg.hidden
        code = "relu" if name == "sparse" else None
        return MLPAutoencoder((pixels, width), activation=None, output=None, code_activation=code)

    def l1(code: torch.Tensor) -> torch.Tensor:
        return cfg.l1 * code.abs().sum(dim=1).mean()

    names = list(cfg.variants)
    states = fit_autoencoders(
        run,
        names,
        build,
        x_train,
        x_test,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        noise_std={"denoise": cfg.noise_std},
        penalty={"sparse": l1},
        desc="identity?",
        precision=cfg.precision,
    )

    results, shown = [], {}
    for name, state in zip(names, states, strict=True):
        model = autoencoder_from_state(state).to(run.device)
        r: dict[str, Any] = {"variant": name, "code_width": build(name).latent}
        for key, x in sets.items():
            out = reconstruct(model, x)
            r[f"{key}_mse"] = float(image_errors(out, x).mean())
            r[f"{key}_explained"] = variance_explained(out, x)
            shown[name, key] = out[:SHOWN].cpu().numpy()
        r["noise_to_digits_ratio"] = r["noise_mse"] / r["digits_mse"]
        results.append(r)
    by = {r["variant"]: r for r in results}

    side = x_train.shape[-1]
    rows, titles = [], []
    for key in SETS:
        for i in range(SHOWN):
            image = sets[key][i].cpu().numpy()
            rows.append(image)
            titles.append(f"{key.replace('_', ' ')} input")
            for name in names:
                out = shown[name, key][i]
                rows.append(np.clip(out, 0.0, 1.0))
                titles.append(f"{name}: {float(((out - image) ** 2).mean()):.3f}")
    run.figure(
        "reconstructions",
        image_grid(
            np.stack(rows).reshape(-1, side, side),
            ncols=1 + len(names),
            titles=titles,
            title=f"Digits and noise through autoencoders trained on {data.name} digits",
            normalize=None,
        ),
        "Each row: an input (held-out digits, uniform noise where digits are drawn, uniform "
        "noise over the whole frame) and each variant's reconstruction, pixel values 0..1 "
        "(clipped for display), with its mean squared error per pixel.",
    )
    run.figure(
        "errors",
        grouped_bars(
            names,
            [
                ("held-out digits", [by[n]["digits_mse"] for n in names]),
                ("noise where digits are drawn", [by[n]["noise_mse"] for n in names]),
                ("noise over the whole frame", [by[n]["frame_noise_mse"] for n in names]),
            ],
            ylabel="reconstruction MSE per pixel (log scale)",
            title=f"Reconstruction error on digits and on noise ({data.name})",
            log=True,
        ),
        "Mean squared error per pixel of each variant on each set (log scale). The noise "
        "sets' mean images score "
        + ", ".join(
            f"{float(image_errors(x.mean(0, keepdim=True).expand_as(x), x).mean()):.4f} "
            f"({k.replace('_', ' ')})"
            for k, x in sets.items()
        )
        + ": a model above that ignores its input.",
    )
    summary: dict[str, Any] = {
        "dataset": cfg.dataset,
        "pixels": pixels,
        "support_pixels": int(support.sum()),
        "hidden": cfg.hidden,
        "latent": cfg.latent,
        "epochs": cfg.epochs,
        "variants": results,
    }
    for r in results:
        for key in ("digits_mse", "noise_mse", "noise_to_digits_ratio", "noise_explained"):
            summary[f"{r['variant']}_{key}"] = r[key]
        summary[f"{r['variant']}_digits_explained"] = r["digits_explained"]
    return summary


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
