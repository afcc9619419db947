"""PyTorch training shared by the experiments: batching, optimizers and schedules by name,
evaluation, data made into tensors, and the training loops.

Data: `flat_tensors` / `image_tensors` / `standardise` turn arrays into standardised tensors;
`split_indices` draws a seeded train/validation split; `corrupt_labels` adds label noise.

Loops: `train_epoch` is the one batch loop (hooks for augmentation, a weight penalty and a
per-step callback). Through a run (resumable, logged, checkpointed, with a progress bar):
`fit_classifier` trains one model, `fit_classifiers` several models on the same batches, and
`fit_variants` runs one training per variant in turn. `fit_validated` trains with validation
after every epoch and optional early stopping.

Autoencoders: `fit_autoencoder` trains with squared error (denoising with `corrupt`'s noise,
a penalty on the code for sparsity), one `autoencoder_epoch` at a time; `fit_autoencoders`
trains several in turn through a run, resumable at every epoch; `reconstruct`, `encode` and
`image_errors` evaluate one.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnlab.choices import OPTIMIZERS, SCHEDULES
from nnlab.distributed import World, world
from nnlab.errors import ConfigError


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


def saved_states(**parts: Any) -> dict[str, Any]:
    """Each part's state by name, for a checkpoint: `state_dict()` of a module, optimizer or
    schedule, `get_state()` of a random generator."""
    return {
        name: part.get_state() if isinstance(part, torch.Generator) else part.state_dict()
        for name, part in parts.items()
    }


def restore_states(state: Mapping[str, Any], **parts: Any) -> None:
    """Load `state[name]` into each part (the inverse of `saved_states`)."""
    for name, part in parts.items():
        if isinstance(part, torch.Generator):
            part.set_state(state[name])
        else:
            part.load_state_dict(state[name])


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


# --------------------------------------------------------------------------- data to tensors


def standardise(
    arrays: Mapping[str, tuple[np.ndarray, np.ndarray]],
    device: torch.device,
    *,
    images: bool = False,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Every split `name -> (x, y)` as (float32 inputs, int64 labels) on `device`, the inputs
    standardised with the mean and std of `arrays["train"]` (one number each, over all values).

    Inputs become rows (`images=False`: flattened) or (N, C, H, W) images (`images=True`:
    greyscale (N, H, W) gets one channel, colour (N, H, W, C) is permuted), in
    `memory_format` (e.g. `torch.channels_last`)."""
    x_train = arrays["train"][0]
    mean, std = float(x_train.mean()), float(x_train.std())
    out = {}
    for name, (x, y) in arrays.items():
        x = torch.as_tensor((x - mean) / std, dtype=torch.float32)
        if images:
            x = x.reshape(len(x), 1, *x.shape[1:]) if x.ndim == 3 else x.permute(0, 3, 1, 2)
            x = x.to(device).contiguous(memory_format=memory_format)
        else:
            x = x.reshape(len(x), -1).to(device)
        out[name] = (x, torch.as_tensor(y, dtype=torch.long).to(device))
    return out


