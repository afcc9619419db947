"""colourisation: a convolutional autoencoder that colours grey patches of photographs (seed
003's "coloring images", the merge model in YCbCr).

The data are scikit-image's four colour photographs (``nnlab.data.natural_images.
COLOUR_IMAGE_NAMES``: a cat, a rocket among trees, a cup of coffee, an astronaut; no
download). Training patches (``patch``² pixels) come from the left 1 − ``test_fraction`` of
each photograph, test patches from the right ``test_fraction``: no test pixel was seen in
training (``colour_patches``, drawn with ``data_seed``).

Each RGB patch is split into luminance Y = 0.299 R + 0.587 G + 0.114 B (the grey image) and
chroma (Cb, Cr) (``nnlab.numerics.imaging.rgb_to_ycbcr``, ITU-R BT.601). The network
(``nnlab.models.autoencoders.ConvEncoderDecoder``, 1 channel in, 2 out, linear output) reads Y
and predicts the chroma, trained with Adam on its squared error (``fit_autoencoders`` with
``colouring_pair``); the colour image is Y with the predicted chroma, back in RGB, clipped to
[0, 1]. Measured on the test patches, against two colourings that need no training: ``grey``
(chroma 0: the luminance copied to R, G and B) and ``mean_chroma`` (every pixel the training
patches' mean Cb and Cr, a uniform tint). Reported: the chroma squared error and the RGB
squared error of each, and the model's chroma error divided by the better baseline's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment
from nnlab.training.settings import Precision, precision_setting

if TYPE_CHECKING:
    from nnlab.runs.run import Run

SHOWN = 8  # test patches in the figure


@dataclass
class Config(ExperimentConfig):
    patch: int = param(32, low=4, high=256, help="side of the square patches (pixels)")
    train_patches: int = param(6000, low=1, high=10_000_000, help="training patches drawn")
    test_patches: int = param(1000, low=1, high=10_000_000, help="test patches drawn")
    test_fraction: float = param(
        0.25, low=0.0, low_open=True, high=0.5, help="right part of each photo kept for testing"
    )
    channels: tuple[int, ...] = param(
        (16, 32), low=1, high=1024, help="conv widths, one per halving of the side"
    )
    epochs: int = param(8, low=1, high=10_000)
    batch_size: int = param(64, low=1, high=1_000_000)
    lr: float = param(2e-3, low=0.0, low_open=True, help="Adam learning rate")
    data_seed: int = param(0, low=0, high=2**31 - 1, help="seed of the patches drawn")
    precision: Precision = precision_setting()

    def check(self) -> None:
        if self.patch % 2 ** len(self.channels):
            raise ConfigError(
                f"setting 'patch' must be a multiple of {2 ** len(self.channels)} for "
                f"{len(self.channels)} halvings, got {self.patch}"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"patch": 16, "train_patches": 1500, "test_patches": 300, "epochs": 10},
    "quick": {},
    "full": {"train_patches": 40000, "epochs": 20, "channels": (32, 64)},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data.natural_images import (
        COLOUR_IMAGE_NAMES,
        colour_patches,
        column_part,
        load_colour_images,
    )
    from nnlab.models.autoencoders import ConvEncoderDecoder, autoencoder_from_state
    from nnlab.numerics.imaging import ycbcr_to_rgb
    from nnlab.training.autoencoder import (
        colouring_pair,
        fit_autoencoders,
        image_errors,
        reconstruct,
    )
    from nnlab.viz import image_grid, learning_curves

    photos = load_colour_images()
    draw = np.random.default_rng(cfg.data_seed)
    x_train, x_test = (
        torch.as_tensor(
            colour_patches(photos, cfg.patch, n, part, cfg.test_fraction, draw), device=run.device
        )
        for n, part in ((cfg.train_patches, "train"), (cfg.test_patches, "test"))
    )
    (state,) = fit_autoencoders(
        run,
        ["colour"],
        lambda _: ConvEncoderDecoder(1, 2, cfg.channels, output=None),
        x_train,
        x_test,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        pair={"colour": colouring_pair},
        desc="colourisation",
        keyed=False,
        precision=cfg.precision,
    )
    path = run.save_model("colourise", state)
    model = autoencoder_from_state(state).to(run.device)

    grey, chroma = colouring_pair(x_test)
    train_chroma = colouring_pair(x_train)[1]
    predictions = {
        "model": reconstruct(model, grey),
        "grey": torch.zeros_like(chroma),
        "mean_chroma": train_chroma.mean(dim=(0, 2, 3), keepdim=True).expand_as(chroma),
    }

    def to_rgb(y: torch.Tensor, cbcr: torch.Tensor) -> torch.Tensor:
        return ycbcr_to_rgb(torch.cat([y, cbcr], dim=1), channel_dim=1).clamp(0.0, 1.0)

    coloured = {k: to_rgb(grey, v) for k, v in predictions.items()}
    chroma_mse = {k: float(image_errors(v, chroma).mean()) for k, v in predictions.items()}
    rgb_mse = {k: float(image_errors(v, x_test).mean()) for k, v in coloured.items()}
    best = min(("grey", "mean_chroma"), key=chroma_mse.__getitem__)

    def hwc(images: torch.Tensor) -> np.ndarray:
        return images.permute(0, 2, 3, 1).cpu().numpy()

    columns = [
        (hwc(coloured["grey"]), "grey input (Y)"),
        (hwc(coloured[best]), f"{best}"),
        (hwc(coloured["model"]), "network"),
        (hwc(x_test), "truth"),
    ]
    tiles, titles = [], []
    for i in range(min(SHOWN, len(x_test))):
        for images, label in columns:
            tiles.append(images[i])
            titles.append(label if i == 0 else "")
    run.figure(
        "patches",
        image_grid(
            np.stack(tiles),
            ncols=len(columns),
            titles=titles,
            title=f"Colouring grey {cfg.patch}×{cfg.patch} test patches: chroma MSE "
            f"{chroma_mse['model']:.5f} vs {chroma_mse[best]:.5f} ({best})",
            normalize=None,
        ),
        "Each row a test patch from the photographs' held-out right parts: the grey input, "
        "the better baseline, the network's colouring (its chroma on the input's luminance) "
        "and the true colours.",
    )

    # whole held-out strips, one per photograph, cut to one size the network can halve
    factor = 2 ** len(cfg.channels)
    strips = [column_part(p, cfg.test_fraction) for p in photos]
    h = min(s.shape[0] for s in strips) // factor * factor
    w = min(s.shape[1] for s in strips) // factor * factor
    truth = torch.as_tensor(
        np.stack([s[(s.shape[0] - h) // 2 :][:h, :w] for s in strips]).transpose(0, 3, 1, 2),
        device=run.device,
    )
    strip_grey = colouring_pair(truth)[0]
    strip_coloured = to_rgb(strip_grey, reconstruct(model, strip_grey))
    strip_mse = float(image_errors(strip_coloured, truth).mean())
    strip_grey_mse = float(image_errors(strip_grey.expand_as(truth), truth).mean())
    rows, row_titles = [], []
    for k, name in enumerate(COLOUR_IMAGE_NAMES):
        for images, label in (
            (strip_grey.expand_as(truth), "grey"),
            (strip_coloured, "network"),
            (truth, "truth"),
        ):
            rows.append(hwc(images[k : k + 1])[0])
            row_titles.append(f"{name}: {label}")
    run.figure(
        "photographs",
        image_grid(
            np.stack(rows),
            ncols=6,
            titles=row_titles,
            title=f"The held-out right {cfg.test_fraction:.0%} of each photograph "
            f"({h}×{w}), coloured whole: RGB MSE {strip_mse:.4f} vs grey {strip_grey_mse:.4f}",
            normalize=None,
        ),
        "Each photograph's held-out strip (never seen in training) as grey, coloured by the "
        "network (which is convolutional, so it colours any size) and true.",
    )
    run.figure(
        "learning_curves",
        learning_curves(
            run.history(),
            groups={"chroma squared error": ["train_loss", "test_loss"]},
            title="Colourisation network",
            xlabel="epoch",
        ),
        "Squared error of the predicted (Cb, Cr) per pixel and channel, per epoch.",
    )
    return {
        "images": list(COLOUR_IMAGE_NAMES),
        "patch": cfg.patch,
        "train_patches": cfg.train_patches,
        "test_patches": cfg.test_patches,
        "epochs": cfg.epochs,
        "parameters": sum(p.numel() for p in model.parameters()),
        "model_chroma_mse": chroma_mse["model"],
        "grey_chroma_mse": chroma_mse["grey"],
        "mean_chroma_chroma_mse": chroma_mse["mean_chroma"],
        "model_rgb_mse": rgb_mse["model"],
        "grey_rgb_mse": rgb_mse["grey"],
        "mean_chroma_rgb_mse": rgb_mse["mean_chroma"],
        "best_baseline": best,
        "chroma_mse_ratio": chroma_mse["model"] / chroma_mse[best],
        "strip_rgb_mse": strip_mse,
        "strip_grey_rgb_mse": strip_grey_mse,
        "model_file": path.name,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
