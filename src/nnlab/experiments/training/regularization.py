"""regularization: none, L1, L2, dropout and early stopping on an MLP that over-fits (seed 003).

The seed's recipe against over-fitting: weight regularization (L1, L2), dropout, and early
stopping ("stop training when the validation error starts increasing"). To see them work
the baseline has to over-fit, so the set-up is deliberately bad: a small training subset
(1000 Fashion-MNIST images) and a wide network (784-1024-1024-10, 1.9M weights) trained for
many epochs with Adam. A validation split (5000 images from the rest of the official
training set, disjoint from the training subset) measures over-fitting and drives early
stopping; the official test set is only used for the final numbers.

Methods (all from the same initial weights and with the same batch order; one optimizer
and learning rate for all):

* ``none`` -- plain cross-entropy: memorises the training subset (100% train accuracy).
* ``l1`` -- loss + ``l1`` * sum |w| over the weight matrices (not biases).
* ``l2`` -- loss + ``l2`` / 2 * sum w^2 over the weight matrices (gradient ``l2`` * w).
* ``dropout`` -- ``nn.Dropout(dropout)`` after each hidden layer (off at evaluation).
* ``early_stopping`` -- no penalty; stop once the validation loss has not improved for
  ``patience`` epochs and restore the weights of the best epoch.

The generalisation gap is train accuracy - validation accuracy of the final model (eval
mode, whole sets; train accuracy against the labels it was trained on). The summary names
the method with the best validation accuracy (the choice one would make without looking at
the test set), how much it gains over ``none`` on validation and test, how much it shrinks
the gap, and whether the gain exceeds twice the validation accuracy's standard error.

The quick preset replaces 20% of the training labels by another class (``label_noise``), so
memorising them costs accuracy that regularization can win back; the smoke preset (and the
tour) use the two-moons toy set, where over-fitting shows in ``decision_boundaries.png``.
Measured results are in README.md ("Measured results").

Metrics are logged as ``train_loss@<method>``, ``val_accuracy@<method>``, ... so the
report's generic curves show one panel per method.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, Optimizer, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np
    import torch

    from nnlab.runs.run import Run

METHODS = ("none", "l1", "l2", "dropout", "early_stopping")
LABELS = {
    "none": "none",
    "l1": "L1",
    "l2": "L2",
    "dropout": "dropout",
    "early_stopping": "early stopping",
}


@dataclass
class Config(ExperimentConfig):
    dataset: Literal[
        "digits",
        "mnist",
        "fashion-mnist",
        "kmnist",
        "moons",
        "spiral",
        "circle",
        "xor",
        "gaussians",
    ] = "fashion-mnist"
    noise: float = param(0.3, low=0.0, help="2-D toy sets only: coordinate noise (std)")
    label_noise: float = param(
        0.0, low=0.0, high=0.9, help="fraction of training labels replaced by another class"
    )
    methods: tuple[str, ...] = param(METHODS, help=f"methods to compare, from {', '.join(METHODS)}")
    train_subset: int = param(
        1000, low=1, high=10_000_000, help="training images (few, so the network over-fits)"
    )
    val_size: int = param(
        5000, low=1, high=10_000_000, help="validation images, disjoint from the training ones"
    )
    hidden: tuple[int, ...] = param((1024, 1024), low=1, high=8_192, help="hidden layer widths")
    optimizer: Optimizer = "adam"
    lr: float = param(1e-3, low=0.0, low_open=True)
    batch_size: int = param(64, low=1, high=1_000_000)
    epochs: int = param(60, low=1, high=10_000, help="epochs (early stopping may stop sooner)")
    l1: float = param(1e-5, low=0.0, low_open=True, help="L1 penalty: loss + l1 * sum |w|")
    l2: float = param(1e-2, low=0.0, low_open=True, help="L2 penalty: loss + l2/2 * sum w^2")
    dropout: float = param(0.7, low=0.0, high=0.95, low_open=True, help="dropout probability")
    patience: int = param(
        10, low=1, high=10_000, help="early stopping: epochs without a better val loss"
    )
    threads: int = param(
        1, low=0, high=256, help="torch CPU threads while training (0: torch's default)"
    )

    def check(self) -> None:
        if not self.methods:
            raise ConfigError("setting 'methods' is empty; name at least one method")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise ConfigError(
                f"unknown method(s) {', '.join(unknown)} in 'methods'; "
                f"choose from {', '.join(METHODS)}"
            )
        if len(set(self.methods)) != len(self.methods):
            raise ConfigError("setting 'methods' names a method twice; list each once")


PRESETS: dict[str, dict[str, Any]] = {
    # a noisy 2-D toy set: over-fitting is visible in the decision boundary
    "smoke": {
        "dataset": "moons",
        "train_subset": 100,
        "val_size": 1000,
        "hidden": (256, 256),
        "lr": 3e-3,
        "batch_size": 25,
        "epochs": 100,
        "l1": 1e-4,
        "l2": 1e-3,
        "dropout": 0.5,
    },
    # 1000 clean Fashion-MNIST images over-fit benignly (README.md, "Measured results");
    # with 20% wrong labels, memorising them costs accuracy
    "quick": {"label_noise": 0.2},
    "full": {
        "label_noise": 0.2,
        "train_subset": 2000,
        "val_size": 10000,
        "hidden": (2048, 2048),
        "epochs": 200,
    },
}


def penalty(model: torch.nn.Module, method: str, cfg: Config) -> torch.Tensor | None:
    """The method's weight penalty over the weight matrices (biases are not penalised)."""
    weights = [p for p in model.parameters() if p.dim() > 1]
    if method == "l1":
        return cfg.l1 * sum(w.abs().sum() for w in weights)
    if method == "l2":
        return 0.5 * cfg.l2 * sum(w.square().sum() for w in weights)
    return None


