"""corruption-2d: a corruption process on a 2-D data set, and the denoiser that undoes it
(seed 001 Problem 5.2).

Data: ``n`` points on a curve (``curve``: y = x² for x in [-1, 1] by default; a sine or the
unit circle). Corruption C(x̃ | x), written out in the report:

- ``gaussian`` (default): x̃ = x + ε, ε ~ N(0, σ²I), so C(x̃ | x) = N(x̃; x, σ²I);
- ``mask``: each coordinate set to 0 with probability p (then the Gaussian noise, if σ > 0).

A small denoising autoencoder (2 → 64 → 64 (code) → 64 → 2, tanh; ``MLPAutoencoder``)
learns r(x̃) ≈ x from fresh corruptions every epoch. Its vector field r(x̃) − x̃ on a grid
points back to the curve (for Gaussian noise it estimates σ² ∇ log p(x̃), Alain & Bengio
2014). Measured on a fresh test set: the mean Euclidean distance of the corrupted points to
the curve, and of their reconstructions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run

CURVES = {
    "parabola": "y = x², x in [-1, 1]",
    "sine": "y = sin(πx) / 2, x in [-1, 1]",
    "circle": "x² + y² = 1",
}


@dataclass
class Config(ExperimentConfig):
    curve: Literal["parabola", "sine", "circle"] = "parabola"
    corruption: Literal["gaussian", "mask"] = "gaussian"
    noise_std: float = param(0.1, low=0.0, high=10.0, help="σ of the additive Gaussian noise")
    mask: float = param(
        0.5, low=0.0, high=1.0, help="masking: probability that a coordinate is set to 0"
    )
    n: int = param(2000, low=10, high=1_000_000, help="points on the curve (training set)")
    hidden: int = param(64, low=1, high=4096, help="width of the denoiser's hidden layers")
    epochs: int = param(300, low=1, high=100_000)
    batch_size: int = param(64, low=1, high=1_000_000)
    lr: float = param(3e-3, low=0.0, low_open=True, help="Adam learning rate (cosine decay)")
    grid: int = param(21, low=3, high=200, help="arrows per side of the vector field")

    def check(self) -> None:
        if self.corruption == "gaussian" and self.noise_std == 0:
            raise ConfigError(
                "setting 'noise_std' must be > 0 for corruption=gaussian (nothing to denoise)"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"n": 1000, "batch_size": 32, "epochs": 60, "lr": 1e-2},
    "quick": {},
    "full": {"n": 10_000, "epochs": 500, "batch_size": 128},
}


def curve_points(curve: str, t: np.ndarray) -> np.ndarray:
    """Points (len(t), 2) of the curve at parameters t in [-1, 1]."""
    import numpy as np

    if curve == "parabola":
        return np.column_stack([t, t**2])
    if curve == "sine":
        return np.column_stack([t, np.sin(np.pi * t) / 2])
    return np.column_stack([np.cos(np.pi * t), np.sin(np.pi * t)])


def distance_to_curve(points: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """Euclidean distance of each point to the nearest of the ``dense`` curve points."""
    import numpy as np

    d2 = (points**2).sum(1)[:, None] - 2 * points @ dense.T + (dense**2).sum(1)[None, :]
    return np.sqrt(np.maximum(d2.min(axis=1), 0.0))


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.models.autoencoders import MLPAutoencoder
    from nnlab.training.autoencoder import corrupt, fit_autoencoder, reconstruct
    from nnlab.viz import denoising_field, learning_curves

    rng = np.random.default_rng([run.seed, 0])
    clean = curve_points(cfg.curve, rng.uniform(-1, 1, cfg.n)).astype(np.float32)
    test = curve_points(cfg.curve, rng.uniform(-1, 1, 1000)).astype(np.float32)
    # the curve, extended past its ends so the nearest point of a point beyond them is right
    dense = curve_points(cfg.curve, np.linspace(-1.5, 1.5, 6001))
    if cfg.curve == "circle":
        dense = curve_points(cfg.curve, np.linspace(-1, 1, 6001))
    std = cfg.noise_std if cfg.corruption == "gaussian" else 0.0
    mask = cfg.mask if cfg.corruption == "mask" else 0.0
    if cfg.corruption == "gaussian":
        formula = f"x̃ = x + ε, ε ~ N(0, σ²I), σ = {std:g}: C(x̃ | x) = N(x̃; x, σ²I)"
    else:
        formula = (
            f"x̃ᵢ = mᵢ xᵢ, mᵢ ~ Bernoulli(1 − p), p = {mask:g}: C(x̃ | x) puts mass "
            f"(1 − p)² on x, p(1 − p) on each of (x₁, 0) and (0, x₂), p² on (0, 0)"
        )

    x_train, x_test = torch.from_numpy(clean), torch.from_numpy(test)
    model = MLPAutoencoder((2, cfg.hidden, cfg.hidden), "tanh", output=None)
    bar = run.bar(total=cfg.epochs, desc=f"denoiser on {cfg.curve}", unit="epoch")
    fit_autoencoder(
        model,
        x_train,
        x_test,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        schedule="cosine",
        seed=run.seed,
        noise_std=std,
        mask=mask,
        on_epoch=lambda epoch, m: (run.log(epoch, **m), bar.update(1)),
    )
    bar.close()

    corrupted = corrupt(x_test, std, torch.Generator().manual_seed(run.seed + 3), mask)
    denoised = reconstruct(model, corrupted).numpy()
    corrupted = corrupted.numpy()
    before = distance_to_curve(corrupted.astype(np.float64), dense)
    after = distance_to_curve(denoised.astype(np.float64), dense)
    lo = np.minimum(corrupted.min(0), test.min(0)) - 0.1
    hi = np.maximum(corrupted.max(0), test.max(0)) + 0.1
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], cfg.grid), np.linspace(lo[1], hi[1], cfg.grid))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    arrows = reconstruct(model, torch.from_numpy(grid)).numpy() - grid

    run.figure(
        "denoising_field",
        denoising_field(
            test,
            corrupted,
            grid,
            arrows,
            curve_points(cfg.curve, np.linspace(-1, 1, 400)),
            title=f"Corruption of {CURVES[cfg.curve]} and the denoiser's field",
            corruption=cfg.corruption if not std else f"σ = {std:g}",
        ),
        f"Left: 1000 clean test points (blue) on {CURVES[cfg.curve]} and their corruption "
        f"(red), {formula}. Right: the trained denoiser's r(x̃) − x̃ at every grid point "
        f"(arrows drawn to scale, coloured by length) over the curve. Mean distance to the "
        f"curve: corrupted {before.mean():.4f}, denoised {after.mean():.4f}.",
    )
    run.figure(
        "learning_curves",
        learning_curves(
            run.history(),
            groups={"squared error per coordinate": ["train_loss", "test_loss"]},
            title="Denoising autoencoder: reconstruction of the clean points",
            xlabel="epoch",
        ),
        "Mean squared error between r(x̃) and the clean x, per coordinate: training (fresh "
        "corruption every epoch) and test (one fixed corruption).",
    )
    last = run.history()[-1]
    return {
        "curve": CURVES[cfg.curve],
        "corruption": cfg.corruption,
        "corruption_formula": formula,
        "noise_std": std,
        "mask": mask,
        "mean_distance_corrupted": float(before.mean()),
        "mean_distance_denoised": float(after.mean()),
        "distance_reduction": float(1 - after.mean() / before.mean()),
        "median_distance_corrupted": float(np.median(before)),
        "median_distance_denoised": float(np.median(after)),
        "train_loss": last["train_loss"],
        "test_loss": last["test_loss"],
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
