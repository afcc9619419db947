"""params-vs-generalization: one-hidden-layer MLPs of growing width on the same data (MLDS HW1
1-3, seed 002 "number of parameters vs generalization").

Every model sees the same training images, epochs, batch size, learning rate and seed; only
the hidden width differs, so the parameter count grows from a few thousand to ~10⁶. After the
last epoch the training and test loss and accuracy are measured on the whole sets in eval
mode and drawn against the parameter count (log axis). The generalisation gap is test minus
training loss. The seed's student reported that bigger models fit the training set better
without generalising better; `test_accuracy_gain_last_half` says how much the larger half of
the models gained in test accuracy over the smaller half's best.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run

WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    widths: tuple[int, ...] = param(
        WIDTHS, low=1, high=65_536, help="hidden widths, one model each"
    )
    epochs: int = param(20, low=1, high=10_000)
    lr: float = param(1e-3, low=0.0, low_open=True, help="Adam learning rate")
    batch_size: int = param(128, low=1, high=1_000_000)
    train_subset: int = param(5_000, low=0, high=10_000_000, help="training images (0: all)")
    workers: int = param(1, low=1, high=64, help="worker processes training the models")

    def check(self) -> None:
        if len(set(self.widths)) < 10 or list(self.widths) != sorted(set(self.widths)):
            raise ConfigError(
                f"widths must list ten or more different widths in increasing order, got "
                f"{list(self.widths)}"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "widths": WIDTHS[:10],
        "epochs": 8,
        "batch_size": 64,
        "lr": 3e-3,
        "train_subset": 0,
    },  # fmt: skip
    "quick": {},
    "full": {"train_subset": 0, "epochs": 30, "widths": (*WIDTHS, 2048)},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.data import load_dataset
    from nnlab.dynamics import train_classifier, train_runs
    from nnlab.training.tensors import flat_tensors
    from nnlab.viz import Line, LinePanel
    from nnlab.viz.dynamics import log_x_panels

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x, y, x_test, y_test = flat_tensors(data, cfg.train_subset, run.device)
    common = dict(x=x, y=y, x_test=x_test, y_test=y_test, epochs=cfg.epochs,
                  batch_size=cfg.batch_size, lr=cfg.lr, seed=run.seed)  # fmt: skip
    names = [f"width{w:05d}" for w in cfg.widths]
    tasks = {n: {**common, "hidden": (w,)} for n, w in zip(names, cfg.widths, strict=True)}
    results = train_runs(run, train_classifier, tasks, workers=cfg.workers, desc="widths")

    keys = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")
    final = {k: np.array([results[n][k][-1] for n in names]) for k in keys}
    params = [int(results[n]["parameters"]) for n in names]
    for i in range(len(names)):
        run.log(i, parameters=params[i], width=cfg.widths[i], **{k: final[k][i] for k in keys})

    def lines(key: str, scale: float = 1.0) -> list[Line]:
        return [
            Line(params, (scale * final[f"train_{key}"]).tolist(), "train", "o-", 4),
            Line(params, (scale * final[f"test_{key}"]).tolist(), "test", "s--", 4),
        ]

    chance = 100 / len(data.class_names)
    run.figure(
        "params_vs_generalization",
        log_x_panels(
            [
                LinePanel(
                    lines("loss"), "loss after training", "cross-entropy (nats, log)", log=True
                ),
                LinePanel(
                    lines("accuracy", 100),
                    "accuracy after training",
                    "accuracy (%)",
                    reference=(chance, "chance"),
                ),
            ],  # fmt: skip
            title=f"{len(names)} one-hidden-layer MLPs (width {cfg.widths[0]}-{cfg.widths[-1]}) "
            f"on {len(x):,} {data.name} images, {cfg.epochs} epochs each",
            xlabel="parameters (log scale)",
        ),
        "Training (solid) and test (dashed) cross-entropy and accuracy of each model after "
        f"{cfg.epochs} epochs against its number of weights and biases.",
    )
    gap = final["test_loss"] - final["train_loss"]
    best = int(np.argmax(final["test_accuracy"]))
    half = len(names) // 2
    return {
        "dataset": cfg.dataset,
        "train_images": len(x),
        "widths": list(cfg.widths),
        "parameters": params,
        **{k: [round(float(v), 6) for v in final[k]] for k in keys},
        "generalization_gap": [round(float(v), 6) for v in gap],
        "best_test_accuracy": float(final["test_accuracy"][best]),
        "best_test_parameters": params[best],
        "largest_train_accuracy": float(final["train_accuracy"][-1]),
        "largest_test_accuracy": float(final["test_accuracy"][-1]),
        "smallest_test_accuracy": float(final["test_accuracy"][0]),
        "test_accuracy_gain_last_half": float(
            final["test_accuracy"][half:].max() - final["test_accuracy"][:half].max()
        ),
        "train_test_accuracy_gap_largest": float(
            final["train_accuracy"][-1] - final["test_accuracy"][-1]
        ),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
