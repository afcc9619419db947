"""conv-autoencoder: the course's convolutional autoencoder with a 2-D code, with skip
connections and denoising as options (seed 001 Problem 6).

The architecture is the seed's exactly (``nnlab.models.autoencoders.ConvAutoencoder``):
conv 1→4 k3 s1 p1, ReLU, max-pool 2, conv 4→8 k3 s1 p1, ReLU, max-pool 2, linear 392→20,
ReLU, linear 20→2; then linear 2→20, ReLU, linear 20→392, ReLU, reshape 8×7×7, nearest
upsampling ×2, conv 8→4, ReLU, upsampling ×2, conv 4→1, sigmoid (16,859 parameters on MNIST;
the decoder's convolutions are k3 p1, the seed gives no size). Adam, lr 1e-3, mean squared
error on pixels in [0, 1].

- ``skip=true`` (6.2): each pooling stage's output is added to the decoder's tensor of the
  same shape before the matching upsampling, so the decoder can bypass the 2-D code.
- ``noise_std=0.3`` (6.3): inputs corrupted with ε ~ N(0, 0.3²) in training (fresh noise each
  batch) and evaluation (one seeded draw); ``test_mse`` compares the reconstruction with the
  clean image, ``test_mse_vs_input`` with the corrupted input the model saw.

The test codes are drawn coloured by class, with the kNN accuracy (k = 5, codes of the
training images as the reference set) and silhouette of the codes. The model is saved under
the seed's file name (``mnist_cae.pt``, ``mnist-cae-skip.pt``; denoising ``mnist-dcae.pt``,
``mnist-dcae-skip.pt``; other datasets replace ``mnist``) in ``checkpoints/``, loadable with
``torch.load(path, weights_only=True)`` and ``autoencoder_from_state``; the run reloads it
and recomputes the test MSE (``reloaded_test_mse``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment
from nnlab.training.settings import Precision, precision_setting

if TYPE_CHECKING:
    from nnlab.runs.run import Run

SHOWN = 16  # test images in the reconstruction figure


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    skip: bool = param(False, help="skip connections from each pooling to its upsampling")
    noise_std: float = param(
        0.0, low=0.0, high=10.0, help="denoising: σ of the Gaussian input noise (seed: 0.3)"
    )
    latent: int = param(2, low=1, high=1024, help="code size (the seed's 2)")
    epochs: int = param(10, low=1, high=10_000)
    batch_size: int = param(128, low=1, high=1_000_000)
    lr: float = param(1e-3, low=0.0, low_open=True, help="Adam learning rate")
    train_subset: int = param(0, low=0, high=10_000_000, help="training images used (0: all)")
    precision: Precision = precision_setting()


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"dataset": "digits", "epochs": 20, "batch_size": 32, "lr": 1e-2},
    "quick": {},  # 10 epochs: ~150 s on one core
    "full": {"epochs": 30},
}


def model_file(dataset: str, skip: bool, denoise: bool) -> str:
    """The seed's file name for the variant, without .pt (``mnist_cae``, ``mnist-cae-skip``)."""
    stem = "dcae" if denoise else "cae"
    return f"{dataset}-{stem}-skip" if skip else f"{dataset}{'-' if denoise else '_'}{stem}"


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.models.autoencoders import (
        ConvAutoencoder,
        autoencoder_from_state,
    )
    from nnlab.training.autoencoder import (
        autoencoder_tensors,
        codes_and_curves,
        evaluate_autoencoder,
        image_errors,
        reconstruct,
        train_one_autoencoder,
    )
    from nnlab.viz import mosaics_figure

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x_train, y_train, x_test, y_test = autoencoder_tensors(
        data, cfg.train_subset, run.device, channel=True
    )
    side = x_train.shape[-1]
    name = model_file(cfg.dataset, cfg.skip, cfg.noise_std > 0)

    model, path = train_one_autoencoder(
        run,
        name,
        lambda: ConvAutoencoder(side, cfg.latent, cfg.skip),
        x_train,
        x_test,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        noise_std=cfg.noise_std,
        precision=cfg.precision,
    )
    metrics, shown = evaluate_autoencoder(
        model, (x_train, y_train), (x_test, y_test), seed=run.seed, noise_std=cfg.noise_std
    )
    reloaded = autoencoder_from_state(torch.load(path, map_location="cpu", weights_only=True))
    again = reconstruct(reloaded.to(run.device), shown["inputs"].to(run.device))
    reloaded_mse = float(image_errors(again, x_test).mean())

    kind = " + ".join([k for k, on in (("skip", cfg.skip), ("denoising", cfg.noise_std)) if on])
    title = f"Conv autoencoder ({kind or 'plain'}, {cfg.latent}-D code) on {data.name}"
    originals = data.x_test[:SHOWN]
    sets = [originals]
    labels = ["test images"]
    if cfg.noise_std:
        sets.append(np.clip(shown["inputs"][:SHOWN, 0].numpy(), 0, 1))
        labels.append(f"corrupted, σ = {cfg.noise_std:g} (clipped for display)")
    sets.append(shown["reconstructions"][:SHOWN, 0].numpy())
    labels.append(f"reconstructions (MSE {metrics['test_mse']:.4f})")
    run.figure(
        "reconstructions",
        mosaics_figure(sets, labels, title, background=1.0),
        "The first 16 test images, "
        + ("their corrupted copies (the model's input), " if cfg.noise_std else "")
        + "and the reconstructions, pixel values 0..1 on one scale. test_mse is against the "
        "clean image"
        + (
            f"; against the corrupted input {metrics['test_mse_vs_input']:.4f}."
            if cfg.noise_std
            else "."
        ),
    )
    codes_and_curves(
        run, shown["codes"], y_test, metrics, data.class_names, title, bool(cfg.noise_std)
    )
    history = run.history()
    return {
        "dataset": cfg.dataset,
        "skip": cfg.skip,
        "noise_std": cfg.noise_std,
        "latent": cfg.latent,
        "epochs": cfg.epochs,
        "parameters": sum(p.numel() for p in model.parameters()),
        **metrics,
        "final_train_loss": history[-1]["train_loss"],
        "model_file": path.name,
        "reloaded_test_mse": reloaded_mse,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
