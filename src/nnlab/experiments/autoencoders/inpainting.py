"""inpainting: a convolutional autoencoder that fills square holes in digits (seed 003's
"removing obstacles in images").

Each training image gets a random square hole, its side drawn from ``hole_min``..``hole_max``
pixels and its place uniformly inside the image (``nnlab.training.autoencoder.square_masks``).
The network (``nnlab.models.autoencoders.ConvEncoderDecoder``: per width in ``channels`` a conv
and a stride-2 conv, then as many upsamplings and convs back; no skip connections; a linear
output, as a sigmoid there saturated at 0 on MNIST's black background within the first epoch
and stopped learning) reads two channels, the image with the hole set to 0 and the hole's
mask, and is trained with Adam on the squared error over the whole image against the intact one
(``fit_autoencoders`` with ``inpainting_pair``). A fresh hole is drawn for every training image
in every epoch; the test images get one fixed draw.

Measured only INSIDE the holes of the test images (``hole_errors``), where the network must
invent pixels it cannot see, against two fills that need no training: the mean training image
(``mean_image``) and each image's own mean over its visible pixels (``image_mean``). The margin
is the model's error divided by the better of the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment
from nnlab.training.settings import Precision, precision_setting

if TYPE_CHECKING:
    from nnlab.runs.run import Run

SHOWN = 8  # test digits in the figure


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    hole_min: int = param(8, low=1, high=1024, help="smallest side of the square hole (pixels)")
    hole_max: int = param(12, low=1, high=1024, help="largest side of the square hole (pixels)")
    channels: tuple[int, ...] = param(
        (16, 32), low=1, high=1024, help="conv widths, one per halving of the side"
    )
    epochs: int = param(5, low=1, high=10_000)
    batch_size: int = param(64, low=1, high=1_000_000)
    lr: float = param(2e-3, low=0.0, low_open=True, help="Adam learning rate")
    train_subset: int = param(0, low=0, high=10_000_000, help="training images used (0: all)")
    precision: Precision = precision_setting()

    def check(self) -> None:
        if self.hole_min > self.hole_max:
            raise ConfigError(
                f"setting 'hole_min' ({self.hole_min}) must not exceed 'hole_max' ({self.hole_max})"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "hole_min": 3,
        "hole_max": 4,
        "channels": (16, 32),
        "epochs": 40,
        "batch_size": 32,
    },
    "quick": {"train_subset": 12000},
    "full": {"epochs": 20, "channels": (32, 64)},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.models.autoencoders import ConvEncoderDecoder, autoencoder_from_state
    from nnlab.training.autoencoder import (
        autoencoder_tensors,
        fit_autoencoders,
        hole_errors,
        inpainting_pair,
        reconstruct,
    )
    from nnlab.viz import image_grid, learning_curves

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x_train, _, x_test, _ = autoencoder_tensors(data, cfg.train_subset, run.device, channel=True)
    side = x_train.shape[-1]
    if cfg.hole_max >= side:
        raise ConfigError(f"setting 'hole_max' must be below the {side}-pixel image side")
    if side % 2 ** len(cfg.channels):
        raise ConfigError(
            f"{len(cfg.channels)} halvings need an image side that is a multiple of "
            f"{2 ** len(cfg.channels)}; {data.name} is {side} pixels: use fewer 'channels'"
        )
    pair = inpainting_pair(cfg.hole_min, cfg.hole_max)
    (state,) = fit_autoencoders(
        run,
        ["inpaint"],
        lambda _: ConvEncoderDecoder(2, 1, cfg.channels, output=None),
        x_train,
        x_test,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        pair={"inpaint": pair},
        desc="inpainting",
        keyed=False,
        precision=cfg.precision,
    )
    path = run.save_model(f"{cfg.dataset}-inpaint", state)
    model = autoencoder_from_state(state).to(run.device)

    # the test images' holes: the draw fit_autoencoder evaluated on every epoch
    inputs, _ = pair(x_test, torch.Generator().manual_seed(run.seed + 2))
    masks = inputs[:, 1:]
    filled = reconstruct(model, inputs)
    fills = {
        "model": filled,
        "mean_image": x_train.mean(dim=0, keepdim=True).expand_as(x_test),
        "image_mean": (
            (inputs[:, :1].flatten(1).sum(1) / (1 - masks).flatten(1).sum(1))[:, None, None, None]
        ).expand_as(x_test),
    }
    errors = {k: hole_errors(v, x_test, masks) for k, v in fills.items()}
    hole = {k: float(e.mean()) for k, e in errors.items()}
    outside = float(hole_errors(filled, x_test, 1 - masks).mean())
    best_baseline = min(("mean_image", "image_mean"), key=hole.__getitem__)
    wins = float((errors["model"] < errors[best_baseline]).double().mean())

    def rgb(images: torch.Tensor) -> np.ndarray:
        return np.repeat(images[:SHOWN, 0, :, :, None].cpu().numpy(), 3, axis=-1)

    shown_masks = masks[:SHOWN, 0, :, :, None].cpu().numpy()
    holed = rgb(inputs[:, :1]) * (1 - shown_masks) + shown_masks * np.array([0.8, 0.1, 0.1])
    columns = [
        (holed, "input (hole in red)"),
        (rgb(fills[best_baseline]) * shown_masks + rgb(inputs[:, :1]), f"{best_baseline} fill"),
        (rgb(filled), "network output"),
        (rgb(filled) * shown_masks + rgb(inputs[:, :1]), "output pasted in the hole"),
        (rgb(x_test), "truth"),
    ]
    tiles, titles = [], []
    for i in range(SHOWN):
        for images, label in columns:
            tiles.append(np.clip(images[i], 0.0, 1.0))
            titles.append(label if i == 0 else "")
    run.figure(
        "inpainting",
        image_grid(
            np.stack(tiles),
            ncols=len(columns),
            titles=titles,
            title=f"Filling {cfg.hole_min}-{cfg.hole_max} px holes in {data.name} test images: "
            f"hole MSE {hole['model']:.4f} vs {hole[best_baseline]:.4f} ({best_baseline})",
            normalize=None,
        ),
        "Each row a test image: its input with the hole in red, the hole filled by the better "
        "baseline, the network's whole output, that output pasted into the hole only, and the "
        "intact image (pixel values 0..1, the output clipped for display).",
    )
    run.figure(
        "learning_curves",
        learning_curves(
            run.history(),
            groups={"mean squared error per pixel": ["train_loss", "test_loss"]},
            title=f"Inpainting network on {data.name}",
            xlabel="epoch",
        ),
        "Squared error over the whole image (holed inputs, intact targets) per epoch.",
    )
    return {
        "dataset": cfg.dataset,
        "hole_min": cfg.hole_min,
        "hole_max": cfg.hole_max,
        "epochs": cfg.epochs,
        "parameters": sum(p.numel() for p in model.parameters()),
        "model_hole_mse": hole["model"],
        "mean_image_hole_mse": hole["mean_image"],
        "image_mean_hole_mse": hole["image_mean"],
        "best_baseline": best_baseline,
        "hole_mse_ratio": hole["model"] / hole[best_baseline],
        "images_better_than_baseline": wins,
        "model_outside_mse": outside,
        "model_file": path.name,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
