"""deep-vs-shallow: MLPs of different depth with the same parameter budget (seed 002).

Every network has `depth` hidden layers of one width, chosen by solving for the width whose
parameter count is closest to `budget`, so the networks differ in shape, not in size. All are
trained on the same data in the same batch order; their loss and accuracy curves share one
figure, and the summary lists each one's parameter count and final accuracies. The data set
is MNIST, as in the seed (``--set dataset=fashion-mnist`` for clothes; runs made before MNIST
became the default recorded their Fashion-MNIST in config.json and load as they were).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import Activation, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment
from nnlab.training.settings import ClassifierTraining, default, fit_settings

if TYPE_CHECKING:
    from nnlab.runs.run import Run


@dataclass
class Config(ClassifierTraining):
    label_smoothing: float = default("label_smoothing", 0.0)
    epochs: int = default("epochs", 10)
    dataset: Literal["digits", "mnist", "fashion-mnist", "kmnist", "chars36"] = "mnist"
    budget: int = param(100_000, low=1, high=10_000_000, help="parameters of every network")
    depths: tuple[int, ...] = param((1, 2, 4), low=1, high=64, help="hidden layers of each network")
    activation: Activation = "relu"
    dropout: float = param(0.0, low=0.0, high=0.95, help="dropout after each hidden layer")
    train_subset: int = param(
        0, low=0, high=10_000_000, help="use only this many training images (0: all)"
    )

    def check(self) -> None:
        if len(self.depths) < 2 or len(set(self.depths)) != len(self.depths):
            raise ConfigError(
                f"depths must list two or more different depths, got {list(self.depths)}; "
                "e.g. depths=1,2,4"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "budget": 10_000,
        "depths": (1, 3),
        "epochs": 10,
        "batch_size": 64,
        "lr": 1e-2,
    },
    "quick": {},
    "full": {"depths": (1, 2, 4, 8), "epochs": 30},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    from nnlab.data import load_dataset
    from nnlab.models import MLP, mlp_parameter_count, width_for_budget
    from nnlab.training.classifier import fit_classifiers
    from nnlab.training.tensors import flat_tensors
    from nnlab.viz import learning_curves, text_figure, text_table

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    device = run.device
    x_train, y_train, x_test, y_test = flat_tensors(data, cfg.train_subset, device)
    n_in, n_classes = x_train.shape[1], len(data.class_names)

    try:
        widths = {d: width_for_budget(n_in, n_classes, d, cfg.budget) for d in cfg.depths}
    except ValueError as exc:
        raise ConfigError(f"{exc}; raise budget or lower depths") from None
    names = [f"depth{d}" for d in cfg.depths]
    hidden = {name: (widths[d],) * d for name, d in zip(names, cfg.depths, strict=True)}
    models = {
        name: MLP(n_in, hidden[name], n_classes, cfg.activation, cfg.dropout).to(device)
        for name in names
    }
    fit_classifiers(
        run,
        models,
        (x_train, y_train),
        (x_test, y_test),
        **fit_settings(cfg),
        desc=f"{cfg.dataset} " + " vs ".join(names),
    )

    history = run.history()
    last = history[-1]
    results = []
    for name, depth in zip(names, cfg.depths, strict=True):
        count = sum(p.numel() for p in models[name].parameters())
        assert count == mlp_parameter_count(n_in, hidden[name], n_classes)
        results.append(
            {
                "name": name,
                "depth": depth,
                "hidden": list(hidden[name]),
                "parameters": count,
                "budget_error": round((count - cfg.budget) / cfg.budget, 6),
                "train_loss": last[f"{name}_train_loss"],
                "train_accuracy": last[f"{name}_train_accuracy"],
                "test_loss": last[f"{name}_test_loss"],
                "test_accuracy": last[f"{name}_test_accuracy"],
            }
        )
    counts = [r["parameters"] for r in results]
    best = max(results, key=lambda r: (r["test_accuracy"], -r["depth"]))

    run.figure(
        "learning_curves",
        learning_curves(
            history,
            groups={
                "loss (cross-entropy)": [
                    f"{n}_{split}_loss" for n in names for split in ("train", "test")
                ],
                "accuracy": [f"{n}_{split}_accuracy" for n in names for split in ("train", "test")],
            },
            title=f"MLPs of ~{cfg.budget:,} parameters on {data.name}: "
            + ", ".join(f"{r['depth']}x{r['hidden'][0]}" for r in results),
            xlabel="epoch",
        ),
        "Training and test loss (left) and accuracy (right) per epoch of every network; "
        "depthN has N hidden layers, all networks have (nearly) the same parameter count.",
    )
    table = text_table(
        [
            "network",
            "layers x width",
            "parameters",
            "vs budget",
            "train acc",
            "test acc",
            "test loss",
        ],
        [
            (
                r["name"],
                f"{r['depth']} x {r['hidden'][0]}",
                f"{r['parameters']:,}",
                f"{100 * r['budget_error']:+.2f}%",
                f"{r['train_accuracy']:.4f}",
                f"{r['test_accuracy']:.4f}",
                f"{r['test_loss']:.4f}",
            )
            for r in results
        ],
    )
    run.figure(
        "networks",
        text_figure(table, f"Deep vs shallow at {cfg.budget:,} parameters, {cfg.epochs} epochs"),
        "Each network's widths, parameter count (and its distance from the budget) and final "
        "accuracies.",
    )
    return {
        "dataset": cfg.dataset,
        "budget": cfg.budget,
        "epochs": cfg.epochs,
        "parameters": {r["name"]: r["parameters"] for r in results},
        "parameter_spread": round(max(counts) / min(counts) - 1, 6),
        "test_accuracy": {r["name"]: r["test_accuracy"] for r in results},
        "best_network": best["name"],
        "best_test_accuracy": best["test_accuracy"],
        "networks": results,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
