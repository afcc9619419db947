"""optimizers: mini-batch SGD, momentum, Adagrad, RMSprop and Adam on one MLP (seed 003).

The seed calls mini-batch SGD "the staple diet" and names Adagrad and Adam as the methods
that adapt the learning rate to each parameter. Here every optimizer trains the same MLP
on the same data for the same number of epochs, from the *same initial weights* (one
``state_dict`` copied into each model; its SHA-256 is in the summary) and with the same
batch order (a generator seeded identically), so the optimizer is the only difference. No
learning-rate schedule, no weight decay, no dropout.

Default learning rates (``DEFAULT_LRS``; override with ``--set lrs=...``, one per
optimizer in the order of ``optimizers``) are the best of a sweep on Fashion-MNIST
(784-256-10, all 60 000 training images, batch 64, 5 epochs, seed 0; test accuracy %):

    lr         0.3    0.1    0.03   0.01   0.003  0.001  0.0003
    sgd        84.5  [86.8]  86.7   84.8   82.3
    momentum          79.0   86.4  [88.1]  87.1
    adagrad           86.7   88.1  [88.2]  86.5
    rmsprop                         77.1   85.8   87.1  [87.5]
    adam                            82.4   86.7  [87.9]  87.9

Plain SGD needs a large step (0.1); with momentum 0.9 the effective step lr / (1 - 0.9)
of the best setting, 0.1, is the same as plain SGD's. Adagrad's best is PyTorch's default
0.01, Adam's is Kingma & Ba's 0.001; RMSprop is best at 0.0003 (its PyTorch default 0.01
gives 77%). ``nesterov`` and ``adamw`` (not in the sweep) take momentum's and Adam's.

Logged metrics are ``<optimizer>_train_loss`` (running mean over the epoch's batches, as
trained), ``<optimizer>_test_loss`` and ``<optimizer>_test_accuracy`` (after each epoch),
so the report's generic curves put all optimizers in one panel per metric. Final train
accuracies are measured after training on the whole training set (eval mode). An
optimizer whose loss becomes NaN or infinite stops there and is marked ``diverged``; the
others still run.
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import OPTIMIZERS, ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import torch

    from nnlab.runs.run import Run

DEFAULT_LRS: dict[str, float] = {
    "sgd": 0.1,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.01,
    "rmsprop": 0.0003,
    "adam": 0.001,
    "adamw": 0.001,
}
LABELS = {
    "sgd": "SGD",
    "momentum": "SGD + momentum",
    "nesterov": "Nesterov",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
}


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist", "kmnist"] = "fashion-mnist"
    optimizers: tuple[str, ...] = param(
        ("sgd", "momentum", "adagrad", "rmsprop", "adam"),
        help=f"optimizers to compare, from {', '.join(OPTIMIZERS)}",
    )
    lrs: tuple[float, ...] = param(
        (),
        low=0.0,
        low_open=True,
        help="one learning rate per optimizer (empty: each optimizer's default, "
        + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LRS.items())
        + ")",
    )
    hidden: tuple[int, ...] = param(
        (256,), low=1, high=8_192, help="hidden layer widths, e.g. 256,128"
    )
    batch_size: int = param(64, low=1, high=1_000_000)
    epochs: int = param(10, low=1, high=10_000)
    train_subset: int = param(
        0, low=0, high=10_000_000, help="use only this many training images (0: all)"
    )
    smoothing: int = param(
        100, low=1, high=100_000, help="moving-average window (iterations) of the curve"
    )
    threads: int = param(
        1, low=0, high=256, help="torch CPU threads while training (0: torch's default)"
    )

    def check(self) -> None:
        if not self.optimizers:
            raise ConfigError("setting 'optimizers' is empty; name at least one optimizer")
        unknown = [o for o in self.optimizers if o not in OPTIMIZERS]
        if unknown:
            raise ConfigError(
                f"unknown optimizer(s) {', '.join(unknown)} in 'optimizers'; "
                f"choose from {', '.join(OPTIMIZERS)}"
            )
        if len(set(self.optimizers)) != len(self.optimizers):
            raise ConfigError("setting 'optimizers' names an optimizer twice; list each once")
        if self.lrs and len(self.lrs) != len(self.optimizers):
            raise ConfigError(
                f"setting 'lrs' has {len(self.lrs)} value(s) for {len(self.optimizers)} "
                "optimizers; give one learning rate per optimizer (or none for the defaults)"
            )

    def learning_rates(self) -> dict[str, float]:
        lrs = self.lrs or tuple(DEFAULT_LRS[o] for o in self.optimizers)
        return dict(zip(self.optimizers, lrs, strict=True))


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"dataset": "digits", "hidden": (64,), "epochs": 4, "batch_size": 32, "smoothing": 10},
    "quick": {},
    "full": {"hidden": (1000, 1000), "epochs": 30, "batch_size": 128},
}


def weights_fingerprint(model: torch.nn.Module) -> str:
    """SHA-256 (first 16 hex digits) of all parameters' bytes, in order."""
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def train_optimizer(
    name: str,
    lr: float,
    init: torch.nn.Module,
    data: tuple[torch.Tensor, ...],
    cfg: Config,
    run: Run,
    bar: Any,
) -> dict[str, Any]:
    """Train a copy of `init` with optimizer `name`; log each epoch; return final numbers
    and the per-iteration training losses."""
    import torch

    from nnlab.training.classifier import evaluate, steps_per_epoch, train_epoch
    from nnlab.training.optim import make_optimizer
    from nnlab.training.tensors import batches

    x_train, y_train, x_test, y_test = data
    model = copy.deepcopy(init)
    fingerprint = weights_fingerprint(model)
    optimizer = make_optimizer(name, model.parameters(), lr, 0.0, run.device)
    shuffle = torch.Generator().manual_seed(run.seed)  # the same batches for every optimizer
    steps = steps_per_epoch(len(x_train), cfg.batch_size)
    losses: list[torch.Tensor] = []
    sizes = torch.tensor([len(i) for i in torch.arange(len(x_train)).split(cfg.batch_size)])
    diverged_epoch = None
    for epoch in range(cfg.epochs):
        order = batches(len(x_train), cfg.batch_size, shuffle)
        train_epoch(model, optimizer, None, x_train, y_train, order, on_step=losses.append)
        bar.update(steps)
        epoch_losses = torch.stack(losses[-steps:]).cpu()
        if not torch.isfinite(epoch_losses).all():
            diverged_epoch = epoch + 1
            bar.update((cfg.epochs - epoch - 1) * steps)
            break
        # mean over the epoch's batches, weighted by batch size
        train_loss = float((epoch_losses * sizes).sum() / sizes.sum())
        test_loss, test_acc, _ = evaluate(model, x_test, y_test)
        run.log(
            epoch + 1,
            **{
                f"{name}_train_loss": train_loss,
                f"{name}_test_loss": test_loss,
                f"{name}_test_accuracy": test_acc,
            },
        )
        bar.set_postfix(opt=name, test_acc=f"{test_acc:.4f}")
    train_loss, train_acc, _ = evaluate(model, x_train, y_train)
    test_loss, test_acc, _ = evaluate(model, x_test, y_test)
    return {
        "optimizer": name,
        "lr": lr,
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "train_loss": train_loss if math.isfinite(train_loss) else None,
        "test_loss": test_loss if math.isfinite(test_loss) else None,
        "diverged": diverged_epoch is not None,
        "diverged_epoch": diverged_epoch,
        "initial_weights_sha256": fingerprint,
        "step_losses": torch.stack(losses).cpu(),
    }


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import torch

    from nnlab.data import load_dataset
    from nnlab.models import MLP
    from nnlab.training.classifier import fit_variants, steps_per_epoch
    from nnlab.training.tensors import flat_tensors
    from nnlab.training.threads import torch_threads
    from nnlab.viz import step_and_epoch_curves, text_figure, text_table

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    device = run.device
    x_train, y_train, x_test, y_test = flat_tensors(data, cfg.train_subset, device)
    lrs = cfg.learning_rates()

    # one initialisation, copied into every optimizer's model
    torch.manual_seed(run.seed)
    init = MLP(x_train.shape[1], cfg.hidden, len(data.class_names)).to(device)

    steps = steps_per_epoch(len(x_train), cfg.batch_size)
    data_tensors = (x_train, y_train, x_test, y_test)
    with torch_threads(cfg.threads):
        results, seconds = fit_variants(
            run,
            cfg.optimizers,
            lambda name, bar: train_optimizer(name, lrs[name], init, data_tensors, cfg, run, bar),
            steps=cfg.epochs * steps,
            desc=f"{data.name} optimizers",
        )
    for name, s in seconds.items():
        run.record_time(f"train_{name}_seconds_per_epoch", s / cfg.epochs)

    history = run.history()
    title = (
        f"Optimizers on {data.name}: MLP {x_train.shape[1]}-"
        + "-".join(map(str, cfg.hidden))
        + f"-{len(data.class_names)}, batch {cfg.batch_size}, same initial weights"
    )
    run.figure(
        "learning_curves",
        step_and_epoch_curves(
            {r["optimizer"]: r["step_losses"].numpy() for r in results},
            history,
            steps_per_epoch=steps,
            window=cfg.smoothing,
            title=title,
            labels={
                r["optimizer"]: f"{LABELS.get(r['optimizer'], r['optimizer'])} (lr {r['lr']:g})"
                for r in results
            },
        ),
        "Left: training loss of every mini-batch, smoothed by a moving average, against "
        "epochs. Middle: training loss per epoch (mean over the epoch's batches, solid) and "
        "test loss after each epoch (dashed). Right: test accuracy after each epoch. Every "
        "optimizer starts from the same weights and sees the same batches.",
    )
    ranked = sorted(results, key=lambda r: -r["test_accuracy"])  # stable: ties keep order
    rows = [
        (
            LABELS.get(r["optimizer"], r["optimizer"]),
            f"{r['lr']:g}",
            f"{100 * r['train_accuracy']:.2f}",
            f"{100 * r['test_accuracy']:.2f}",
            "diverged" if r["diverged"] else f"{r['train_loss']:.4f}",
            "-" if r["test_loss"] is None else f"{r['test_loss']:.4f}",
        )
        for r in results
    ]
    lines = text_table(
        ("optimizer", "lr", "train acc %", "test acc %", "train loss", "test loss"), rows
    )
    lines += [
        "",
        f"best on test: {LABELS.get(ranked[0]['optimizer'])} "
        f"({100 * ranked[0]['test_accuracy']:.2f}%); "
        f"every model started from weights {results[0]['initial_weights_sha256']}",
    ]
    run.figure(
        "accuracy_table",
        text_figure(lines, f"Final accuracies after {cfg.epochs} epochs on {data.name}"),
        "Accuracy and loss of each optimizer after the last epoch, measured on the whole "
        "training set and the test set (eval mode).",
    )
    fingerprints = {r["initial_weights_sha256"] for r in results}
    table = [{k: v for k, v in r.items() if k != "step_losses"} for r in results]
    return {
        "dataset": cfg.dataset,
        "best_optimizer": ranked[0]["optimizer"],
        "best_test_accuracy": ranked[0]["test_accuracy"],
        "ranking_by_test_accuracy": [r["optimizer"] for r in ranked],
        "results": table,
        **{f"test_accuracy_{r['optimizer']}": r["test_accuracy"] for r in results},
        **{f"train_accuracy_{r['optimizer']}": r["train_accuracy"] for r in results},
        "same_initial_weights": len(fingerprints) == 1,
        "initial_weights_sha256": results[0]["initial_weights_sha256"],
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "hidden": list(cfg.hidden),
        "parameters": sum(p.numel() for p in init.parameters()),
        "n_train": len(x_train),
        "n_test": len(x_test),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
