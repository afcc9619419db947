"""random-labels: a network fits labels shuffled at random (MLDS HW1 1-3; Zhang et al.
2017, "Understanding deep learning requires rethinking generalization").

The training labels are permuted once (seeded; the class balance is kept, every image's link
to its label is gone) and an MLP is trained until it gets every training example right; a
twin is trained on the true labels the same way. Test accuracy is on the true test labels:
for the random-label net it should stay at chance (10%), since nothing it learnt carries
over. The summary states the epochs each needed to reach 100% training accuracy and their
ratio. Training accuracy is measured after each epoch on the whole training set in eval
mode (not the running mean during the epoch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist", "cifar10"] = "mnist"
    hidden: tuple[int, ...] = param((512, 512), low=1, high=16_384)
    lr: float = param(1e-3, low=0.0, low_open=True, help="Adam learning rate")
    batch_size: int = param(64, low=1, high=1_000_000)
    epochs: int = param(150, low=1, high=100_000, help="stop here if not fitted")
    train_subset: int = param(5_000, low=0, high=10_000_000, help="training images (0: all)")
    workers: int = param(1, low=1, high=64, help="worker processes (the two trainings)")


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "hidden": (512,),
        "train_subset": 300,
        "epochs": 200,
        "batch_size": 32,
        "lr": 3e-3,
    },  # fmt: skip
    "quick": {},
    "full": {"train_subset": 0, "epochs": 1_000},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import torch

    from nnlab.data import load_dataset
    from nnlab.dynamics import train_classifier, train_runs
    from nnlab.training.tensors import flat_tensors
    from nnlab.viz import Line, LinePanel, line_panels

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x, y, x_test, y_test = flat_tensors(data, cfg.train_subset, run.device)
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(run.seed + 17))]
    common = dict(x=x, x_test=x_test, y_test=y_test, hidden=cfg.hidden, epochs=cfg.epochs,
                  batch_size=cfg.batch_size, lr=cfg.lr, seed=run.seed,
                  stop_when_fitted=True)  # fmt: skip
    tasks = {"true": {**common, "y": y}, "random": {**common, "y": shuffled}}
    results = train_runs(run, train_classifier, tasks, workers=cfg.workers, desc="labels")

    for name, r in results.items():
        for e in range(r["epochs"]):
            keys = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")
            run.log(e + 1, **{f"{name}_{k}": r[k][e] for k in keys})
    fitted = {n: r["train_accuracy"][-1] == 1.0 for n, r in results.items()}
    epochs = {n: r["epochs"] if fitted[n] else None for n, r in results.items()}
    chance = 1 / len(data.class_names)
    agreement = float((shuffled == y).double().mean())

    def curves(key: str) -> list[Line]:
        out = []
        for name, label in (("true", "true labels"), ("random", "random labels")):
            r = results[name]
            steps = list(range(1, r["epochs"] + 1))
            out.append(Line(steps, [100 * v for v in r[f"train_{key}"]] if key == "accuracy"
                            else r[f"train_{key}"], f"{label}, train"))  # fmt: skip
            out.append(Line(steps, [100 * v for v in r[f"test_{key}"]] if key == "accuracy"
                            else r[f"test_{key}"], f"{label}, test", "--"))  # fmt: skip
        return out

    shape = "-".join(str(v) for v in (x.shape[1], *cfg.hidden, len(data.class_names)))
    run.figure(
        "random_labels",
        line_panels(
            [
                LinePanel(curves("loss"), "loss", "cross-entropy (nats, log)", log=True),
                LinePanel(
                    curves("accuracy"),
                    "accuracy",
                    "accuracy (%)",
                    reference=(100 * chance, "chance"),
                ),
            ],  # fmt: skip
            title=f"{shape} MLP on {len(x):,} {data.name} images: true vs randomly shuffled "
            "training labels (test: true labels)",
        ),
        "Training (solid) and test (dashed) loss and accuracy per epoch; each training stops "
        "at the first epoch with 100% training accuracy.",
    )
    rnd, true = results["random"], results["true"]
    return {
        "dataset": cfg.dataset,
        "train_images": len(x),
        "labels_unchanged_by_shuffle": agreement,
        "random_train_accuracy": rnd["train_accuracy"][-1],
        "random_test_accuracy": rnd["test_accuracy"][-1],
        "true_train_accuracy": true["train_accuracy"][-1],
        "true_test_accuracy": true["test_accuracy"][-1],
        "chance": chance,
        "random_test_minus_chance_points": 100 * (rnd["test_accuracy"][-1] - chance),
        "epochs_to_fit_random": epochs["random"],
        "epochs_to_fit_true": epochs["true"],
        "epoch_ratio_random_over_true": epochs["random"] / epochs["true"]
        if epochs["random"] and epochs["true"]
        else None,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
