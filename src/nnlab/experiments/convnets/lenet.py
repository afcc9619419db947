"""lenet: the Q3 fully-connected network against a LeNet-style CNN on the same data (seed 004
Q6.1.2).

The fully-connected network is seed 004's Q3 network (`nnlab.models.q3_network`: inputs -> 64
sigmoid units -> classes, 1024-64-36 on chars36, started from the NumPy engine's Xavier-uniform
weights; `q3-torch` trains it alone with Q3's own SGD settings). Both networks see the same
images in the same batch order, for the same epochs, with the same optimizer, learning rate,
schedule and batch size. The CNN is conv-pool-conv-pool-fc-fc-fc (LeNet-5's 6 and 16 filters
of 5x5 and 120-84 dense layers, with "same" padding; relu or tanh). Per epoch both are
evaluated on the validation split (chars36 has one; elsewhere the test split stands in); the
train/validation loss and accuracy curves of both share one figure, and the summary gives each
network's validation and test accuracy and parameter count. The seed compared validation
accuracy: 77.4% (FC) against 84.5% (CNN) on its NIST36.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import param
from nnlab.experiments import Experiment
from nnlab.training.settings import ClassifierTraining, check_kernels, default, fit_settings

if TYPE_CHECKING:
    from nnlab.runs.run import Run

NETWORKS = ("fc", "cnn")


@dataclass
class Config(ClassifierTraining):
    label_smoothing: float = default("label_smoothing", 0.0)
    epochs: int = default("epochs", 8)
    dataset: Literal["chars36", "digits", "mnist", "fashion-mnist", "kmnist", "cifar10"] = "chars36"
    fc_hidden: int = param(
        64, low=1, high=8_192, help="sigmoid units of the fully-connected (Q3) network"
    )
    channels: tuple[int, ...] = param(
        (6, 16), low=1, high=1_024, help="filters of each CNN convolution"
    )
    kernels: tuple[int, ...] = param((5, 5), low=1, high=31, help="kernel size of each convolution")
    cnn_hidden: tuple[int, ...] = param(
        (120, 84), low=1, high=8_192, help="dense widths of the CNN after its convolutions"
    )
    activation: Literal["relu", "tanh"] = "relu"
    train_subset: int = param(
        0, low=0, high=10_000_000, help="use only this many training images (0: all)"
    )
    threads: int = param(
        1, low=0, high=256, help="torch CPU threads while training (0: torch's default)"
    )

    def check(self) -> None:
        check_kernels(self.channels, self.kernels)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "fc_hidden": 64,
        "channels": (8, 16),
        "kernels": (3, 3),
        "cnn_hidden": (64, 32),
        "epochs": 6,
        "batch_size": 64,
        "lr": 1e-2,
    },
    "quick": {},
    "full": {"epochs": 30},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.data import load_dataset
    from nnlab.models import CNN, q3_network
    from nnlab.numerics.convshape import shape_table
    from nnlab.training.classifier import evaluate, fit_classifiers
    from nnlab.training.tensors import image_tensors
    from nnlab.training.threads import torch_threads
    from nnlab.viz import learning_curves, text_figure, text_table

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    device = run.device
    tensors = image_tensors(data, cfg.train_subset, device)
    val = "val" if "val" in tensors else "test"  # chars36 has a validation split
    (x_train, y_train), (x_val, y_val) = tensors["train"], tensors[val]
    x_test, y_test = tensors["test"]
    shape, n_classes = tuple(x_train.shape[1:]), len(data.class_names)

    cnn = CNN(
        shape,
        n_classes,
        cfg.channels,
        cfg.kernels,
        cfg.cnn_hidden,
        dropout=0.0,
        batchnorm=False,
        activation_name=cfg.activation,
    )
    # the Q3 network (sigmoid hidden layer) takes the same (C, H, W) images, flattened
    fc = q3_network(int(np.prod(shape)), cfg.fc_hidden, n_classes, run.seed)
    models = {"fc": fc.to(device), "cnn": cnn.to(device)}

    with torch_threads(cfg.threads):
        fit_classifiers(
            run,
            models,
            (x_train, y_train),
            (x_val, y_val),
            **fit_settings(cfg),
            eval_name=val,
            desc=f"{cfg.dataset} FC vs CNN",
        )
        test = {name: evaluate(models[name], x_test, y_test)[:2] for name in NETWORKS}

    history = run.history()
    last = history[-1]
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}
    arch = {
        "fc": f"{int(np.prod(shape))} - {cfg.fc_hidden} sigmoid - {n_classes}",
        "cnn": " - ".join(
            [
                *(
                    f"conv{k}x{k}:{c} - pool2"
                    for c, k in zip(cfg.channels, cfg.kernels, strict=True)
                ),
                *(f"fc{w}" for w in (*cfg.cnn_hidden, n_classes)),
            ]
        ),
    }
    results = {
        name: {
            "architecture": arch[name],
            "parameters": params[name],
            "train_loss": last[f"{name}_train_loss"],
            "train_accuracy": last[f"{name}_train_accuracy"],
            f"{val}_loss": last[f"{name}_{val}_loss"],
            f"{val}_accuracy": last[f"{name}_{val}_accuracy"],
            "test_loss": test[name][0],
            "test_accuracy": test[name][1],
        }
        for name in NETWORKS
    }
    split = "validation" if val == "val" else "test"
    run.figure(
        "learning_curves",
        learning_curves(
            history,
            groups={
                "loss (cross-entropy)": [f"{n}_{s}_loss" for n in NETWORKS for s in ("train", val)],
                "accuracy": [f"{n}_{s}_accuracy" for n in NETWORKS for s in ("train", val)],
            },
            title=f"Q3 fully-connected network (sigmoid) vs LeNet-style CNN ({cfg.activation}) "
            f"on {data.name}",
            xlabel="epoch",
        ),
        f"Training and {split} loss (left) and accuracy (right) per epoch of the "
        f"Q3 fully-connected network (fc, {params['fc']:,} parameters) and the CNN "
        f"(cnn, {params['cnn']:,} parameters): same data, batches, optimizer and epochs.",
    )
    table = text_table(
        ["network", "layers", "parameters", "train acc", f"{val} acc", "test acc", "test loss"],
        [
            (
                name,
                r["architecture"],
                f"{r['parameters']:,}",
                f"{r['train_accuracy']:.4f}",
                f"{r[f'{val}_accuracy']:.4f}",
                f"{r['test_accuracy']:.4f}",
                f"{r['test_loss']:.4f}",
            )
            for name, r in results.items()
        ],
    )
    run.figure(
        "networks",
        text_figure(
            [*table, "", "CNN layer shapes", *shape_table(cnn.shape_rows())],
            f"FC vs CNN on {data.name}, {cfg.epochs} epochs of {cfg.optimizer} (lr {cfg.lr:g})",
        ),
        "Each network's layers, parameter count and final accuracies, and the CNN's layer "
        "shapes (convolutions with 'same' padding, 2x2 max-pooling).",
    )
    return {
        "dataset": cfg.dataset,
        "epochs": cfg.epochs,
        "validation_split": split,
        "fc_val_accuracy": results["fc"][f"{val}_accuracy"],
        "cnn_val_accuracy": results["cnn"][f"{val}_accuracy"],
        "cnn_minus_fc": results["cnn"][f"{val}_accuracy"] - results["fc"][f"{val}_accuracy"],
        "fc_test_accuracy": results["fc"]["test_accuracy"],
        "cnn_test_accuracy": results["cnn"]["test_accuracy"],
        "fc_parameters": params["fc"],
        "cnn_parameters": params["cnn"],
        "networks": results,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
