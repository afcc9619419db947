"""flatness-interpolation: the loss on the line through a small-batch and a large-batch
minimum, and the loss surface around each (MLDS HW1 1-3 "flatness vs generalization" part 1;
Keskar et al. 2017; Li et al. 2018).

Two MLPs (BatchNorm after every hidden layer) start from the same initial weights and are
trained with Adam, one with batch 64 and lr 1e-3, the other with batch 1024 and lr 1e-2, as
the homework asks. With θ₁, θ₂ their flat parameter vectors, the cross-entropy and accuracy
of θ(α) = (1 − α)·θ₁ + α·θ₂ are measured for α in [alpha_low, alpha_high] on the training and
test sets. BatchNorm's running statistics are recomputed at every α from the training images
(`nnlab.dynamics.recompute_batchnorm`), not interpolated: the interpolated statistics of two
networks are not the statistics of the interpolated network's activations.

Around each minimum the training loss is drawn on the plane θ + a·d₁ + b·d₂, d₁, d₂ random
Gaussian directions normalised filter by filter to the model's own filters (Li et al. 2018;
biases and BatchNorm parameters not moved; the same random draws for both minima, so the two
panels differ only by the minima). `surface_rim_increase` is the mean loss on the grid's
outer ring minus the loss at the centre: the larger, the sharper.

The seed's student read a minimum at "α ≈ 0.1" and "overfitting away from the optimal blend"
off a log-scaled α axis; α runs linearly here, from −1 to 2, and the two models are the
points α = 0 and α = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    hidden: tuple[int, ...] = param((128, 64), low=1, high=8_192)
    batch_norm: bool = True
    small_batch: int = param(64, low=2, high=1_000_000)
    small_lr: float = param(1e-3, low=0.0, low_open=True, help="Adam lr with the small batch")
    large_batch: int = param(1024, low=2, high=1_000_000)
    large_lr: float = param(1e-2, low=0.0, low_open=True, help="Adam lr with the large batch")
    epochs: int = param(10, low=1, high=10_000)
    train_subset: int = param(10_000, low=0, high=10_000_000, help="training images (0: all)")
    alpha_low: float = param(-1.0, low=-100, high=100)
    alpha_high: float = param(2.0, low=-100, high=100)
    alpha_points: int = param(31, low=2, high=10_001, help="evenly spaced α, plus 0 and 1")
    surface_points: int = param(17, low=3, high=401, help="grid points per axis")
    surface_radius: float = param(1.0, low=0.0, low_open=True, help="grid half-width")
    surface_examples: int = param(2_000, low=2, high=10_000_000, help="training images used")
    workers: int = param(1, low=1, high=64, help="worker processes (the two trainings)")

    def check(self) -> None:
        if self.batch_norm and self.train_subset == 1:
            raise ConfigError("BatchNorm needs two or more training images: raise train_subset")
        if not self.alpha_low < self.alpha_high:
            raise ConfigError(
                f"the α range is empty: alpha_low ({self.alpha_low}) must be below alpha_high "
                f"({self.alpha_high})"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "hidden": (32, 16),
        "epochs": 10,
        "train_subset": 0,
        "alpha_points": 13,
        "surface_points": 7,
        "surface_examples": 500,
    },  # fmt: skip
    "quick": {},
    "full": {
        "train_subset": 0,
        "epochs": 20,
        "hidden": (512, 256),
        "alpha_points": 61,
        "surface_points": 31,
        "surface_examples": 10_000,
    },  # fmt: skip
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.dynamics import (
        evaluate_along,
        filter_normalised_direction,
        flat_parameters,
        interpolate,
        loss_surface,
        train_classifier,
        train_runs,
    )
    from nnlab.models import MLP
    from nnlab.training.tensors import flat_tensors
    from nnlab.viz import Line, LinePanel, line_panels
    from nnlab.viz.dynamics import loss_surface_figure

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x, y, x_test, y_test = flat_tensors(data, cfg.train_subset, run.device)
    common = dict(x=x, y=y, x_test=x_test, y_test=y_test, hidden=cfg.hidden, epochs=cfg.epochs,
                  seed=run.seed, batch_norm=cfg.batch_norm)  # fmt: skip
    names = {"small": f"batch{cfg.small_batch}", "large": f"batch{cfg.large_batch}"}
    if names["small"] == names["large"]:
        names = {k: f"{k}_{v}" for k, v in names.items()}
    tasks = {
        names["small"]: {**common, "batch_size": cfg.small_batch, "lr": cfg.small_lr},
        names["large"]: {**common, "batch_size": cfg.large_batch, "lr": cfg.large_lr},
    }
    results = train_runs(run, train_classifier, tasks, workers=cfg.workers, desc="two batches")

    model = MLP(x.shape[1], cfg.hidden, len(data.class_names), batch_norm=cfg.batch_norm)
    model = model.to(run.device)
    thetas = {}
    for key, name in names.items():
        model.load_state_dict(results[name]["state"])
        thetas[key] = flat_parameters(model)
    alphas = np.linspace(cfg.alpha_low, cfg.alpha_high, cfg.alpha_points)
    alphas = np.union1d(alphas, [a for a in (0.0, 1.0) if cfg.alpha_low <= a <= cfg.alpha_high])
    bn_data = x if cfg.batch_norm else None
    curve = evaluate_along(
        model,
        [interpolate(thetas["small"], thetas["large"], float(a)) for a in alphas],
        {"train": (x, y), "test": (x_test, y_test)},
        batchnorm_data=bn_data,
    )
    for i, a in enumerate(alphas):
        run.log(i, alpha=float(a), **{k: v[i] for k, v in curve.items()})

    xs, ys = x[: cfg.surface_examples], y[: cfg.surface_examples]
    coords = torch.linspace(-cfg.surface_radius, cfg.surface_radius, cfg.surface_points)
    surfaces, rim = {}, {}
    for key, name in names.items():
        model.load_state_dict(results[name]["state"])
        gen = torch.Generator().manual_seed(run.seed + 5)
        d1, d2 = (filter_normalised_direction(model, gen) for _ in range(2))
        grid = loss_surface(model, thetas[key], d1, d2, coords, xs, ys,
                            batchnorm_data=xs if cfg.batch_norm else None).numpy()  # fmt: skip
        ring = np.ones_like(grid, dtype=bool)
        ring[1:-1, 1:-1] = False
        surfaces[key], rim[key] = (
            grid,
            float(grid[ring].mean() - grid[grid.shape[0] // 2, grid.shape[1] // 2]),
        )

    describe = {k: f"batch {getattr(cfg, f'{k}_batch')}, lr {getattr(cfg, f'{k}_lr'):g}"
                for k in names}  # fmt: skip
    bn = "BatchNorm statistics recomputed at each α" if cfg.batch_norm else "no BatchNorm"
    shape = "-".join(str(v) for v in (x.shape[1], *cfg.hidden, len(data.class_names)))

    def lines(key: str, scale: float = 1.0) -> list[Line]:
        return [Line(alphas.tolist(), [scale * v for v in curve[f"{split}_{key}"]], split, style)
                for split, style in (("train", "-"), ("test", "--"))]  # fmt: skip

    run.figure(
        "interpolation",
        line_panels(
            [
                LinePanel(lines("loss"), "loss along θ(α)", "cross-entropy (nats, log)", log=True),
                LinePanel(
                    lines("accuracy", 100),
                    "accuracy along θ(α)",
                    "accuracy (%)",
                    reference=(100 / len(data.class_names), "chance"),
                ),
            ],  # fmt: skip
            title=f"{shape} MLP on {len(x):,} {data.name} images: θ(α) = (1−α)·θ₁ + α·θ₂ ({bn})",
            xlabel=f"α   (0: θ₁, {describe['small']};  1: θ₂, {describe['large']})",
        ),
        "Training (solid) and test (dashed) loss and accuracy on the line through the two "
        "trained models, extrapolated beyond both.",
    )
    run.figure(
        "loss_surface",
        loss_surface_figure(
            coords.numpy(),
            [(surfaces[k], f"around θ{'₁₂'[i]} ({describe[k]})") for i, k in enumerate(names)],
            title=f"Training loss on {len(xs):,} images around each minimum, filter-normalised "
            "directions (Li et al. 2018)",
            xlabel="a (step along d₁, in units of each filter's norm)",
            ylabel="b (step along d₂)",
        ),
        "Cross-entropy at θ + a·d₁ + b·d₂ around the small-batch (left) and large-batch "
        "(right) minimum, same colour scale; same random draws in both panels.",
    )
    i0, i1 = int(np.argmin(np.abs(alphas))), int(np.argmin(np.abs(alphas - 1)))
    between = (alphas >= 0) & (alphas <= 1)
    train = np.array(curve["train_loss"])
    end = {k: results[n]["train_loss"][-1] for k, n in names.items()}
    out: dict[str, Any] = {"dataset": cfg.dataset, "train_images": len(x),
                           "batchnorm_statistics": "recomputed at every point from the training "
                           "images" if cfg.batch_norm else "none (no BatchNorm)"}  # fmt: skip
    for key, name in names.items():
        r = results[name]
        for k in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
            out[f"{key}_batch_{k}"] = r[k][-1]
        out[f"{key}_batch_surface_center_loss"] = float(
            surfaces[key][len(coords) // 2][len(coords) // 2]
        )
        out[f"{key}_batch_surface_rim_increase"] = rim[key]
    out |= {
        "alphas": [round(float(a), 6) for a in alphas],
        **{k: [round(v, 6) for v in vals] for k, vals in curve.items()},
        "alpha_of_min_test_loss": float(alphas[int(np.argmin(curve["test_loss"]))]),
        "train_loss_barrier": float(train[between].max() - max(train[i0], train[i1])),
        # with BatchNorm: how much recomputed statistics move the endpoints' loss
        "endpoint_train_loss_change": max(
            abs(train[i0] - end["small"]), abs(train[i1] - end["large"])
        ),
        "rim_increase_large_over_small": rim["large"] / rim["small"] if rim["small"] else None,
    }  # fmt: skip
    return out


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
