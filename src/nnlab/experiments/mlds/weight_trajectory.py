"""weight-trajectory: the optimisation path of 8 trainings, projected to 2-D (MLDS HW1 1-2,
seed 002 "visualize the optimization process").

The same MLP is trained `runs` times from different seeds (initialisation and batch order);
every `every` epochs (and at the start) its weights are recorded. PCA is fitted once on the
snapshots of all runs together, separately for the first layer's weights and for the whole
model, so every run is drawn in the same coordinates. Each point is labelled with the test
accuracy (%) at that epoch. By default it is an image classifier, as the homework asks ("train
on MNIST"). The seed recorded the same things on a 1-D regression: ``--set function=sin_half_x``
trains that instead (200 points of sin(x) + 0.5x on [-10, 10], a 1-32-32-1 ReLU net, Adam
lr 0.01 on the squared error, full batch: one step per epoch, 100 epochs; the `function`
settings of ``FUNCTION_SETTINGS`` apply where left at the image defaults), each point
labelled with the training MSE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run


FUNCTIONS = ("sin_half_x", "cos_half_x2", "sinc_5pi", "sign_sin_5pi")  # nnlab.dynamics.targets
#: The seed's regression (epochs are full-batch steps), taken where the image defaults are left.
FUNCTION_SETTINGS = {"epochs": 100, "lr": 0.01}
IMAGE_DEFAULTS = {"epochs": 24, "lr": 1e-3}


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    runs: int = param(8, low=2, high=256, help="trainings from different seeds")
    hidden: tuple[int, ...] = param((32, 32), low=1, high=8_192)
    epochs: int = param(24, low=1, high=10_000)
    every: int = param(3, low=1, high=10_000, help="record the weights every N epochs")
    lr: float = param(1e-3, low=0.0, low_open=True, help="Adam learning rate")
    batch_size: int = param(64, low=1, high=1_000_000)
    train_subset: int = param(10_000, low=0, high=10_000_000, help="training images (0: all)")
    workers: int = param(1, low=1, high=64, help="worker processes training the runs")
    function: str = param(
        "",
        help="a 1-D function to regress instead of classifying images (the seed's: "
        f"sin_half_x; any of {', '.join(FUNCTIONS)}); empty: images",
    )
    points: int = param(200, low=8, high=100_000, help="regression points (with function)")

    def check(self) -> None:
        if self.function and self.function not in FUNCTIONS:
            raise ConfigError(
                f"function must be empty (images) or one of {', '.join(FUNCTIONS)}; "
                f"got {self.function!r}"
            )
        if self.function:
            for key, value in FUNCTION_SETTINGS.items():
                if getattr(self, key) == IMAGE_DEFAULTS[key]:
                    object.__setattr__(self, key, value)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"dataset": "digits", "runs": 3, "hidden": (16,), "epochs": 6, "train_subset": 0},
    "quick": {},
    "full": {"epochs": 45, "train_subset": 0},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.data import load_dataset
    from nnlab.dynamics import train_classifier, train_runs
    from nnlab.dynamics.multirun import train_regressor
    from nnlab.dynamics.targets import TARGETS, sample_target
    from nnlab.training.tensors import flat_tensors
    from nnlab.viz.dynamics import Trajectories, trajectories_figure

    names = [f"run{i}" for i in range(cfg.runs)]
    if cfg.function:
        formula, _, _ = TARGETS[cfg.function]
        _, x, y = sample_target(cfg.function, cfg.points)
        trained_on, n_in, n_out = f"{formula} ({cfg.points} points)", 1, 1
        common = dict(x=x, y=y, x_eval=x, hidden=cfg.hidden, steps=cfg.epochs, lr=cfg.lr,
                      snapshot_every=cfg.every)  # fmt: skip
        fn, label_what = train_regressor, "training MSE"
    else:
        data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
        x, y, x_test, y_test = flat_tensors(data, cfg.train_subset, run.device)
        trained_on, n_in, n_out = data.name, x.shape[1], len(data.class_names)
        common = dict(x=x, y=y, x_test=x_test, y_test=y_test, hidden=cfg.hidden,
                      epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                      snapshot_every=cfg.every)  # fmt: skip
        fn, label_what = train_classifier, "test accuracy %"
    tasks = {name: {**common, "seed": run.seed * 1000 + i} for i, name in enumerate(names)}
    results = train_runs(run, fn, tasks, workers=cfg.workers, desc="trajectories")

    epochs = results[names[0]]["snapshot_epochs"]
    labels = []
    for name in names:
        if cfg.function:
            loss = results[name]["snapshot_loss"]
            pairs = zip(epochs, loss, strict=True)
            labels.append(["init" if e == 0 else f"{v:.2g}" for e, v in pairs])
        else:
            acc = results[name]["test_accuracy"]
            labels.append(["init" if e == 0 else f"{100 * acc[e - 1]:.0f}" for e in epochs])
    panels, explained = [], {}
    for key, what in (("first_layer", "first layer"), ("snapshots", "whole model")):
        stacked = np.stack([results[n][key].numpy() for n in names]).astype(np.float64)
        flat = stacked.reshape(-1, stacked.shape[-1])
        centred = flat - flat.mean(axis=0)
        _, sv, vt = np.linalg.svd(centred, full_matrices=False)
        ratio = sv**2 / (sv**2).sum()
        explained[key] = [round(float(r), 6) for r in ratio[:2]]
        points = (centred @ vt[:2].T).reshape(len(names), len(epochs), 2)
        panels.append(
            Trajectories(
                points,
                labels,
                f"{what}: {stacked.shape[-1]:,} weights",
                xlabel=f"PC 1 ({100 * ratio[0]:.0f}% of variance)",
                ylabel=f"PC 2 ({100 * ratio[1]:.0f}% of variance)",
            )
        )
    hidden = "-".join(str(h) for h in (n_in, *cfg.hidden, n_out))
    run.figure(
        "trajectories",
        trajectories_figure(
            panels,
            title=f"{cfg.runs} trainings of a {hidden} MLP on {trained_on}, weights every "
            f"{cfg.every} epochs (labels: {label_what})",
            run_names=names,
        ),
        "PCA (fitted on all runs' snapshots together) of the first layer's weights (left) and "
        "of all weights (right); each colour is one run from the start (circle) onwards.",
    )
    common_keys = {
        "runs": cfg.runs,
        "snapshot_epochs": epochs,
        "explained_variance_first_layer": explained["first_layer"],
        "explained_variance_whole_model": explained["snapshots"],
    }
    if cfg.function:
        losses = [results[n]["final_loss"] for n in names]
        return {
            "function": cfg.function,
            **common_keys,
            "final_loss": losses,
            "mean_final_loss": float(np.mean(losses)),
            "ending": f"a training MSE of {np.mean(losses):.3g} on {formula}",
        }
    final = [results[n]["test_accuracy"][-1] for n in names]
    return {
        "dataset": cfg.dataset,
        **common_keys,
        "final_test_accuracy": final,
        "mean_final_test_accuracy": float(np.mean(final)),
        "ending": f"{np.mean(final):.1%} test accuracy on {data.name}",
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
