"""Small PyTorch training pieces shared by the experiments: batching, optimizers, evaluation."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from nnlab.choices import OPTIMIZERS, SCHEDULES


def batches(
    n: int,
    batch_size: int,
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """Index tensors covering range(n) in batches (shuffled when a generator is given)."""
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    yield from order.split(batch_size)


def make_optimizer(
    name: str, params, lr: float, weight_decay: float = 0.0, device: torch.device | None = None
) -> torch.optim.Optimizer:
    """An optimizer by name; fused implementations where PyTorch has them."""
    fused = {"fused": True} if device is None or device.type in ("cpu", "cuda") else {}
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, **fused)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=0.9,
            nesterov=name == "nesterov",
            weight_decay=weight_decay,
            **fused,
        )
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, **fused)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, **fused)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def make_schedule(
    name: str,
    optimizer: torch.optim.Optimizer,
    total_steps: int,
) -> torch.optim.lr_scheduler.LRScheduler:
    """Learning-rate schedule stepped once per batch; `lr` is the peak for onecycle."""
    if name == "onecycle":
        lr = optimizer.param_groups[0]["lr"]
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")


@torch.no_grad()
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


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Use `n` torch CPU threads inside the block (`n = 0`: leave the setting alone).

    Small matrices on shared or busy cores train much faster on one thread: with two, the
    threads spin waiting for each other whenever another process holds a core.
    """
    if n <= 0:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def flat_tensors(data, train_subset: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test) of an `ArraySplits`: images flattened to vectors and
    standardised with the training set's mean and std; the first `train_subset` training
    examples only, when it is non-zero."""
    x_train, y_train = data.x_train, data.y_train
    if train_subset:
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    mean, std = float(x_train.mean()), float(x_train.std())

    def tensors(x, y):
        x = torch.as_tensor((x - mean) / std, dtype=torch.float32).reshape(len(x), -1)
        return x.to(device), torch.as_tensor(y, dtype=torch.long).to(device)

    return (*tensors(x_train, y_train), *tensors(data.x_test, data.y_test))


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    label_smoothing: float = 0.0,
    on_batch=None,
) -> tuple[float, float]:
    """One shuffled pass of cross-entropy training, the schedule stepped per batch.

    Returns the mean training loss (without label smoothing, so it compares with a test loss)
    and the training accuracy, both measured on the fly in train mode.
    """
    model.train()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for idx in batches(len(x), batch_size, generator):
        logits = model(x[idx])
        loss = F.cross_entropy(logits, y[idx], label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        loss_sum += F.cross_entropy(logits.detach(), y[idx], reduction="sum")
        correct += (logits.argmax(1) == y[idx]).sum()
        if on_batch is not None:
            on_batch()
    return loss_sum.item() / len(x), correct.item() / len(x)


def fit_classifier(
    run,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    label_smoothing: float = 0.0,
    desc: str = "",
    extra_state: dict | None = None,
) -> dict:
    """Train for `epochs` through a run: resume from its checkpoint, log train/test loss and
    accuracy per epoch, checkpoint after each epoch, show a progress bar, record the mean
    seconds per epoch. `extra_state` is saved with every checkpoint; the restored (or given)
    one is returned."""
    x_train, y_train = train
    shuffle = torch.Generator().manual_seed(run.seed)
    extra = dict(extra_state or {})
    start_epoch = 0
    state = run.load_checkpoint()
    if state is not None:
        model.load_state_dict(state.pop("model"))
        optimizer.load_state_dict(state.pop("optimizer"))
        schedule.load_state_dict(state.pop("schedule"))
        shuffle.set_state(state.pop("shuffle"))
        start_epoch = state.pop("epoch")
        extra = state

    steps_per_epoch = -(-len(x_train) // batch_size)
    bar = run.bar(
        total=epochs * steps_per_epoch,
        initial=start_epoch * steps_per_epoch,
        desc=desc,
        unit="batch",
    )
    epoch_seconds = []
    for epoch in range(start_epoch, epochs):
        started = time.perf_counter()
        train_loss, train_acc = train_epoch(
            model,
            optimizer,
            schedule,
            x_train,
            y_train,
            batch_size,
            shuffle,
            label_smoothing,
            on_batch=lambda: bar.update(1),
        )
        epoch_seconds.append(time.perf_counter() - started)
        test_loss, test_acc, _ = evaluate(model, *test)
        run.log(
            epoch + 1,
            train_loss=train_loss,
            train_accuracy=train_acc,
            test_loss=test_loss,
            test_accuracy=test_acc,
        )
        bar.set_postfix(test_acc=f"{test_acc:.4f}")
        run.save_checkpoint(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "shuffle": shuffle.get_state(),
                **extra,
                "epoch": epoch + 1,
            }
        )
    bar.close()
    if epoch_seconds:
        run.record_time("train_seconds_per_epoch", sum(epoch_seconds) / len(epoch_seconds))
    return extra