def train_method(
    method: str,
    init: torch.nn.Module,
    data: dict[str, tuple[torch.Tensor, torch.Tensor]],
    cfg: Config,
    run: Run,
    bar: Any,
) -> tuple[dict[str, Any], torch.nn.Module]:
    """Train one model with `method` from `init`'s weights; log each epoch; return the final
    numbers and the final model."""
    import torch

    from nnlab.models import MLP
    from nnlab.training.classifier import evaluate, fit_validated
    from nnlab.training.optim import make_optimizer

    x_train = data["train"][0]
    n_classes = init.net[-1].out_features
    dropout = cfg.dropout if method == "dropout" else 0.0
    model = MLP(x_train.shape[1], cfg.hidden, n_classes, dropout=dropout).to(run.device)
    with torch.no_grad():  # same weights; the dropout model only has extra parameter-free layers
        for p, q in zip(model.parameters(), init.parameters(), strict=True):
            p.copy_(q)
    optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, 0.0, run.device)
    shuffle = torch.Generator().manual_seed(run.seed)  # the same batches for every method
    torch.manual_seed(run.seed)  # dropout masks

    def log(epoch: int, metrics: dict[str, float]) -> None:
        run.log(epoch, **{f"{name}@{method}": value for name, value in metrics.items()})
        bar.update(1)
        bar.set_postfix(method=method, val_acc=f"{metrics['val_accuracy']:.4f}")

    early = method == "early_stopping"
    best_epoch, trained = fit_validated(
        model,
        optimizer,
        data["train"],
        data["val"],
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        generator=shuffle,
        penalty=functools.partial(penalty, method=method, cfg=cfg),
        patience=cfg.patience if early else None,
        on_epoch=log,
    )
    bar.update(cfg.epochs - trained)
    final = {split: evaluate(model, *data[split])[:2] for split in ("train", "val", "test")}
    weights = torch.cat([p.detach().flatten() for p in model.parameters() if p.dim() > 1])
    return {
        "method": method,
        "epochs_trained": trained,
        "final_epoch": best_epoch if early else cfg.epochs,
        "best_val_loss_epoch": best_epoch,
        "train_accuracy": final["train"][1],
        "val_accuracy": final["val"][1],
        "test_accuracy": final["test"][1],
        "gap": final["train"][1] - final["val"][1],
        "train_loss": final["train"][0],
        "val_loss": final["val"][0],
        "test_loss": final["test"][0],
        "weight_l2_norm": float(weights.norm()),
        "weights_below_1e-3": float((weights.abs() < 1e-3).double().mean()),
    }, model


