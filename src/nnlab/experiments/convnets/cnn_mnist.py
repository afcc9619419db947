"""cnn-mnist: a small CNN whose first convolution has 40 filters (seed 001 Problem 4).

Trains for 5 epochs on MNIST (or Fashion-MNIST, KMNIST, 8x8 digits), then shows the 40 learned
first-layer filters, the test confusion matrix and the most-confused pairs, and answers
Problem 4.1 (output sizes of conv and pooling layers on a 50x50 input) with
`nnlab.numerics.convshape`.

Training images are shifted at random by up to `shift` pixels (the classic MNIST augmentation;
Fashion-MNIST by default not, ``SHIFTS``) and a third convolution block (40-64-128 filters)
follows the seed's two (measured: README.md, "Measured results").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import param
from nnlab.experiments import Experiment
from nnlab.training.settings import ClassifierTraining, check_kernels, default, fit_settings

if TYPE_CHECKING:
    from nnlab.runs.run import Run

MISCLASSIFIED_SHOWN = 24
#: Each data set's default shift (`shift=-1`). Shifted digits are still the same digits (the
#: classic MNIST augmentation); Fashion-MNIST's centred clothes learn better without shifts
#: (the quick preset, seed 0: README "Measured results").
SHIFTS = {"fashion-mnist": 0}


@dataclass
class Config(ClassifierTraining):
    lr: float = default("lr", 3e-3)
    weight_decay: float = default("weight_decay", 5e-4)
    epochs: int = default("epochs", 5)
    dataset: Literal["digits", "mnist", "fashion-mnist", "kmnist", "chars36"] = "mnist"
    channels: tuple[int, ...] = param(
        (40, 64, 128),
        low=1,
        high=1_024,
        help="filters of each convolution (the seed's first layer has 40)",
    )
    kernels: tuple[int, ...] = param(
        (5, 3, 3), low=1, high=31, help="kernel size of each convolution"
    )
    hidden: tuple[int, ...] = param(
        (128,), low=1, high=8_192, help="fully-connected widths after the convs"
    )
    batch_norm: bool = True
    dropout: float = param(0.1, low=0.0, high=0.95, help="dropout before each dense layer")
    train_subset: int = param(
        0, low=0, high=10_000_000, help="use only this many training images (0: all)"
    )
    shift: int = param(
        -1,
        low=-1,
        high=8,
        help="shift training images at random by up to this many pixels (-1: the data set's "
        "own default, SHIFTS: 2 for handwriting, 0 for Fashion-MNIST)",
    )
    channels_last: bool = param(True, help="NHWC memory layout (faster convolutions on CPU)")

    def check(self) -> None:
        if self.shift < 0:  # resolved here, so config.json records the shift used
            object.__setattr__(self, "shift", SHIFTS.get(self.dataset, 2))
        check_kernels(self.channels, self.kernels)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "channels": (40, 16),
        "kernels": (5, 3),
        "hidden": (64,),
        "epochs": 4,
        "shift": 1,
    },
    "quick": {},
    "full": {"channels": (40, 64), "kernels": (5, 5), "hidden": (256,), "epochs": 15},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.data.augment import augment
    from nnlab.models import CNN
    from nnlab.numerics.convshape import problem_4_1, problem_4_1_table, shape_table
    from nnlab.training.classifier import fit_classifier, report_classifier
    from nnlab.training.tensors import image_tensors
    from nnlab.viz import image_grid, most_confused_pairs, per_class_accuracy, text_figure

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    device = run.device
    layout = torch.channels_last if cfg.channels_last else torch.contiguous_format
    tensors = image_tensors(data, cfg.train_subset, device, memory_format=layout)
    (x_train, y_train), (x_test, y_test) = tensors["train"], tensors["test"]

    model = CNN(
        x_train.shape[1:],
        len(data.class_names),
        cfg.channels,
        cfg.kernels,
        cfg.hidden,
        cfg.dropout,
        cfg.batch_norm,
    ).to(device, memory_format=layout)
    initial = {"initial_filters": model.first_conv.weight.detach().cpu().clone()}
    shifts = torch.Generator().manual_seed(run.seed + 1)
    paper = float(x_train.amin())  # the standardised background

    def shifted(x: torch.Tensor) -> torch.Tensor:
        out = augment(x, shifts, flip=False, pad=cfg.shift, fill=paper)
        return out.contiguous(memory_format=layout)

    initial_filters = fit_classifier(
        run,
        model,
        (x_train, y_train),
        (x_test, y_test),
        **fit_settings(cfg),
        transform=shifted if cfg.shift else None,
        generators={"shifts": shifts},
        desc=f"{cfg.dataset} CNN",
        extra_state=initial,
    )["initial_filters"]

    names = data.class_names
    truth = y_test.cpu().numpy()
    title = f"CNN on {data.name}"
    numbers, predicted, cm = report_classifier(run, model, x_test, y_test, names, title)
    filters = model.first_conv.weight.detach().cpu().float()
    n_filters, in_channels, kh, kw = filters.shape
    # how far training moved the filters from their random start (0: not at all)
    filter_change = float((filters - initial_filters).norm() / initial_filters.norm())
    tiles = filters.mean(dim=1) if in_channels != 3 else filters.permute(0, 2, 3, 1)
    run.figure(
        "first_layer_filters",
        image_grid(
            tiles.numpy(),
            ncols=10,
            title=f"The {n_filters} learned {kh}x{kw} filters of the first convolution",
        ),
        "First-layer convolution kernels after training, each stretched to its own range "
        f"(black: most negative weight, white: most positive). Training moved them by "
        f"{100 * filter_change:.0f}% of their norm from the random initialisation "
        "(first_layer_change in the summary).",
    )
    wrong = np.flatnonzero(predicted.numpy() != truth)[:MISCLASSIFIED_SHOWN]
    if len(wrong):
        run.figure(
            "misclassified",
            image_grid(
                data.x_test[wrong],
                ncols=8,
                titles=[f"{names[truth[i]]}\n→ {names[predicted[i]]}" for i in wrong],
                title=f"The first {len(wrong)} misclassified test images (true → predicted)",
                normalize=None,
            ),
            "Misclassified test images in test-set order, with true and predicted class.",
        )
    run.figure(
        "architecture",
        text_figure(shape_table(model.shape_rows()), f"{title}: layer shapes"),
        "Output shape and parameters of each layer, with the convolution arithmetic "
        "(conv parameters counted with a bias; with batch norm the conv has none and BN "
        "has 2 per channel).",
    )
    answers = problem_4_1(50)
    run.figure(
        "conv_arithmetic",
        text_figure(
            problem_4_1_table(answers),
            "Seed 001 Problem 4.1: output size of a 50x50 input",
        ),
        "out = floor((n + 2p - d(k-1) - 1)/s) + 1 for convolution and max-pooling (d = 1); "
        "parameters per one-channel filter are k*k weights + 1 bias, pooling has none.",
    )

    return {
        "dataset": cfg.dataset,
        **numbers,
        "epochs": cfg.epochs,
        "parameters": sum(p.numel() for p in model.parameters()),
        "first_layer_filters": list(filters.shape),
        "first_layer_change": round(filter_change, 6),
        "feature_shape": list(model.feature_shape),
        "class_names": list(names),
        "confusion_matrix": cm.tolist(),
        "per_class_accuracy": per_class_accuracy(cm, names),
        "most_confused": most_confused_pairs(cm, names, k=5),
        "problem_4_1": {part: a["output"] for part, a in answers.items()},
        "problem_4_1_parameters_per_filter": {
            part: a["parameters_per_filter"] for part, a in answers.items()
        },
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
