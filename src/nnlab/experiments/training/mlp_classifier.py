"""mlp-classifier: a PyTorch MLP on digits, MNIST or Fashion-MNIST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import Activation, param
from nnlab.experiments import Experiment
from nnlab.training.settings import ClassifierTraining, fit_settings

if TYPE_CHECKING:
    from nnlab.runs.run import Run


@dataclass
class Config(ClassifierTraining):
    dataset: Literal["digits", "mnist", "fashion-mnist", "kmnist"] = "mnist"
    hidden: tuple[int, ...] = param(
        (512, 256), low=1, high=8_192, help="hidden layer widths, e.g. 512,256"
    )
    activation: Activation = "relu"
    dropout: float = param(0.2, low=0.0, high=0.95, help="dropout after each hidden layer")
    train_subset: int = param(
        0, low=0, high=10_000_000, help="use only this many training images (0: all)"
    )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"dataset": "digits", "hidden": (64,), "epochs": 3, "batch_size": 64, "lr": 1e-2},
    "quick": {},
    "full": {"hidden": (1024, 512), "epochs": 40, "dropout": 0.3},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    from nnlab.data import load_dataset
    from nnlab.models import MLP
    from nnlab.training.classifier import fit_classifier, report_classifier
    from nnlab.training.tensors import flat_tensors
    from nnlab.viz import most_confused_pairs

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    device = run.device
    x_train, y_train, x_test, y_test = flat_tensors(data, cfg.train_subset, device)

    model = MLP(
        x_train.shape[1], cfg.hidden, len(data.class_names), cfg.activation, cfg.dropout
    ).to(device)
    fit_classifier(
        run,
        model,
        (x_train, y_train),
        (x_test, y_test),
        **fit_settings(cfg),
        desc=f"{cfg.dataset} MLP",
    )

    numbers, _, cm = report_classifier(
        run, model, x_test, y_test, data.class_names, f"MLP on {data.name}"
    )
    return {
        "dataset": cfg.dataset,
        **numbers,
        "epochs": cfg.epochs,
        "parameters": sum(p.numel() for p in model.parameters()),
        "most_confused": most_confused_pairs(cm, data.class_names, k=3),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