def conclusion(results: list[dict[str, Any]], n_val: int | None = None) -> dict[str, Any]:
    """Which method wins (best validation accuracy) and by how much, against `none`; with
    `n_val`, whether the accuracy gain exceeds twice the validation standard error."""
    by = {r["method"]: r for r in results}
    regularized = [r for r in results if r["method"] != "none"]
    out: dict[str, Any] = {}
    if regularized:
        best = max(regularized, key=lambda r: r["val_accuracy"])  # ties: first listed
        smallest = min(regularized, key=lambda r: r["gap"])
        out.update(
            best_method=best["method"],
            best_val_accuracy=best["val_accuracy"],
            best_test_accuracy=best["test_accuracy"],
            best_gap=best["gap"],
            smallest_gap_method=smallest["method"],
            smallest_gap=smallest["gap"],
        )
    if "none" in by:
        base = by["none"]
        out.update(
            gap_none=base["gap"],
            val_accuracy_none=base["val_accuracy"],
            test_accuracy_none=base["test_accuracy"],
        )
    if regularized and "none" in by:
        base = by["none"]
        out.update(
            gap_reduction=base["gap"] - best["gap"],
            val_gain=best["val_accuracy"] - base["val_accuracy"],
            test_gain=best["test_accuracy"] - base["test_accuracy"],
            regularized_with_smaller_gap=[
                r["method"] for r in regularized if r["gap"] < base["gap"]
            ],
            regularized_with_better_test=[
                r["method"] for r in regularized if r["test_accuracy"] > base["test_accuracy"]
            ],
        )
        shrink = out["gap_reduction"]
        gap_text = f"{100 * abs(shrink):.1f} points {'smaller' if shrink >= 0 else 'larger'}"
        head = (
            f"{LABELS[best['method']]} wins (best validation accuracy)"
            if out["val_gain"] > 0
            else "No regularizer beats none on validation accuracy; the best, "
            f"{LABELS[best['method']]},"
        )
        out["verdict"] = (
            f"{head}: validation "
            f"{100 * best['val_accuracy']:.1f}% vs {100 * base['val_accuracy']:.1f}% without "
            f"regularization ({100 * out['val_gain']:+.1f} points), test "
            f"{100 * best['test_accuracy']:.1f}% vs {100 * base['test_accuracy']:.1f}% "
            f"({100 * out['test_gain']:+.1f}); its train-validation gap is "
            f"{100 * best['gap']:.1f} points vs {100 * base['gap']:.1f} ({gap_text}), its "
            f"validation loss {best['val_loss']:.3f} vs {base['val_loss']:.3f}. Smallest gap: "
            f"{LABELS[smallest['method']]} ({100 * smallest['gap']:.1f} points)."
        )
        if n_val:
            p = base["val_accuracy"]
            se = math.sqrt(p * (1 - p) / n_val)
            out["val_accuracy_standard_error"] = se
            out["verdict"] += (
                f" One validation accuracy has a standard error of {100 * se:.1f} points "
                f"({n_val} images)"
                + (
                    ", so the accuracy gain is within noise."
                    if abs(out["val_gain"]) < 2 * se
                    else "."
                )
            )
    return out


TOY_TEST_SIZE = 2000
LIMITS = (-2.0, 2.0)  # of the decision-function grid (2-D toy sets)
GRID_POINTS = 150


