"""Autoencoder training: squared error (denoising with `corrupt`'s noise, a penalty on the
code for sparsity), one `autoencoder_epoch` at a time. `fit_autoencoder` trains one,
`fit_autoencoders` several in turn through a run, resumable at every epoch; `reconstruct`,
`encode` and `image_errors` evaluate one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nnlab.training.optim import (
    optimizer_and_schedule,
    restore_states,
    saved_states,
)
from nnlab.training.precision import autocast, resolve
from nnlab.training.tensors import batches, steps_per_epoch

Pair = Callable[[torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
"""``pair(images, generator) -> (inputs, targets)``: what a model trained by `fit_autoencoder`
sees and must predict when the task is not to reconstruct its input (`inpainting_pair`,
`colouring_pair`); random parts (masks) drawn from ``generator``."""


def autoencoder_tensors(
    data, train_subset: int, device: torch.device, channel: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """x_train, y_train, x_test, y_test of an `ArraySplits` for an autoencoder: the pixels as
    loaded (not standardised), float32 (N, H, W), or (N, 1, H, W) with `channel`; the first
    `train_subset` training examples when non-zero. All on `device` but y_test (for plots)."""
    n = train_subset or len(data.x_train)
    x_train = torch.as_tensor(data.x_train[:n], dtype=torch.float32)
    x_test = torch.as_tensor(data.x_test, dtype=torch.float32)
    if channel:
        x_train, x_test = x_train.unsqueeze(1), x_test.unsqueeze(1)
    y_train = torch.as_tensor(data.y_train[:n]).to(device)
    return x_train.to(device), y_train, x_test.to(device), torch.as_tensor(data.y_test)


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
    pair: Pair | None = None,
    precision: str = "fp32",
) -> float:
    """One pass of squared-error training over the index batches ``order``: each batch is
    corrupted with N(0, noise_std²) noise from ``generator`` (denoising) and reconstructed,
    (and masking with probability ``mask``, see `corrupt`) the loss measured against the clean
    batch. ``penalty(code)`` (e.g. a sparsity term on the
    hidden activations, which needs ``model.encode`` / ``model.decode``) is added to it.
    Returns the mean squared error per pixel (without the penalty) over the batches.
    With ``pair`` the batch is instead turned into (input, target) by ``pair(batch,
    generator)`` (see `Pair`: inpainting, colourisation) and the target predicted.
    The forward pass runs under the autocast of ``precision`` ("fp32" or "bf16"); the
    reconstruction and the code are cast to float32 before the loss and the penalty."""
    model.train()
    total = torch.zeros((), device=x.device)
    count = 0
    for idx in order:
        clean = x[idx]
        if pair is not None:
            inputs, clean = pair(clean, generator)
        elif noise_std or mask:
            inputs = corrupt(clean, noise_std, generator, mask)
        else:
            inputs = clean
        with autocast(precision, x.device):
            if penalty is None:
                recon, code = model(inputs).reshape(clean.shape), None
            else:
                code = model.encode(inputs)
                recon = model.decode(code).reshape(clean.shape)
        extra = None if code is None else penalty(code.float())
        mse = F.mse_loss(recon.float(), clean)
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
    pair: Pair | None = None,
    precision: str = "fp32",
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
    continues the training where it stopped, with the same result.

    With ``pair`` (see `Pair`) the model learns ``pair``'s targets from its inputs instead,
    fresh pairs drawn for each training batch and one fixed draw for the test images.
    ``precision`` ("auto", "fp32", "bf16"; `nnlab.training.precision.resolve`) chooses the
    autocast of the training steps; evaluation stays float32."""
    device = x_train.device
    precision = resolve(precision, device)
    opt, sched = optimizer_and_schedule(
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
    test_draw = torch.Generator().manual_seed(seed + 2)
    if pair is not None:
        test_inputs, test_targets = pair(x_test, test_draw)
    else:
        test_inputs, test_targets = corrupt(x_test, noise_std, test_draw, mask), x_test
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
            pair=pair,
            precision=precision,
        )
        recon = reconstruct(model, test_inputs).reshape(test_targets.shape)
        test_loss = float(image_errors(recon, test_targets).mean())
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
    among the clean training images' codes (k nearest, `nnlab.numerics.metrics.knn_accuracy`) and
    their ``silhouette`` by class. Also returns the test ``inputs``, ``reconstructions``
    and ``codes`` (CPU tensors)."""
    from nnlab.numerics.metrics import knn_accuracy, silhouette

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
    pair: Mapping[str, Pair] | None = None,
    precision: str = "fp32",
) -> list[dict]:
    """Train one autoencoder per name in turn through a run by `fit_autoencoder`, each
    `build(name)` from the run's seed (so every variant starts from the same weights where
    the architectures agree), with its own ``noise_std[name]``, ``penalty[name]`` and
    ``pair[name]`` (a task other than reconstruction, see `Pair`). Logs
    ``<metric>@<name>`` per epoch (plain ``<metric>`` with ``keyed=False``). The run's
    checkpoint holds the finished variants and the current one's training state after every
    epoch, so an interrupted run resumes at the epoch it stopped at, with the same result.
    Returns the `autoencoder_state` of each variant, in the order of `names`. The
    `precision` the steps train in (see `fit_autoencoder`) is noted in the run's summary."""
    from nnlab.models.autoencoders import autoencoder_state

    precision = resolve(precision, x_train.device)
    run.note("precision", precision)
    noise_std, penalty, pair = dict(noise_std or {}), dict(penalty or {}), dict(pair or {})
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
            pair=pair.get(name),
            on_epoch=lambda e, m, name=name: run.log(
                e, **{f"{k}@{name}" if keyed else k: v for k, v in m.items()}
            ),
            on_step=lambda loss: bar.update(1),
            resume=current,
            on_checkpoint=save,
            precision=precision,
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
    precision: str = "fp32",
):
    """Train `build()` by `fit_autoencoders` (in `precision`) as the run's one model, save
    it as `name` and return (model, saved path)."""
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
        precision=precision,
    )
    return autoencoder_from_state(state).to(run.device), run.save_model(name, state)


