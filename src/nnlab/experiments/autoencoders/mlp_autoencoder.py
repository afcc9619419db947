"""mlp-autoencoder: a fully-connected autoencoder that embeds MNIST in two dimensions
(seed 001 Problem 5.4).

The seed's baseline: an encoder of four linear layers with ReLU between them compressing
784 → 256 → 128 → 64 → 2 (no non-linearity into or out of the code), a mirrored four-layer
decoder 2 → 64 → 128 → 256 → 784 with a sigmoid on the pixels, Adam with lr 1e-3, 10
epochs, mean squared error (``nnlab.models.autoencoders.MLPAutoencoder``). It shows
reconstructions beside the originals and the test set's 2-D codes coloured by label, with
their kNN accuracy (k = 5) and silhouette, and saves the model as ``mnist_ae.pt`` (other
datasets: ``<dataset>_ae.pt``) in ``checkpoints/``, loadable with
``torch.load(path, weights_only=True)`` and ``autoencoder_from_state``; the run reloads it and
recomputes the test MSE (``reloaded_test_mse``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment
from nnlab.training.settings import Precision, precision_setting

if TYPE_CHECKING:
    from nnlab.runs.run import Run

SHOWN = 16


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    hidden: tuple[int, ...] = param(
        (256, 128, 64), low=1, high=8192, help="encoder widths between the pixels and the code"
    )
    latent: int = param(2, low=1, high=1024, help="code size (the seed's 2)")
    epochs: int = param(10, low=1, high=10_000, help="the seed asks for at least 10")
    batch_size: int = param(128, low=1, high=1_000_000)
    lr: float = param(1e-3, low=0.0, low_open=True, help="Adam learning rate (the seed's)")
    train_subset: int = param(0, low=0, high=10_000_000, help="training images used (0: all)")
    precision: Precision = precision_setting()


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"dataset": "digits", "hidden": (64, 32, 16), "epochs": 30, "batch_size": 32},
    "quick": {},  # the seed's baseline: ~35 s on one core
    "full": {"hidden": (512, 256, 128), "epochs": 30},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import torch

    from nnlab.data import load_dataset
    from nnlab.models.autoencoders import MLPAutoencoder, autoencoder_from_state
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
    x_train, y_train, x_test, y_test = autoencoder_tensors(data, cfg.train_subset, run.device)
    pixels = x_train[0].numel()
    sizes = (pixels, *cfg.hidden, cfg.latent)
    name = f"{cfg.dataset}_ae"

    model, path = train_one_autoencoder(
        run,
        name,
        lambda: MLPAutoencoder(sizes),
        x_train,
        x_test,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        precision=cfg.precision,
    )
    metrics, shown = evaluate_autoencoder(
        model, (x_train, y_train), (x_test, y_test), seed=run.seed
    )
    reloaded = autoencoder_from_state(torch.load(path, map_location="cpu", weights_only=True))
    reloaded_mse = float(image_errors(reconstruct(reloaded.to(run.device), x_test), x_test).mean())

    arch = "-".join(str(s) for s in sizes)
    title = f"MLP autoencoder {arch} on {data.name}"
    run.figure(
        "reconstructions",
        mosaics_figure(
            [data.x_test[:SHOWN], shown["reconstructions"][:SHOWN].numpy()],
            ["test images", f"reconstructions (test MSE {metrics['test_mse']:.4f})"],
            title,
            background=1.0,
        ),
        "The first 16 test images (left) and their reconstructions through the "
        f"{cfg.latent}-D code (right), pixel values 0..1 on one scale.",
    )
    codes_and_curves(run, shown["codes"], y_test, metrics, data.class_names, title)
    return {
        "dataset": cfg.dataset,
        "architecture": arch,
        "latent": cfg.latent,
        "epochs": cfg.epochs,
        "parameters": sum(p.numel() for p in model.parameters()),
        "test_mse": metrics["test_mse"],
        "knn_accuracy": metrics["knn_accuracy"],
        "silhouette": metrics["silhouette"],
        "final_train_loss": run.history()[-1]["train_loss"],
        "model_file": path.name,
        "reloaded_test_mse": reloaded_mse,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