def load_splits(cfg: Config, run: Run) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], int, str]:
    """Train / validation / test arrays (images flattened), the number of classes and the
    data set's name. A 2-D toy set draws train + validation points from one sample and
    the test points from another."""
    from nnlab.data import TOY_KINDS, load_dataset, make_toy
    from nnlab.training.tensors import split_indices

    if cfg.dataset in TOY_KINDS:
        x, y = make_toy(cfg.dataset, cfg.train_subset + cfg.val_size, cfg.noise, seed=run.seed)
        x_test, y_test = make_toy(cfg.dataset, TOY_TEST_SIZE, cfg.noise, seed=run.seed + 10_000)
        n_val = cfg.val_size
        splits = {
            "train": (x[n_val:], y[n_val:]),
            "val": (x[:n_val], y[:n_val]),
            "test": (x_test, y_test),
        }
        return splits, 2, f"{cfg.dataset} (noise {cfg.noise:g})"
    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    train_idx, val_idx = split_indices(len(data.x_train), cfg.train_subset, cfg.val_size, run.seed)
    splits = {
        "train": (data.x_train[train_idx], data.y_train[train_idx]),
        "val": (data.x_train[val_idx], data.y_train[val_idx]),
        "test": (data.x_test, data.y_test),
    }
    return splits, len(data.class_names), data.name


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.models import MLP
    from nnlab.training.classifier import class_probability, evaluate, fit_variants
    from nnlab.training.tensors import corrupt_labels, standardise
    from nnlab.training.threads import torch_threads
    from nnlab.viz import (
        BoundaryPanel,
        CurveRow,
        Grid,
        accuracy_bars,
        curves_per_variant,
        decision_boundaries,
        predict_grid,
        text_figure,
        text_table,
        wrap_words,
    )

    arrays, n_classes, data_name = load_splits(cfg, run)
    clean_labels = torch.as_tensor(arrays["train"][1])
    if cfg.label_noise:
        x, y = arrays["train"]
        arrays["train"] = (x, corrupt_labels(y, cfg.label_noise, n_classes, run.seed))
        data_name += f", {100 * cfg.label_noise:g}% of training labels wrong"
    wrong = torch.as_tensor(arrays["train"][1]) != clean_labels
    mean, std = float(arrays["train"][0].mean()), float(arrays["train"][0].std())
    device = run.device
    splits = standardise(arrays, device)
    torch.manual_seed(run.seed)
    init = MLP(splits["train"][0].shape[1], cfg.hidden, n_classes).to(device)

    def fit(method: str, bar: Any) -> dict[str, Any]:
        result, model = train_method(method, init, splits, cfg, run, bar)
        if wrong.any():  # how much of the label noise the model learned by heart
            predicted = evaluate(model, *splits["train"])[2]
            result["train_accuracy_clean_labels"] = float(
                (predicted == clean_labels).double().mean()
            )
            result["memorised_wrong_labels"] = float(
                (predicted[wrong] == splits["train"][1].cpu()[wrong]).double().mean()
            )
        if splits["train"][0].shape[1] == 2:  # a 2-D toy set: keep the decision function
            grid = predict_grid(class_probability(model, 1, mean, std), LIMITS, n=GRID_POINTS)
            result["boundary"] = torch.from_numpy(grid.values)
        return result

    with torch_threads(cfg.threads):
        results, seconds = fit_variants(
            run,
            cfg.methods,
            fit,
            steps=cfg.epochs,
            desc=f"{data_name} regularization",
            unit="epoch",
        )
    boundaries = {r["method"]: r.pop("boundary") for r in results if "boundary" in r}
    for method, s in seconds.items():
        run.record_time(f"train_{method}_seconds", s)

    arch = "-".join(map(str, [splits["train"][0].shape[1], *cfg.hidden, n_classes]))
    setup = (
        f"{data_name}, {cfg.train_subset} training examples, MLP {arch}, "
        f"{cfg.optimizer} lr {cfg.lr:g}"
    )
    run.figure(
        "learning_curves",
        curves_per_variant(
            run.history(),
            [r["method"] for r in results],
            [
                CurveRow("loss", "cross-entropy (nats, log scale)", log=True),
                CurveRow("accuracy", "accuracy (%)", scale=100, legend_loc="lower right"),
            ],
            title=f"Regularization against over-fitting: {setup}",
            column_titles={
                r["method"]: f"{LABELS[r['method']]}\ngap {100 * r['gap']:.1f} pts, "
                f"test {100 * r['test_accuracy']:.1f}%"
                for r in results
            },
            marks={
                r["method"]: (r["final_epoch"], "restored epoch")
                for r in results
                if r["method"] == "early_stopping"
            },
        ),
        "Training (blue) and validation (orange) cross-entropy (top, log scale) and accuracy "
        "(bottom) per epoch, one column per method, measured in eval mode on the whole "
        "training subset and validation split. The dotted line marks the epoch whose weights "
        "early stopping restored.",
    )
    run.figure(
        "gaps",
        accuracy_bars(
            [LABELS[r["method"]] for r in results],
            *([r[f"{split}_accuracy"] for r in results] for split in ("train", "val", "test")),
            title=f"Final accuracies and train-validation gaps ({data_name})",
        ),
        "Training, validation and test accuracy of each final model; the number above each "
        "group is the generalisation gap, train - validation accuracy, in points.",
    )
    if boundaries:
        ticks = np.linspace(*LIMITS, GRID_POINTS)
        run.figure(
            "decision_boundaries",
            decision_boundaries(
                [
                    BoundaryPanel(
                        Grid(ticks, ticks, boundaries[r["method"]].numpy()),
                        *arrays["train"],
                        f"{LABELS[r['method']]}: train {100 * r['train_accuracy']:.0f}%, "
                        f"val {100 * r['val_accuracy']:.0f}%",
                    )
                    for r in results
                    if r["method"] in boundaries
                ],
                title=f"Decision functions: {setup}",
            ),
            "Probability of class 1 over the plane (blue 0, red 1; black line: the decision "
            "boundary) for each method, with the training points. Without regularization the "
            "boundary bends around individual noisy points; regularization smooths it.",
        )
    summary = conclusion(results, len(splits["val"][1]))
    noisy = all("memorised_wrong_labels" in r for r in results)
    rows = [
        (
            LABELS[r["method"]],
            r["final_epoch"],
            f"{100 * r['train_accuracy']:.2f}",
            f"{100 * r['val_accuracy']:.2f}",
            f"{100 * r['gap']:.2f}",
            f"{100 * r['test_accuracy']:.2f}",
            f"{r['val_loss']:.3f}",
            f"{r['weight_l2_norm']:.1f}",
            *([f"{100 * r['memorised_wrong_labels']:.1f}"] if noisy else []),
        )
        for r in results
    ]
    lines = text_table(
        (
            "method",
            "epochs",
            "train acc %",
            "val acc %",
            "gap (pts)",
            "test acc %",
            "val loss",
            "|W|",
            *(["wrong labels learned %"] if noisy else []),
        ),
        rows,
    )
    if "verdict" in summary:  # wrapped to the table's width
        lines += ["", *wrap_words(summary["verdict"], max(60, len(lines[0])))]
    run.figure(
        "gap_table",
        text_figure(lines, f"Generalisation gaps: {setup}"),
        "Per method: epochs of the final weights, accuracies, gap = train - validation "
        "accuracy (points), validation loss and the L2 norm of the weight matrices"
        + (
            "; with label noise, the share of the wrongly labelled training images the "
            "model predicts with their wrong label (learned by heart). Train accuracy is "
            "measured against the (partly wrong) training labels, so a model that ignores "
            "the wrong labels has a negative gap."
            if noisy
            else "."
        ),
    )
    return {
        **summary,
        "results": results,
        "dataset": cfg.dataset,
        "n_train": len(splits["train"][1]),
        "n_val": len(splits["val"][1]),
        "n_test": len(splits["test"][1]),
        "hidden": list(cfg.hidden),
        "parameters": sum(p.numel() for p in init.parameters()),
        "epochs": cfg.epochs,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