def codes_and_curves(
    run,
    codes: torch.Tensor,
    y_test: torch.Tensor,
    metrics: dict,
    class_names,
    title: str,
    denoising: bool = False,
) -> None:
    """Draws the run's "codes" figure (the test images' codes by class, with `metrics`' kNN
    accuracy and silhouette) and its "learning_curves" (training and test squared error per
    epoch; with `denoising`, of corrupted inputs against clean targets)."""
    from nnlab.viz import autoencoder_codes, learning_curves

    run.figure(
        "codes", *autoencoder_codes(codes.numpy(), y_test.numpy(), metrics, class_names, title)
    )
    run.figure(
        "learning_curves",
        learning_curves(
            run.history(),
            groups={"mean squared error per pixel": ["train_loss", "test_loss"]},
            title=title,
            xlabel="epoch",
        ),
        "Training loss (mean over the epoch's batches) and test loss after each epoch"
        + (" (corrupted inputs, clean targets)." if denoising else "."),
    )


def noise_images(
    n: int, support: torch.Tensor, generator: torch.Generator, kind: str = "uniform"
) -> torch.Tensor:
    """``n`` noise images shaped like ``support`` (a boolean pixel mask): inside it each pixel
    U(0, 1) (``kind="uniform"``) or N(0.5, 0.25²) clipped to [0, 1] (``"gaussian"``), outside
    it 0. Drawn on the CPU from ``generator``, returned on ``support``'s device.

        noise_images(100, x_train.std(0) > 0.1, torch.Generator().manual_seed(0))
    """
    shape = (n, *support.shape)
    if kind == "uniform":
        values = torch.rand(shape, generator=generator)
    elif kind == "gaussian":
        values = (0.5 + 0.25 * torch.randn(shape, generator=generator)).clamp(0.0, 1.0)
    else:
        raise ValueError(f"noise kind must be 'uniform' or 'gaussian', got {kind!r}")
    return (values * support.cpu()).to(support.device)


def variance_explained(recon: torch.Tensor, target: torch.Tensor) -> float:
    """1 − MSE(recon, target) / MSE(target's own mean image, target): the fraction of a set's
    pixel variance a model reconstructs. 1 is perfect, 0 is no better than predicting the
    set's mean image (which needs no input at all), below 0 worse than that."""
    error = float(image_errors(recon, target).mean())
    spread = float(image_errors(target.mean(dim=0, keepdim=True).expand_as(target), target).mean())
    return 1.0 - error / spread


def square_masks(
    n: int, side: int, low: int, high: int, generator: torch.Generator
) -> torch.Tensor:
    """``n`` masks (n, 1, side, side), float 0/1, each 1 on one square hole: its side drawn
    uniformly from ``low``..``high`` pixels, its position uniformly among those that keep it
    inside the image. Drawn on the CPU from ``generator``."""
    if not 1 <= low <= high <= side:
        raise ValueError(f"hole sides must satisfy 1 <= low <= high <= {side}, got {low}..{high}")
    sizes = torch.randint(low, high + 1, (n,), generator=generator)
    top = (torch.rand(n, generator=generator) * (side - sizes + 1)).long()
    left = (torch.rand(n, generator=generator) * (side - sizes + 1)).long()
    grid = torch.arange(side)
    rows = (grid >= top[:, None]) & (grid < (top + sizes)[:, None])  # (n, side)
    cols = (grid >= left[:, None]) & (grid < (left + sizes)[:, None])
    return (rows[:, :, None] & cols[:, None, :]).unsqueeze(1).float()


def inpainting_pair(low: int, high: int) -> Pair:
    """The inpainting task on images (N, 1, H, W): the input is two channels, the image with
    a random square hole (`square_masks`, side ``low``..``high``) set to 0 and the hole's
    mask (1 inside), so that a black hole differs from black ink; the target is the whole
    image. `hole_errors` measures a prediction inside the hole only."""

    def pair(images: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        masks = square_masks(len(images), images.shape[-1], low, high, generator)
        masks = masks.to(images.device)
        return torch.cat([images * (1 - masks), masks], dim=1), images

    return pair


def hole_errors(
    prediction: torch.Tensor, target: torch.Tensor, masks: torch.Tensor
) -> torch.Tensor:
    """Mean squared error per image over the pixels where ``masks`` is 1 (inside the hole),
    float64, shape (N,)."""
    diff = (prediction.double() - target.double()) ** 2 * masks.double()
    return diff.flatten(1).sum(dim=1) / masks.double().flatten(1).sum(dim=1).clamp(min=1.0)


def colouring_pair(images: torch.Tensor, generator: torch.Generator | None = None):
    """The colourisation task on RGB images (N, 3, H, W) in [0, 1]: the input is the luminance
    Y (N, 1, H, W), the target the chroma (Cb, Cr) (N, 2, H, W) (`nnlab.numerics.imaging.
    rgb_to_ycbcr`); nothing random, ``generator`` is unused."""
    from nnlab.numerics.imaging import rgb_to_ycbcr

    ycc = rgb_to_ycbcr(images, channel_dim=1)
    return ycc[:, :1], ycc[:, 1:]
