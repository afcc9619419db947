"""mlp-classifier: a PyTorch MLP on digits, MNIST or Fashion-MNIST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import Activation, param
from nnlab.experiments import Experiment, Teaching
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


EXPERIMENT = Experiment(
    name="mlp-classifier",
    description="PyTorch MLP classifier with curves, confusion matrix and confused pairs",
    reproduces="Fashion-MNIST benchmark MLPs (Xiao et al. 2017); seed 001 Problem 4",
    config=Config,
    presets=PRESETS,
    run=run,
    headline="test_accuracy",
    tour={"dataset": "digits"},
    tour_mnist={"dataset": "mnist", "epochs": 5},
    data_parallel=True,
    teaching=Teaching(
        question=(
            "Seed 001 Problem 4 and the Fashion-MNIST benchmark (Xiao et al. 2017): how well "
            "does a plain fully-connected network classify images, and which classes does it "
            "confuse?"
        ),
        answer=(
            "A {parameters:,}-parameter MLP trained for {epochs} epochs on {dataset} gets "
            "{test_accuracy:.1%} of the test images right (training accuracy "
            "{train_accuracy:.1%}, test loss {test_loss:.3f}). Its most confused pair: "
            "{most_confused[0][true]} read as {most_confused[0][predicted]} "
            "({most_confused[0][count]} times)."
        ),
        figures={
            "learning_curves": "Training and test loss per epoch: a widening gap is over-fitting.",
            "confusion_matrix": (
                "The off-diagonal cells are the mistakes; the largest name the classes that "
                "look alike."
            ),
        },
        try_next=(
            (
                "nnlab run mlp-classifier --set dataset=fashion-mnist",
                "clothes are harder than digits: shirts, pullovers and coats get confused",
            ),
            (
                "nnlab run mlp-classifier --set hidden=32 --set epochs=20",
                "a narrow network: fewer parameters, lower accuracy",
            ),
            (
                "nnlab run mlp-classifier --set dropout=0.5",
                "dropout narrows the train-test gap",
            ),
        ),
    ),
)