def _arrays(data, train_subset: int, with_val: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    x_train, y_train = data.x_train, data.y_train
    if train_subset:
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    arrays = {"train": (x_train, y_train)}
    if with_val and data.x_val is not None and data.y_val is not None:
        arrays["val"] = (data.x_val, data.y_val)
    arrays["test"] = (data.x_test, data.y_test)
    return arrays


def flat_tensors(data, train_subset: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test) of an `ArraySplits`: images flattened to vectors and
    standardised with the training set's mean and std; the first `train_subset` training
    examples only, when it is non-zero."""
    tensors = standardise(_arrays(data, train_subset, with_val=False), device)
    return (*tensors["train"], *tensors["test"])


def image_tensors(
    data,
    train_subset: int,
    device: torch.device,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The splits of an `ArraySplits` as (N, C, H, W) image tensors standardised with the
    training set's mean and std: "train" (the first `train_subset` examples, when non-zero),
    "val" (when the dataset has a validation split) and "test"."""
    return standardise(
        _arrays(data, train_subset, with_val=True), device, images=True, memory_format=memory_format
    )


def split_indices(n: int, train_size: int, val_size: int, seed: int) -> tuple[np.ndarray, ...]:
    """Disjoint random (train, validation) index arrays into range(n), of `train_size` and
    `val_size` indices; the same for the same seed. ConfigError when they do not fit."""
    if train_size + val_size > n:
        raise ConfigError(
            f"train_size {train_size} + val_size {val_size} exceeds the {n} training examples; "
            "lower them"
        )
    order = np.random.default_rng([seed, 7]).permutation(n)
    return order[val_size : val_size + train_size], order[:val_size]


def corrupt_labels(y: np.ndarray, fraction: float, n_classes: int, seed: int) -> np.ndarray:
    """A copy of `y` with round(fraction * len(y)) labels, chosen at random, each replaced
    by a different class drawn uniformly."""
    rng = np.random.default_rng([seed, 11])
    y = y.copy()
    idx = rng.choice(len(y), size=int(round(fraction * len(y))), replace=False)
    y[idx] = (y[idx] + rng.integers(1, n_classes, size=len(idx))) % n_classes
    return y


# --------------------------------------------------------------------------- training


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one pass over `n` examples (the last batch may be smaller)."""
    return -(-n // batch_size)


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
        logits = model(inputs)
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


def _optimizer_and_schedule(
    model: nn.Module,
    optimizer: str,
    lr: float,
    weight_decay: float,
    schedule: str,
    total_steps: int,
    device: torch.device,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay, device)
    return opt, make_schedule(schedule, opt, total_steps)


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
) -> dict:
    """Train `model` for `epochs` through a run, with `optimizer` (a name, see
    `make_optimizer`) and `schedule` (see `make_schedule`) over shuffled batches.

    Resumes from the run's checkpoint; logs `train_loss`, `train_accuracy`, `<eval_name>_loss`
    and `<eval_name>_accuracy` (the `evaluation` split, evaluated in batches of
    `eval_batch_size`) per epoch; checkpoints after each epoch; shows a progress bar; records
    the mean seconds per epoch. `transform` changes each training batch (see `train_epoch`);
    the states of the `generators` it draws from are checkpointed and restored with the rest.
    `extra_state` is saved with every checkpoint; the restored (or given) one is returned.

    Data-parallel under torchrun (`nnlab.distributed.world()`): every rank draws the same
    batches and trains on its slice of each (see `train_epoch`), and evaluates the whole
    `evaluation` split with the same weights.

        fit_classifier(run, model, (x, y), (x_test, y_test), optimizer="adamw", lr=1e-3,
                       epochs=5, batch_size=128)
    """
    x_train, y_train = train
    steps = steps_per_epoch(len(x_train), batch_size)
    opt, sched = _optimizer_and_schedule(
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
    eval_name: str = "test",
    desc: str = "",
) -> None:
    """Train several classifiers side by side through a run: every epoch each model trains on
    the same shuffled batches in the same order, each with its own optimizer and schedule of
    the same kind, so the models are the only difference.

    Like `fit_classifier`: resumes from the run's checkpoint, logs `<name>_train_loss`,
    `<name>_<eval_name>_loss`, `<name>_train_accuracy` and `<name>_<eval_name>_accuracy` of
    every model per epoch (one line per epoch), checkpoints after each epoch, shows one
    progress bar and records each model's mean seconds per epoch; data-parallel like it.

        fit_classifiers(run, {"fc": fc, "cnn": cnn}, (x, y), (x_val, y_val),
                        optimizer="adamw", lr=2e-3, epochs=8, batch_size=128, eval_name="val")
    """
    x_train, y_train = train
    steps = steps_per_epoch(len(x_train), batch_size)
    optimizers, schedules = {}, {}
    for name, model in models.items():
        optimizers[name], schedules[name] = _optimizer_and_schedule(
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
                on_step=lambda loss: bar.update(1),
                world=w,
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


# --------------------------------------------------------------------------- autoencoders


def corrupt(
    x: torch.Tensor, noise_std: float, generator: torch.Generator, mask: float = 0.0
) -> torch.Tensor:
    """The corruption C(x̃ | x) of a denoising autoencoder: each value set to 0 with
    probability ``mask`` (masking noise), then ``+ ε``, ε ~ N(0, noise_std²) (no clipping, as
    in the seed); all drawn from ``generator``. ``x`` itself when both are 0."""
    if mask:
        keep = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= mask
        x = x * keep.to(x.device)
    if noise_std:
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = x + noise_std * noise.to(x.device)
    return x


def autoencoder_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler | None,
    x: torch.Tensor,
    order: Iterable[torch.Tensor],
    *,
    noise_std: float = 0.0,
    mask: float = 0.0,
    generator: torch.Generator | None = None,
    penalty: Callable[[torch.Tensor], torch.Tensor] | None = None,
    on_step: Callable[[torch.Tensor], None] | None = None,
) -> float:
    """One pass of squared-error training over the index batches ``order``: each batch is
    corrupted with N(0, noise_std²) noise from ``generator`` (denoising) and reconstructed,
    (and masking with probability ``mask``, see `corrupt`) the loss measured against the clean
    batch. ``penalty(code)`` (e.g. a sparsity term on the
    hidden activations, which needs ``model.encode`` / ``model.decode``) is added to it.
    Returns the mean squared error per pixel (without the penalty) over the batches."""
    model.train()
    total = torch.zeros((), device=x.device)
    count = 0
    for idx in order:
        clean = x[idx]
        inputs = corrupt(clean, noise_std, generator, mask) if noise_std or mask else clean
        if penalty is None:
            recon = model(inputs)
            extra = None
        else:
            code = model.encode(inputs)
            recon = model.decode(code).reshape(clean.shape)
            extra = penalty(code)
        mse = F.mse_loss(recon, clean)
        loss = mse if extra is None else mse + extra
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        total += mse.detach() * len(idx)
        count += len(idx)
        if on_step is not None:
            on_step(loss.detach())
    return total.item() / max(count, 1)


@torch.no_grad()
def reconstruct(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """``model(x)`` in eval mode, in batches."""
    model.eval()
    return torch.cat([model(x[idx]) for idx in batches(len(x), batch_size)])


@torch.no_grad()
def encode(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """``model.encode(x)`` in eval mode, in batches."""
    model.eval()
    return torch.cat([model.encode(x[idx]) for idx in batches(len(x), batch_size)])


def image_errors(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image (over its pixels), float64, shape (N,)."""
    diff = (recon.double() - target.double()).reshape(len(target), -1)
    return (diff * diff).mean(dim=1)


def fit_autoencoder(
    model: nn.Module,
    x_train: torch.Tensor,
    x_test: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    optimizer: str = "adam",
    schedule: str = "constant",
    weight_decay: float = 0.0,
    noise_std: float = 0.0,
    mask: float = 0.0,
    penalty: Callable[[torch.Tensor], torch.Tensor] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    on_step: Callable[[torch.Tensor], None] | None = None,
    resume: dict | None = None,
    on_checkpoint: Callable[[dict], None] | None = None,
) -> list[dict[str, float]]:
    """Train an autoencoder with squared error for ``epochs`` over batches shuffled from
    ``seed`` (``optimizer`` and ``schedule`` by name, see `make_optimizer`, `make_schedule`).

    With ``noise_std`` (or ``mask``) > 0 it is a denoising autoencoder: training batches get
    fresh N(0, noise_std²) noise (and masking, see `corrupt`), and the test images one fixed
    draw (seeded by ``seed``), so ``test_loss`` is the error of reconstructing the clean test
    images from their corrupted copies. After each epoch
    ``on_epoch(epoch, {"train_loss", "test_loss"})`` is called; the records are returned.

    After each epoch but the last, ``on_checkpoint(state)`` gets the training state (model,
    optimizer, schedule, random generators, epoch, records); passed back as ``resume``, it
    continues the training where it stopped, with the same result."""
    device = x_train.device
    opt, sched = _optimizer_and_schedule(
        model,
        optimizer,
        lr,
        weight_decay,
        schedule,
        epochs * steps_per_epoch(len(x_train), batch_size),
        device,
    )
    shuffle = torch.Generator().manual_seed(seed)
    noise = torch.Generator().manual_seed(seed + 1)
    test_inputs = corrupt(x_test, noise_std, torch.Generator().manual_seed(seed + 2), mask)
    history: list[dict[str, float]] = []
    parts = {
        "model": model,
        "optimizer": opt,
        "schedule": sched,
        "shuffle": shuffle,
        "noise": noise,
    }
    if resume is not None:
        restore_states(resume, **parts)
        history = list(resume["history"])
    for epoch in range(len(history) + 1, epochs + 1):
        train_loss = autoencoder_epoch(
            model,
            opt,
            sched,
            x_train,
            batches(len(x_train), batch_size, shuffle),
            noise_std=noise_std,
            mask=mask,
            generator=noise,
            penalty=penalty,
            on_step=on_step,
        )
        test_loss = float(image_errors(reconstruct(model, test_inputs), x_test).mean())
        record = {"train_loss": train_loss, "test_loss": test_loss}
        history.append(record)
        if on_epoch is not None:
            on_epoch(epoch, record)
        if on_checkpoint is not None and epoch < epochs:
            on_checkpoint(
                {
                    **saved_states(**parts),
                    "history": list(history),
                }
            )
    return history


def evaluate_autoencoder(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    *,
    seed: int,
    noise_std: float = 0.0,
    k: int = 5,
    silhouette_sample: int = 2000,
) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """How well an autoencoder reconstructs and what its code keeps, on (images, labels).

    The test images are corrupted as `fit_autoencoder` corrupts them (the same draw for the
    same ``seed`` and ``noise_std``). Metrics: ``test_mse`` (reconstruction of the corrupted
    input against the clean image, per pixel), ``test_mse_vs_input`` (against the input the
    model saw; the same as ``test_mse`` without noise), ``knn_accuracy`` of the test codes
    among the clean training images' codes (k nearest, `nnlab.metrics.knn_accuracy`) and
    their ``silhouette`` by class. Also returns the test ``inputs``, ``reconstructions``
    and ``codes`` (CPU tensors)."""
    from nnlab.metrics import knn_accuracy, silhouette

    x_train, y_train = train
    x_test, y_test = test
    inputs = corrupt(x_test, noise_std, torch.Generator().manual_seed(seed + 2))
    recon = reconstruct(model, inputs)
    codes = encode(model, inputs).cpu()
    train_codes = encode(model, x_train).cpu().numpy()
    labels = y_test.cpu().numpy()
    metrics = {
        "test_mse": float(image_errors(recon, x_test).mean()),
        "test_mse_vs_input": float(image_errors(recon, inputs).mean()),
        "knn_accuracy": knn_accuracy(train_codes, y_train.cpu().numpy(), codes.numpy(), labels, k),
        "silhouette": silhouette(codes.numpy(), labels, silhouette_sample, seed),
    }
    tensors = {"inputs": inputs.cpu(), "reconstructions": recon.cpu(), "codes": codes}
    return metrics, tensors


def fit_autoencoders(
    run,
    names: Sequence[str],
    build: Callable[[str], nn.Module],
    x_train: torch.Tensor,
    x_test: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    schedule: str = "constant",
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    noise_std: Mapping[str, float] | None = None,
    penalty: Mapping[str, Callable[[torch.Tensor], torch.Tensor] | None] | None = None,
    desc: str = "",
    keyed: bool = True,
) -> list[dict]:
    """Train one autoencoder per name in turn through a run by `fit_autoencoder`, each
    `build(name)` from the run's seed (so every variant starts from the same weights where
    the architectures agree), with its own ``noise_std[name]`` and ``penalty[name]``. Logs
    ``<metric>@<name>`` per epoch (plain ``<metric>`` with ``keyed=False``). The run's
    checkpoint holds the finished variants and the current one's training state after every
    epoch, so an interrupted run resumes at the epoch it stopped at, with the same result.
    Returns the `autoencoder_state` of each variant, in the order of `names`."""
    from nnlab.models.autoencoders import autoencoder_state

    noise_std, penalty = dict(noise_std or {}), dict(penalty or {})
    per_epoch = steps_per_epoch(len(x_train), batch_size)
    state = run.load_checkpoint() or {}
    results, current = state.get("results", []), state.get("current")
    done = len(results) * epochs + (len(current["history"]) if current else 0)
    bar = run.bar(
        total=len(names) * epochs * per_epoch, initial=done * per_epoch, desc=desc, unit="batch"
    )

    def save(partial: dict | None) -> None:
        run.save_checkpoint({"results": results, "current": partial})

    for name in names[len(results) :]:
        torch.manual_seed(run.seed)
        model = build(name).to(run.device)
        fit_autoencoder(
            model,
            x_train,
            x_test,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            schedule=schedule,
            optimizer=optimizer,
            weight_decay=weight_decay,
            seed=run.seed,
            noise_std=noise_std.get(name, 0.0),
            penalty=penalty.get(name),
            on_epoch=lambda e, m, name=name: run.log(
                e, **{f"{k}@{name}" if keyed else k: v for k, v in m.items()}
            ),
            on_step=lambda loss: bar.update(1),
            resume=current,
            on_checkpoint=save,
        )
        current = None
        results.append(autoencoder_state(model))
        save(None)
    bar.close()
    return results


def train_one_autoencoder(
    run,
    name: str,
    build: Callable[[], nn.Module],
    x_train: torch.Tensor,
    x_test: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    noise_std: float = 0.0,
):
    """Train `build()` by `fit_autoencoders` as the run's one model, save it as `name` and
    return (model, saved path)."""
    from nnlab.models.autoencoders import autoencoder_from_state

    (state,) = fit_autoencoders(
        run,
        [name],
        lambda _: build(),
        x_train,
        x_test,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        noise_std={name: noise_std},
        desc=name,
        keyed=False,
    )
    return autoencoder_from_state(state).to(run.device), run.save_model(name, state)
