"""local-minima: where many trainings of the same small network end (seed 003 "good vs bad
local minima").

The same one-hidden-layer MLP is trained `training_seeds` times on one task, each seed with its
own initialisation and batch order, by plain SGD; so is a wider one. Each training ends at some
point of its loss surface — a local minimum or a plateau — and the figure puts every end point
at its final training loss and its test accuracy. The lecture's claim, measured: a narrow
network's trainings end at very different losses, some at clearly bad ones; the wider
network's minima differ too, but nearly all of them are equally good. A training counts as
good when its test accuracy is within `good_margin` of the best seed of the same network.
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
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "digits"
    widths: tuple[int, ...] = param(
        (4, 32), low=1, high=8_192, help="hidden widths: one network each, narrow to wide"
    )
    training_seeds: int = param(20, low=2, high=1_000, help="trainings of each network")
    epochs: int = param(40, low=1, high=10_000)
    lr: float = param(0.1, low=0.0, low_open=True, help="SGD learning rate")
    batch_size: int = param(32, low=1, high=1_000_000)
    train_subset: int = param(0, low=0, high=10_000_000, help="training images (0: all)")
    good_margin: float = param(
        0.02, low=0.0, high=1.0, help="good: test accuracy within this of the network's best seed"
    )
    workers: int = param(1, low=1, high=64, help="worker processes training the networks")

    def check(self) -> None:
        if list(self.widths) != sorted(set(self.widths)):
            raise ConfigError(
                f"widths must be different and increasing, got {list(self.widths)}; "
                "e.g. widths=4,32"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"training_seeds": 6, "epochs": 8, "batch_size": 64},
    "quick": {},
    "full": {"dataset": "mnist", "train_subset": 10_000, "training_seeds": 50, "epochs": 30},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    from scipy.stats import spearmanr

    from nnlab.data import load_dataset
    from nnlab.dynamics import train_classifier, train_runs
    from nnlab.training.tensors import flat_tensors
    from nnlab.viz.dynamics import MinimaGroup, minima_figure

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x, y, x_test, y_test = flat_tensors(data, cfg.train_subset, run.device)
    common = dict(x=x, y=y, x_test=x_test, y_test=y_test, epochs=cfg.epochs,
                  batch_size=cfg.batch_size, lr=cfg.lr, optimizer="sgd")  # fmt: skip
    tasks = {
        f"width{w:04d}-seed{k:03d}": {**common, "hidden": (w,), "seed": run.seed * 1000 + k}
        for w in cfg.widths
        for k in range(cfg.training_seeds)
    }
    results = train_runs(run, train_classifier, tasks, workers=cfg.workers, desc="trainings")

    networks, groups = [], []
    for w in cfg.widths:
        mine = [results[f"width{w:04d}-seed{k:03d}"] for k in range(cfg.training_seeds)]
        loss = np.array([r["train_loss"][-1] for r in mine])
        acc = np.array([r["test_accuracy"][-1] for r in mine])
        good = acc >= acc.max() - cfg.good_margin
        rho = spearmanr(loss, acc).statistic if np.ptp(loss) and np.ptp(acc) else 0.0
        name = f"{x.shape[1]}-{w}-{len(data.class_names)}"
        networks.append(
            {
                "network": name,
                "width": w,
                "train_loss_low": float(loss.min()),
                "train_loss_high": float(loss.max()),
                "test_accuracy_best": float(acc.max()),
                "test_accuracy_median": float(np.median(acc)),
                "test_accuracy_worst": float(acc.min()),
                "good_fraction": float(good.mean()),
                "loss_accuracy_spearman": float(rho),
            }
        )
        curves = np.array([r["train_loss"] for r in mine])
        groups.append(MinimaGroup(f"{name} MLP", loss, acc, curves))

    run.figure(
        "minima",
        minima_figure(
            groups,
            title=f"{cfg.training_seeds} trainings of each network on {data.name} "
            f"(SGD, lr {cfg.lr:g}, {cfg.epochs} epochs)",
        ),
        "Left: each training's final training loss (log axis) against its test accuracy, one "
        "point per seed and one colour per network. Right: every seed's training loss per "
        "epoch. The narrow network's trainings end at very different losses, several of them "
        "bad; the wide network's end points differ too but are nearly all equally good.",
    )
    narrow, wide = networks[0], networks[-1]
    return {
        "dataset": cfg.dataset,
        "training_seeds": cfg.training_seeds,
        "networks": networks,
        "good_margin": cfg.good_margin,
        "narrow_good_fraction": narrow["good_fraction"],
        "wide_good_fraction": wide["good_fraction"],
        "narrow_test_accuracy_range": [narrow["test_accuracy_worst"], narrow["test_accuracy_best"]],
        "wide_test_accuracy_range": [wide["test_accuracy_worst"], wide["test_accuracy_best"]],
        "narrow_train_loss_range": [narrow["train_loss_low"], narrow["train_loss_high"]],
        "wide_train_loss_range": [wide["train_loss_low"], wide["train_loss_high"]],
        "narrow_network": narrow["network"],
        "wide_network": wide["network"],
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
