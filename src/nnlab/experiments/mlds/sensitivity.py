"""sensitivity: generalisation, input sensitivity and sharpness against the batch size (MLDS
HW1 1-3 "flatness vs generalization" part 2; Novak et al. 2018; Keskar et al. 2017).

The same MLP is trained from the same initial weights with each batch size (same Adam
learning rate, same epochs, so larger batches take fewer steps: that is the homework's
set-up). Each trained model is then measured on fixed examples, in eval mode:

- the homework's sensitivity: the Frobenius norm of ∂loss/∂input, per test example
  (‖∂ℓᵢ/∂xᵢ‖, averaged over the examples; `loss_gradient_norm`). Student code often takes the
  gradient of the *mean* loss of a batch instead: ‖∂(mean ℓ)/∂X‖_F = √(Σᵢ‖∂ℓᵢ/∂xᵢ‖²)/N, which
  shrinks like 1/√N with the number N of examples it is taken over, so its value says as
  much about N as about the model; it is recorded beside it (`loss_gradient_of_mean_norm`).
- Novak et al.'s sensitivity: the Frobenius norm of the Jacobian of the softmax output
  with respect to the input, ‖∂softmax(f(xᵢ))/∂xᵢ‖_F, averaged over the test examples
  (`jacobian_norm`; all examples in one `vmap`).
- Keskar et al.'s ε-sharpness of the training loss (on `sharpness_examples` training images):
  100 · (max over the box |zᵢ| ≤ ε(|θᵢ| + 1) of L(θ + z) − L(θ)) / (1 + L(θ)), the maximum
  approached by projected sign-gradient ascent (a lower bound).

Inputs are standardised pixels, so the gradients are per standardised input unit. The
summary gives each measure per batch size and its Spearman rank correlation with the batch
size and with the generalisation gap (test − train loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import torch

    from nnlab.runs.run import Run

MEASURES = ("loss_gradient_norm", "loss_gradient_of_mean_norm", "jacobian_norm", "sharpness")


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    hidden: tuple[int, ...] = param((128, 64), low=1, high=8_192)
    batch_sizes: tuple[int, ...] = param((32, 64, 128, 256, 512, 1024), low=1, high=1_000_000)
    lr: float = param(1e-3, low=0.0, low_open=True, help="Adam learning rate, every batch size")
    epochs: int = param(10, low=1, high=10_000)
    train_subset: int = param(10_000, low=0, high=10_000_000, help="training images (0: all)")
    sensitivity_examples: int = param(1_000, low=1, high=1_000_000, help="test images")
    sharpness_examples: int = param(2_000, low=1, high=10_000_000, help="training images")
    epsilon: float = param(1e-3, low=0.0, low_open=True, help="ε of the sharpness box")
    sharpness_steps: int = param(10, low=1, high=10_000, help="ascent steps in the box")
    workers: int = param(1, low=1, high=64, help="worker processes training the models")

    def check(self) -> None:
        if len(set(self.batch_sizes)) < 2 or len(set(self.batch_sizes)) != len(self.batch_sizes):
            raise ConfigError(
                "batch_sizes must list two or more different batch sizes to compare, got "
                f"{list(self.batch_sizes)}"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "hidden": (32,),
        "batch_sizes": (16, 32, 64, 128, 256),
        "epochs": 5,
        "lr": 3e-3,
        "train_subset": 0,
        "sensitivity_examples": 300,
        "sharpness_examples": 500,
        "sharpness_steps": 5,
    },  # fmt: skip
    "quick": {},
    "full": {
        "train_subset": 0,
        "epochs": 20,
        "batch_sizes": (16, 64, 256, 1024, 4096),
        "sensitivity_examples": 5_000,
        "sharpness_examples": 10_000,
    },  # fmt: skip
}


def train_and_measure(
    *, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
    hidden: tuple[int, ...], epochs: int, batch_size: int, lr: float, seed: int,
    sensitivity_examples: int, sharpness_examples: int, epsilon: float, sharpness_steps: int,
) -> dict:  # fmt: skip
    """One batch size: train, then the three measures (a `train_runs` task)."""
    import torch
    from torch import nn

    from nnlab.dynamics import (
        epsilon_sharpness,
        flat_parameters,
        input_jacobian,
        loss_input_gradients,
        loss_of_parameters,
        train_classifier,
    )
    from nnlab.models import MLP

    out = train_classifier(x=x, y=y, x_test=x_test, y_test=y_test, hidden=hidden, epochs=epochs,
                           batch_size=batch_size, lr=lr, seed=seed)  # fmt: skip
    model = MLP(x.shape[1], hidden, int(y.max()) + 1)
    model.load_state_dict(out["state"])
    model.eval()
    xs, ys = x_test[:sensitivity_examples], y_test[:sensitivity_examples]
    per_example = loss_input_gradients(model, xs, ys).flatten(1).norm(dim=1)
    jac = input_jacobian(nn.Sequential(model, nn.Softmax(dim=1)), xs).flatten(1).norm(dim=1)
    f = loss_of_parameters(model, x[:sharpness_examples], y[:sharpness_examples])
    with torch.no_grad():
        out |= {
            "loss_gradient_norm": float(per_example.mean()),
            "loss_gradient_of_mean_norm": float(per_example.square().sum().sqrt() / len(xs)),
            "jacobian_norm": float(jac.mean()),
        }
    out["sharpness"] = epsilon_sharpness(f, flat_parameters(model), epsilon, sharpness_steps)
    return out


def spearman(a, b) -> float | None:
    import numpy as np

    ra, rb = (np.argsort(np.argsort(v)).astype(float) for v in (a, b))
    return round(float(np.corrcoef(ra, rb)[0, 1]), 6) if ra.std() and rb.std() else None


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.data import load_dataset
    from nnlab.dynamics import train_runs
    from nnlab.training.tensors import flat_tensors
    from nnlab.viz import Line, LinePanel
    from nnlab.viz.dynamics import log_x_panels

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    x, y, x_test, y_test = flat_tensors(data, cfg.train_subset, run.device)
    sizes = sorted(cfg.batch_sizes)
    common = dict(x=x, y=y, x_test=x_test, y_test=y_test, hidden=cfg.hidden, epochs=cfg.epochs,
                  lr=cfg.lr, seed=run.seed, sensitivity_examples=cfg.sensitivity_examples,
                  sharpness_examples=cfg.sharpness_examples, epsilon=cfg.epsilon,
                  sharpness_steps=cfg.sharpness_steps)  # fmt: skip
    names = [f"batch{b:07d}" for b in sizes]
    tasks = {n: {**common, "batch_size": b} for n, b in zip(names, sizes, strict=True)}
    results = train_runs(run, train_and_measure, tasks, workers=cfg.workers, desc="batch sizes")

    keys = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")
    v = {k: np.array([results[n][k][-1] for n in names]) for k in keys}
    v |= {k: np.array([results[n][k] for n in names]) for k in MEASURES}
    for i, b in enumerate(sizes):
        run.log(i, batch_size=b, **{k: float(v[k][i]) for k in (*keys, *MEASURES)})
    gap = v["test_loss"] - v["train_loss"]

    def pair(key: str, scale: float = 1.0) -> list[Line]:
        return [Line(sizes, (scale * v[f"{s}_{key}"]).tolist(), s, st, 4)
                for s, st in (("train", "o-"), ("test", "s--"))]  # fmt: skip

    shape = "-".join(str(h) for h in (x.shape[1], *cfg.hidden, len(data.class_names)))
    setup = f"{shape} MLP, {len(x):,} {data.name} images, {cfg.epochs} epochs, Adam lr {cfg.lr:g}"
    run.figure(
        "generalization",
        log_x_panels(
            [
                LinePanel(
                    pair("loss"), "loss after training", "cross-entropy (nats, log)", log=True
                ),
                LinePanel(pair("accuracy", 100), "accuracy after training", "accuracy (%)"),
            ],  # fmt: skip
            title=f"Batch size against generalisation: {setup}",
            xlabel="batch size (log scale)",
            ticks=sizes,
        ),
        "Training (solid) and test (dashed) loss and accuracy of the model trained with each "
        "batch size for the same epochs (so larger batches take fewer steps).",
    )
    n_sens = min(cfg.sensitivity_examples, len(x_test))
    run.figure(
        "sensitivity",
        log_x_panels(
            [
                LinePanel(
                    [Line(sizes, v["loss_gradient_norm"].tolist(), None, "o-", 4)],
                    "homework: ‖∂loss/∂input‖_F",
                    "nats per standardised pixel unit",
                ),
                LinePanel(
                    [Line(sizes, v["jacobian_norm"].tolist(), None, "o-", 4)],
                    "Novak et al.: ‖∂softmax/∂input‖_F",
                    "probability per standardised pixel unit",
                ),
                LinePanel(
                    [Line(sizes, v["sharpness"].tolist(), None, "o-", 4)],
                    f"Keskar et al.: ε-sharpness (ε = {cfg.epsilon:g})",
                    "loss rise in the ε-box (% of 1 + L)",
                ),
            ],  # fmt: skip
            title=f"Sensitivity and sharpness against batch size: {setup}",
            xlabel="batch size (log scale)",
            ticks=sizes,
        ),
        f"Per-example gradient and Jacobian norms averaged over {n_sens:,} test images; "
        f"ε-sharpness of the training loss on {min(cfg.sharpness_examples, len(x)):,} "
        "training images (a lower bound: sign-gradient ascent in the box).",
    )
    out: dict[str, Any] = {"dataset": cfg.dataset, "train_images": len(x), "batch_sizes": sizes}
    out |= {k: [round(float(a), 6) for a in v[k]] for k in (*keys, *MEASURES)}
    out["generalization_gap"] = [round(float(a), 6) for a in gap]
    for k in ("test_accuracy", "generalization_gap", *MEASURES):
        out[f"spearman_{k}_vs_batch_size"] = spearman(gap if k == "generalization_gap" else v[k],
                                                      sizes)  # fmt: skip
    for k in MEASURES:
        out[f"spearman_{k}_vs_generalization_gap"] = spearman(v[k], gap)
    out["test_accuracy_smallest_minus_largest_batch"] = float(
        v["test_accuracy"][0] - v["test_accuracy"][-1]
    )
    return out


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
