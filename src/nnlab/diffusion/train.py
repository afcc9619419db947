"""Training a noise predictor through a run: ε-prediction with mean squared error (Ho et al.
2020) at stratified timesteps, AdamW with a cosine decay and the gradient's norm clipped to 1,
an exponential moving average of the weights for sampling, optional label dropout for
classifier-free guidance, optionally under bfloat16 autocast
(`precision="bf16"`: the network's matmuls and convolutions in bfloat16, the loss, optimizer
and moving average in float32; the parts of the U-Net that must stay float32 are kept there by
the U-Net itself, see `nnlab.models.unet`). Resumable at every epoch, data-parallel
under torchrun (`nnlab.training.distributed`).

    seconds = fit_noise_predictor(run, model, ema, schedule, x_train, y_train, NoiseTraining())
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from nnlab.diffusion.schedules import NoiseSchedule
from nnlab.training.distributed import world
from nnlab.training.optim import make_optimizer, restore_states, saved_states
from nnlab.training.precision import autocast


@dataclass
class NoiseTraining:
    epochs: int = 5
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.0
    ema: float = 0.995
    conditional: bool = False
    label_dropout: float = 0.1
    memory_format: torch.memory_format = torch.contiguous_format
    precision: str = "fp32"  # "bf16": the forward pass under bfloat16 autocast
    min_snr: float = 0.0
    """Min-SNR-γ weighting (Hang et al. 2023): each step's squared error times
    min(SNR_t, γ) / SNR_t, SNR_t = ᾱ_t / (1 − ᾱ_t), so the nearly clean timesteps, whose
    gradients fight the noisy ones', count less; 0: the simple loss, every t alike."""
    grad_clip: float = 1.0  # the gradient norm is clipped to this (Ho et al. 2020); 0: off


def min_snr_weights(schedule: NoiseSchedule, gamma: float) -> torch.Tensor:
    """(T,) float32 loss weights min(SNR_t, γ) / SNR_t of Min-SNR-γ for ε-prediction: 1 where
    SNR_t = ᾱ_t / (1 − ᾱ_t) ≤ γ (the noisy steps), γ / SNR_t below that."""
    snr = schedule.alphas_cumprod / (1 - schedule.alphas_cumprod)
    return (snr.clamp(max=gamma) / snr).float()


def stratified_timesteps(n: int, T: int, generator: torch.Generator) -> torch.Tensor:
    """`n` timesteps, one uniform draw from each of n equal strata of [0, T), shuffled: each
    is uniform on [0, T) as with `randint`, but a batch covers the schedule evenly, so the
    batch's loss varies less (the low-discrepancy sampler of Kingma et al. 2021)."""
    u = (torch.arange(n) + torch.rand(n, generator=generator)) / n
    t = (u * T).long().clamp(max=T - 1)
    return t[torch.randperm(n, generator=generator)]


def fit_noise_predictor(
    run,
    model: torch.nn.Module,
    ema: torch.nn.Module,
    schedule: NoiseSchedule,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    cfg: NoiseTraining,
    draws: torch.Generator,
) -> float:
    """Train `model` on images `x_train` in [-1, 1] and keep `ema` as its moving average;
    `draws` draws batches, timesteps, noise and label drops (checkpointed with the rest).
    Logs `train_loss`/`lr` per step and `epoch_loss` per epoch; returns the training seconds."""
    w, device, layout = world(), run.device, cfg.memory_format
    optimizer = make_optimizer("adamw", model.parameters(), cfg.lr, cfg.weight_decay, device)
    # whole batches only (the last partial one is dropped), so N processes split each evenly
    steps_per_epoch = max(1, len(x_train) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / total_steps)))
    )
    start_epoch, train_seconds = 0, 0.0
    state = run.load_checkpoint()
    parts = {
        "model": model,
        "ema": ema,
        "optimizer": optimizer,
        "scheduler": scheduler,
        "draws": draws,
    }
    if state is not None:
        restore_states(state, **parts)
        start_epoch, train_seconds = state["epoch"], state["train_seconds"]
    trainer = w.wrap(model)
    ema_params, params = list(ema.parameters()), list(model.parameters())
    weights = min_snr_weights(schedule, cfg.min_snr).to(device) if cfg.min_snr > 0 else None

    def shard(z):
        return None if z is None else w.shard(z).to(device)

    bar = run.bar(total=total_steps, initial=start_epoch * steps_per_epoch, desc="ddpm")
    for epoch in range(start_epoch, cfg.epochs):
        began = time.perf_counter()
        order = torch.randperm(len(x_train), generator=draws)
        losses = []
        for i in range(steps_per_epoch):
            idx = order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            x0 = x_train[idx]
            t = stratified_timesteps(len(idx), schedule.T, draws)
            noise = torch.randn(x0.shape, generator=draws)
            labels = None
            if cfg.conditional:
                labels = model.drop_labels(y_train[idx], cfg.label_dropout, draws)
            x_t = schedule.add_noise(x0.to(device), t.to(device), noise.to(device))
            x_t = w.shard(x_t).contiguous(memory_format=layout)
            with autocast(cfg.precision, device):
                eps = trainer(x_t, shard(t), shard(labels))
            if weights is None:
                loss = optimized = F.mse_loss(eps.float(), shard(noise))
            else:  # the plain mean is logged, the weighted one minimised
                per_image = (eps.float() - shard(noise)).pow(2).flatten(1).mean(1)
                loss, optimized = per_image.mean(), (weights[shard(t)] * per_image).mean()
            optimizer.zero_grad(set_to_none=True)
            optimized.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, params, 1.0 - cfg.ema)
            losses.append(float(loss.detach()))
            step = epoch * steps_per_epoch + i + 1
            run.log(step, train_loss=w.mean(losses[-1]), lr=scheduler.get_last_lr()[0])
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.4f}")
        train_seconds += time.perf_counter() - began
        run.log((epoch + 1) * steps_per_epoch, epoch=epoch + 1, epoch_loss=w.mean(np.mean(losses)))
        run.save_checkpoint(
            {**saved_states(**parts), "epoch": epoch + 1, "train_seconds": train_seconds}
        )
    bar.close()
    return train_seconds
