"""Classifier training: `train_epoch` is the one batch loop (hooks for augmentation, a weight
penalty and a per-step callback). Through a run (resumable, logged, checkpointed, with a progress
bar): `fit_classifier` trains one model, `fit_classifiers` several models on the same batches,
and `fit_variants` runs one training per variant in turn. `fit_validated` trains with validation
after every epoch and optional early stopping; `evaluate` measures loss and accuracy.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnlab.training.distributed import World, world
from nnlab.training.optim import (
    optimizer_and_schedule,
    restore_states,
    saved_states,
)
from nnlab.training.precision import autocast, resolve
from nnlab.training.tensors import batches, steps_per_epoch

if TYPE_CHECKING:
    from nnlab.training.settings import CNNRecipe


def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 1024,
) -> tuple[float, float, torch.Tensor]:
    """(mean cross-entropy, accuracy, predicted labels) of a classifier in eval mode."""
    model.eval()
    total_loss = 0.0
    predictions = []
    for idx in batches(len(x), batch_size):
        logits = model(x[idx])
        total_loss += F.cross_entropy(logits, y[idx], reduction="sum").item()
        predictions.append(logits.argmax(dim=1))
    predicted = torch.cat(predictions)
    accuracy = (predicted == y).double().mean().item()
    return total_loss / len(x), accuracy, predicted.cpu()


def report_classifier(
    run,
    model: nn.Module,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    class_names: Sequence[str],
    title: str,
) -> tuple[dict[str, float], torch.Tensor, np.ndarray]:
    """Evaluates a classifier trained through `run` on the test set and draws the run's
    learning curves and the test confusion matrix, titled `title`. Returns the test and last
    epoch's training loss and accuracy (for the summary), the test predictions and the
    confusion matrix."""
    from nnlab.viz import confusion_matrix, confusion_matrix_figure, learning_curves

    test_loss, test_acc, predicted = evaluate(model, x_test, y_test)
    cm = confusion_matrix(y_test.cpu().numpy(), predicted.numpy(), len(class_names))
    history = run.history()
    run.figure(
        "learning_curves",
        learning_curves(history, title=title, xlabel="epoch"),
        "Training and test cross-entropy and accuracy per epoch.",
    )
    run.figure(
        "confusion_matrix",
        confusion_matrix_figure(cm, class_names, title=f"{title} (test)"),
        "Test confusion matrix: counts (left) and row-normalised recall (right).",
    )
    last = history[-1]
    numbers = {
        "test_accuracy": test_acc,
        "test_loss": test_loss,
        "train_accuracy": last["train_accuracy"],
        "train_loss": last["train_loss"],
    }
    return numbers, predicted, cm


def topk_correct(logits: torch.Tensor, target: torch.Tensor, k: int) -> torch.Tensor:
    """Bool per row: is the target among the k largest logits (k capped at the class count)."""
    top = logits.topk(min(k, logits.shape[1]), dim=1).indices
    return (top == target[:, None]).any(dim=1)


def class_probability(
    model: nn.Module, cls: int = 1, mean: float = 0.0, std: float = 1.0
) -> Callable[[np.ndarray], np.ndarray]:
    """P(class `cls`) of a classifier as a function of raw NumPy inputs, which it
    standardises with `mean` and `std` as the model's training data were (eval mode, no
    gradients), e.g. for `nnlab.viz.predict_grid`."""
    device = next(model.parameters()).device

    @torch.no_grad()
    def probability(x: np.ndarray) -> np.ndarray:
        model.eval()
        z = torch.as_tensor((x - mean) / std, dtype=torch.float32, device=device)
        return torch.softmax(model(z), dim=1)[:, cls].cpu().numpy()

    return probability


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler | None,
    x: torch.Tensor,
    y: torch.Tensor,
    order: Iterable[torch.Tensor],
    *,
    label_smoothing: float = 0.0,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    penalty: Callable[[nn.Module], torch.Tensor | None] | None = None,
    on_step: Callable[[torch.Tensor], None] | None = None,
    world: World | None = None,
    precision: str = "fp32",
) -> tuple[float, float]:
    """One pass of cross-entropy training over the index batches `order` (e.g.
    `batches(len(x), batch_size, generator)`), the schedule (if any) stepped per batch.

    Data-parallel with a `world` of several ranks (`model` wrapped by `world.wrap`): each rank
    trains on its slice (`World.part`) of every batch, transformed whole first so that random
    augmentations draw as in one process, and weighs its loss by its share of the batch, so
    that DDP's average is the whole batch's gradient; the returned numbers cover all ranks.

    Hooks: `transform(x_batch)` changes a batch before the model sees it (augmentation);
    `penalty(model)` is added to the loss (a weight penalty; None adds nothing);
    `on_step(loss)` is called after every step with the detached loss that was minimised.
    `precision` ("fp32" or "bf16", see `nnlab.training.precision`) is the autocast the
    forward pass runs under; the logits are cast to float32 before the loss.

    Returns the mean training cross-entropy (without label smoothing or penalty, so it
    compares with a test loss) and the training accuracy, both measured on the fly in train
    mode over the batches of `order`, which should cover `x` once.
    """
    w = world or World()
    model.train()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for idx in order:
        inputs, targets = x[idx], y[idx]
        if transform is not None:
            inputs = transform(inputs)
        inputs, targets = w.part(inputs), w.part(targets)
        with autocast(precision, x.device):
            logits = model(inputs)
        logits = logits.float()
        if w.size == 1:
            cross_entropy = F.cross_entropy(logits, targets, label_smoothing=label_smoothing)
        else:  # this slice's sum over the batch's mean size per rank (0 for an empty slice)
            cross_entropy = F.cross_entropy(
                logits, targets, label_smoothing=label_smoothing, reduction="sum"
            ) * (w.size / len(idx))
        loss = cross_entropy
        if penalty is not None and (extra := penalty(model)) is not None:
            loss = loss + extra
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        if label_smoothing:  # the loss minimised is not the plain cross-entropy
            loss_sum += F.cross_entropy(logits.detach(), targets, reduction="sum")
        else:
            loss_sum += cross_entropy.detach() * len(idx) / w.size
        correct += (logits.argmax(1) == targets).sum()
        if on_step is not None:
            on_step(loss.detach())
    return w.total(loss_sum.item()) / len(x), w.total(correct.item()) / len(x)


def fit_validated(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    penalty: Callable[[nn.Module], torch.Tensor | None] | None = None,
    patience: int | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[int, int]:
    """Train for up to `epochs` epochs (no schedule; batches shuffled with `generator`,
    `penalty` added to the loss) and after each measure the training and validation loss and
    accuracy in eval mode on the whole sets, passed to `on_epoch(epoch, metrics)` as
    `train_loss`, `val_loss`, `train_accuracy`, `val_accuracy`.

    Early stopping: with `patience`, stop once the validation loss has not improved for
    `patience` epochs and restore the weights of the epoch with the lowest one. Returns
    (the epoch with the lowest validation loss, the number of epochs trained)."""
    best_loss, best_epoch, best_state = math.inf, 0, None
    for epoch in range(1, epochs + 1):
        order = batches(len(train[0]), batch_size, generator)
        train_epoch(model, optimizer, None, *train, order, penalty=penalty)
        train_loss, train_acc, _ = evaluate(model, *train)
        val_loss, val_acc, _ = evaluate(model, *val)
        if on_epoch is not None:
            on_epoch(
                epoch,
                {
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "train_accuracy": train_acc,
                    "val_accuracy": val_acc,
                },
            )
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            if patience is not None:
                best_state = copy.deepcopy(model.state_dict())
        elif patience is not None and epoch - best_epoch >= patience:
            model.load_state_dict(best_state)
            return best_epoch, epoch
    if patience is not None:
        model.load_state_dict(best_state)
    return best_epoch, epochs


def fit_classifier(
    run,
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    evaluation: tuple[torch.Tensor, torch.Tensor],
    *,
    optimizer: str,
    lr: float,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    epochs: int,
    batch_size: int,
    label_smoothing: float = 0.0,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    generators: Mapping[str, torch.Generator] | None = None,
    eval_name: str = "test",
    eval_batch_size: int = 1024,
    desc: str = "",
    extra_state: dict | None = None,
    precision: str = "fp32",
) -> dict:
    """Train `model` for `epochs` through a run, with `optimizer` (a name, see
    `make_optimizer`) and `schedule` (see `make_schedule`) over shuffled batches.

    Resumes from the run's checkpoint; logs `train_loss`, `train_accuracy`, `<eval_name>_loss`
    and `<eval_name>_accuracy` (the `evaluation` split, evaluated in batches of
    `eval_batch_size`) per epoch; checkpoints after each epoch; shows a progress bar; records
    the mean seconds per epoch. `transform` changes each training batch (see `train_epoch`);
    the states of the `generators` it draws from are checkpointed and restored with the rest.
    `extra_state` is saved with every checkpoint; the restored (or given) one is returned.
    `precision` ("auto", "fp32", "bf16"; `nnlab.training.precision.resolve`) chooses the
    autocast of the training steps; the one used is noted in the run's summary.

    Data-parallel under torchrun (`nnlab.training.distributed.world()`): every rank draws the same
    batches and trains on its slice of each (see `train_epoch`), and evaluates the whole
    `evaluation` split with the same weights.

        fit_classifier(run, model, (x, y), (x_test, y_test), optimizer="adamw", lr=1e-3,
                       epochs=5, batch_size=128)
    """
    x_train, y_train = train
    precision = resolve(precision, x_train.device)
    run.note("precision", precision)
    steps = steps_per_epoch(len(x_train), batch_size)
    opt, sched = optimizer_and_schedule(
        model, optimizer, lr, weight_decay, schedule, epochs * steps, run.device
    )
    shuffle = torch.Generator().manual_seed(run.seed)
    generators = dict(generators or {})
    extra = dict(extra_state or {})
    start_epoch = 0
    state = run.load_checkpoint()
    parts = {"model": model, "optimizer": opt, "schedule": sched, "shuffle": shuffle, **generators}
    if state is not None:
        restore_states(state, **parts)
        start_epoch = state["epoch"]
        extra = {k: v for k, v in state.items() if k not in parts and k != "epoch"}

    w = world()
    trained = w.wrap(model)
    bar = run.bar(total=epochs * steps, initial=start_epoch * steps, desc=desc, unit="batch")
    epoch_seconds = []
    for epoch in range(start_epoch, epochs):
        started = time.perf_counter()
        train_loss, train_acc = train_epoch(
            trained,
            opt,
            sched,
            x_train,
            y_train,
            batches(len(x_train), batch_size, shuffle),
            label_smoothing=label_smoothing,
            transform=transform,
            on_step=lambda loss: bar.update(1),
            world=w,
            precision=precision,
        )
        epoch_seconds.append(time.perf_counter() - started)
        eval_loss, eval_acc, _ = evaluate(model, *evaluation, batch_size=eval_batch_size)
        run.log(
            epoch + 1,
            train_loss=train_loss,
            train_accuracy=train_acc,
            **{f"{eval_name}_loss": eval_loss, f"{eval_name}_accuracy": eval_acc},
        )
        bar.set_postfix({f"{eval_name}_acc": f"{eval_acc:.4f}"})
        run.save_checkpoint({**saved_states(**parts), **extra, "epoch": epoch + 1})
    bar.close()
    if epoch_seconds:
        run.record_time("train_seconds_per_epoch", sum(epoch_seconds) / len(epoch_seconds))
    return extra


def fit_classifiers(
    run,
    models: Mapping[str, nn.Module],
    train: tuple[torch.Tensor, torch.Tensor],
    evaluation: tuple[torch.Tensor, torch.Tensor],
    *,
    optimizer: str,
    lr: float,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    epochs: int,
    batch_size: int,
    label_smoothing: float = 0.0,
    eval_name: str = "test",
    desc: str = "",
    precision: str = "fp32",
) -> None:
    """Train several classifiers side by side through a run: every epoch each model trains on
    the same shuffled batches in the same order, each with its own optimizer and schedule of
    the same kind, so the models are the only difference.

    Like `fit_classifier`: resumes from the run's checkpoint, logs `<name>_train_loss`,
    `<name>_<eval_name>_loss`, `<name>_train_accuracy` and `<name>_<eval_name>_accuracy` of
    every model per epoch (one line per epoch), checkpoints after each epoch, shows one
    progress bar and records each model's mean seconds per epoch; data-parallel and of a
    `precision` like it.

        fit_classifiers(run, {"fc": fc, "cnn": cnn}, (x, y), (x_val, y_val),
                        optimizer="adamw", lr=2e-3, epochs=8, batch_size=128, eval_name="val")
    """
    x_train, y_train = train
    precision = resolve(precision, x_train.device)
    run.note("precision", precision)
    steps = steps_per_epoch(len(x_train), batch_size)
    optimizers, schedules = {}, {}
    for name, model in models.items():
        optimizers[name], schedules[name] = optimizer_and_schedule(
            model, optimizer, lr, weight_decay, schedule, epochs * steps, run.device
        )
    shuffle = torch.Generator().manual_seed(run.seed)
    start_epoch = 0
    state = run.load_checkpoint()
    if state is not None:
        for name, model in models.items():
            model.load_state_dict(state["models"][name])
            optimizers[name].load_state_dict(state["optimizers"][name])
            schedules[name].load_state_dict(state["schedules"][name])
        shuffle.set_state(state["shuffle"])
        start_epoch = state["epoch"]

    w = world()
    trained = {name: w.wrap(model) for name, model in models.items()}
    per_epoch = steps * len(models)
    bar = run.bar(
        total=epochs * per_epoch, initial=start_epoch * per_epoch, desc=desc, unit="batch"
    )
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for epoch in range(start_epoch, epochs):
        order = list(batches(len(x_train), batch_size, shuffle))  # the same for every model
        metrics: dict[str, float] = {}
        for name, model in models.items():
            started = time.perf_counter()
            train_loss, train_acc = train_epoch(
                trained[name],
                optimizers[name],
                schedules[name],
                x_train,
                y_train,
                order,
                label_smoothing=label_smoothing,
                on_step=lambda loss: bar.update(1),
                world=w,
                precision=precision,
            )
            seconds[name].append(time.perf_counter() - started)
            eval_loss, eval_acc, _ = evaluate(model, *evaluation)
            metrics[f"{name}_train_loss"] = train_loss
            metrics[f"{name}_{eval_name}_loss"] = eval_loss
            metrics[f"{name}_train_accuracy"] = train_acc
            metrics[f"{name}_{eval_name}_accuracy"] = eval_acc
        run.log(epoch + 1, **metrics)
        bar.set_postfix({name: f"{metrics[f'{name}_{eval_name}_accuracy']:.3f}" for name in models})
        run.save_checkpoint(
            {
                "models": {name: m.state_dict() for name, m in models.items()},
                "optimizers": {name: o.state_dict() for name, o in optimizers.items()},
                "schedules": {name: s.state_dict() for name, s in schedules.items()},
                "shuffle": shuffle.get_state(),
                "epoch": epoch + 1,
            }
        )
    bar.close()
    for name, values in seconds.items():
        if values:
            run.record_time(f"{name}_train_seconds_per_epoch", sum(values) / len(values))


def fit_variants(
    run,
    names: Sequence[str],
    fit: Callable[[str, Any], dict],
    *,
    steps: int,
    desc: str = "",
    unit: str = "batch",
) -> tuple[list[dict], dict[str, float]]:
    """Train one variant after another through a run: `fit(name, bar)` trains variant `name`
    (advancing the progress bar by `steps`) and returns its result, a dict of numbers,
    strings and tensors. The results so far are checkpointed after each variant, so a
    resumed run starts at the first variant not done. Returns the results in the order of
    `names` and the seconds each variant took."""
    results: list[dict] = []
    seconds: dict[str, float] = {}
    state = run.load_checkpoint()
    if state is not None:
        results, seconds = state["results"], state["seconds"]
    bar = run.bar(total=len(names) * steps, initial=len(results) * steps, desc=desc, unit=unit)
    for name in names[len(results) :]:
        started = time.perf_counter()
        results.append(fit(name, bar))
        seconds[name] = time.perf_counter() - started
        run.save_checkpoint({"results": results, "seconds": seconds})
    bar.close()
    return results, seconds


def train_by_recipe(
    rec: CNNRecipe,
    build: Callable[[], nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    desc: str,
    progress: bool,
    label_smoothing: float = 0.0,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> nn.Module:
    """The model `build()` makes, trained on (x, y) by a shipped part's fixed recipe on one CPU
    thread from `rec.seed`, the global RNG restored after (`nnlab.data.trained`)."""
    from tqdm import tqdm

    from nnlab.training.optim import make_optimizer, make_schedule
    from nnlab.training.threads import torch_threads

    steps = steps_per_epoch(len(x), rec.batch_size)
    bar = tqdm(total=rec.epochs * steps, desc=desc, unit="batch", disable=not progress)
    with torch_threads(1), torch.random.fork_rng(devices=[]):
        torch.manual_seed(rec.seed)
        model = build()
        opt = make_optimizer(rec.optimizer, model.parameters(), rec.lr, rec.weight_decay)
        schedule = make_schedule(rec.schedule, opt, rec.epochs * steps)
        shuffle = torch.Generator().manual_seed(rec.seed)
        for _ in range(rec.epochs):
            train_epoch(
                model,
                opt,
                schedule,
                x,
                y,
                batches(len(x), rec.batch_size, shuffle),
                label_smoothing=label_smoothing,
                transform=transform,
                on_step=lambda _: bar.update(1),
            )
    bar.close()
    return model
