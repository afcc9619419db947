"""image-folder: train a CNN on any directory of class sub-folders (seed 004 Q6.1.4, Q6.2).

`--set root=DIR` points at `DIR/<class>/<images>`. Images are resized to image_size x
image_size with Pillow, a stratified validation split (val_fraction of every class, seeded) is
held out, and training uses random horizontal flips and padded random crops. The summary has
the validation accuracy per class; the report the confusion matrix and learning curves.

Demo mode: with `demo=true` (the smoke preset and `nnlab tour` set it) and no root, a synthetic
3-class folder of circles, squares and triangles is drawn into the run directory and used.

`--set pretrained=resnet18` (or squeezenet1_1) fine-tunes an ImageNet torchvision model
instead of training the small CNN: it needs the optional `vision` extra
(`pip install 'nnlab[vision]'`) and the weights cached under TORCH_HOME (or a network).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import Pretrained, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment
from nnlab.training.settings import ClassifierTraining, check_kernels, default, fit_settings

if TYPE_CHECKING:
    from nnlab.runs.run import Run


@dataclass
class Config(ClassifierTraining):
    lr: float = default("lr", 3e-3)
    weight_decay: float = default("weight_decay", 5e-4)
    label_smoothing: float = default("label_smoothing", 0.0)
    batch_size: int = default("batch_size", 64)
    epochs: int = default("epochs", 15)
    root: str = param("", help="folder of class sub-folders (required unless demo=true)")
    demo: bool = param(False, help="no root: draw a synthetic circles/squares/triangles folder")
    image_size: int = param(
        32, low=8, high=1_024, help="images are resized to image_size x image_size"
    )
    val_fraction: float = param(0.2, low=0.0, high=0.9, help="held out from every class")
    augment: bool = param(True, help="random horizontal flips and padded random crops")
    crop_padding: int = param(4, low=0, high=64, help="zero padding before the random crop")
    pretrained: Literal["none", Pretrained] = "none"
    channels: tuple[int, ...] = param(
        (32, 64, 64), low=1, high=1_024, help="filters of each convolution"
    )
    kernels: tuple[int, ...] = param(
        (3, 3, 3), low=1, high=31, help="kernel size of each convolution"
    )
    hidden: tuple[int, ...] = param(
        (128,), low=1, high=8_192, help="fully-connected widths after the convs"
    )
    dropout: float = param(0.2, low=0.0, high=0.95)
    demo_per_class: int = param(40, low=2, high=10_000, help="images per class of the demo folder")

    def check(self) -> None:
        check_kernels(self.channels, self.kernels)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "demo": True,
        "channels": (16, 32),
        "kernels": (3, 3),
        "hidden": (32,),
        "epochs": 10,
        "batch_size": 16,
        "demo_per_class": 60,
    },
    "quick": {},
    "full": {
        "image_size": 64,
        "channels": (32, 64, 128, 128),
        "kernels": (3, 3, 3, 3),
        "epochs": 40,
    },
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data.augment import augment
    from nnlab.data.imagefolder import load_images, make_shapes_folder, scan, stratified_split
    from nnlab.models import CNN
    from nnlab.models.pretrained import (
        imagenet_normalize,
        pretrained_classifier,
        require_torchvision,
    )
    from nnlab.training.classifier import evaluate, fit_classifier
    from nnlab.viz import (
        confusion_matrix,
        confusion_matrix_figure,
        image_grid,
        learning_curves,
        most_confused_pairs,
        per_class_accuracy,
    )

    if cfg.pretrained != "none":  # fail before reading any images when torchvision is missing
        require_torchvision(f"pretrained={cfg.pretrained}")
    root = cfg.root
    if not root:
        if not cfg.demo:
            raise ConfigError(
                "image-folder needs a folder of class sub-folders: pass --set root=DIR "
                "(or --set demo=true for a synthetic shapes folder)"
            )
        root = str(
            make_shapes_folder(run.dir / "demo_shapes", per_class=cfg.demo_per_class, seed=run.seed)
        )
    folder = scan(root, min_classes=2)
    names = folder.class_names
    train_idx, val_idx = stratified_split(folder.labels, cfg.val_fraction, run.seed)
    if len(val_idx) == 0:
        raise ConfigError(
            "the validation split is empty: raise val_fraction or add images to every class"
        )

    bar = run.bar(total=len(folder.paths), desc="loading images", unit="img")
    images = load_images(folder.paths, cfg.image_size, progress=bar)
    bar.close()
    labels = torch.as_tensor(folder.labels)
    if cfg.pretrained != "none":
        x = imagenet_normalize(images)
    else:
        mean = images[train_idx].mean(dim=(0, 2, 3), keepdim=True)
        std = images[train_idx].std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-3)
        x = (images - mean) / std
    device = run.device
    x = x.to(device)
    y = labels.to(device)
    tr, va = torch.as_tensor(train_idx), torch.as_tensor(val_idx)
    x_train, y_train, x_val, y_val = x[tr], y[tr], x[va], y[va]

    if cfg.pretrained != "none":
        model = pretrained_classifier(cfg.pretrained, len(names))
    else:
        model = CNN(
            x_train.shape[1:],
            len(names),
            cfg.channels,
            cfg.kernels,
            cfg.hidden,
            cfg.dropout,
            batchnorm=True,
        )
    model = model.to(device)
    augmenter = torch.Generator().manual_seed(run.seed + 1)
    fit_classifier(
        run,
        model,
        (x_train, y_train),
        (x_val, y_val),
        **fit_settings(cfg),
        transform=(
            (lambda x: augment(x, augmenter, flip=True, pad=cfg.crop_padding))
            if cfg.augment
            else None
        ),
        generators={"augmenter": augmenter},
        eval_name="val",
        eval_batch_size=256,
        desc=f"image-folder {cfg.pretrained if cfg.pretrained != 'none' else 'CNN'}",
    )

    val_loss, val_acc, predicted = evaluate(model, x_val, y_val, batch_size=256)
    truth = y_val.cpu().numpy()
    cm = confusion_matrix(truth, predicted.numpy(), len(names))
    history = run.history()
    title = f"{cfg.pretrained if cfg.pretrained != 'none' else 'CNN'} on {folder.root.name}"
    run.figure(
        "learning_curves",
        learning_curves(history, title=title, xlabel="epoch"),
        "Training (augmented) and validation cross-entropy and accuracy per epoch.",
    )
    run.figure(
        "confusion_matrix",
        confusion_matrix_figure(cm, list(names), title=f"{title} (validation)"),
        "Validation confusion matrix: counts (left) and row-normalised recall (right); "
        "the diagonal of the right panel is the per-class accuracy.",
    )
    shown = train_idx[:: max(1, len(train_idx) // 16)][:16]
    if cfg.augment:
        sample = augment(
            images[torch.as_tensor(shown)], torch.Generator().manual_seed(0), True, cfg.crop_padding
        )
    else:
        sample = images[torch.as_tensor(shown)]
    run.figure(
        "training_samples",
        image_grid(
            sample.permute(0, 2, 3, 1).numpy(),
            ncols=8,
            titles=[names[folder.labels[i]] for i in shown],
            title=f"Training images at {cfg.image_size}x{cfg.image_size}"
            + (" with flips and crops" if cfg.augment else ""),
            normalize=None,
        ),
        "A sample of resized training images as the network sees them (before normalisation).",
    )

    last = history[-1] if history else {}
    counts = np.bincount(folder.labels, minlength=len(names))
    return {
        "root": str(folder.root),
        "demo": not cfg.root,
        "pretrained": cfg.pretrained,
        "val_accuracy": val_acc,
        "val_loss": val_loss,
        "train_accuracy": last.get("train_accuracy"),
        "train_loss": last.get("train_loss"),
        "epochs": cfg.epochs,
        "images": len(folder.paths),
        "train_images": len(train_idx),
        "val_images": len(val_idx),
        "images_per_class": {n: int(c) for n, c in zip(names, counts, strict=True)},
        "parameters": sum(p.numel() for p in model.parameters()),
        "class_names": list(names),
        "confusion_matrix": cm.tolist(),
        "per_class_accuracy": per_class_accuracy(cm, names),
        "most_confused": most_confused_pairs(cm, list(names), k=3),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
