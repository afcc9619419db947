"""Several training runs overlaid, one colour per run: the loss of every step (smoothed by a
moving average) beside the per-epoch training and test curves.

The per-epoch curves come from a metrics history whose keys name the run, the split and the
metric, ``"{run}_{split}_{metric}"`` such as ``adam_test_accuracy``::

    fig = step_and_epoch_curves({"sgd": losses_sgd, "adam": losses_adam}, run.history(),
                                steps_per_epoch=30, window=100, title="Optimizers")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure


def moving_average(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(iteration numbers, trailing means over `window` iterations) of a 1-D series."""
    window = max(1, min(window, len(values)))
    cumsum = np.cumsum(np.concatenate([[0.0], values]))
    means = (cumsum[window:] - cumsum[:-window]) / window
    return np.arange(window, len(values) + 1), means


def step_and_epoch_curves(
    step_losses: Mapping[str, np.ndarray],
    history: Sequence[Mapping],
    *,
    steps_per_epoch: int,
    window: int,
    title: str,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Three panels, one colour per run (the keys of `step_losses`, in order): the training
    loss of every step as a `window`-step moving average against epochs (non-finite losses
    left out); the per-epoch training loss (solid) and test loss (dashed); and the test
    accuracy after each epoch (``<run>_train_loss``, ``<run>_test_loss``,
    ``<run>_test_accuracy`` in `history`). `labels` name the runs in the legend."""
    fig = Figure(figsize=(17.5, 4.2), layout="constrained")
    ax_it, ax_loss, ax_acc = fig.subplots(1, 3)
    for i, (name, losses) in enumerate(step_losses.items()):
        color, label = f"C{i}", (labels or {}).get(name, name)
        losses = np.asarray(losses, dtype=np.float64)
        finite = np.isfinite(losses)
        if finite.any():
            its, means = moving_average(np.where(finite, losses, np.nan), window)
            ax_it.plot(its / steps_per_epoch, means, color=color, lw=1.2, label=label)
        rows = [h for h in history if f"{name}_train_loss" in h]
        epochs = [h["step"] for h in rows]
        ax_loss.plot(
            epochs, [h[f"{name}_train_loss"] for h in rows], "-o", ms=3, color=color, label=label
        )
        ax_loss.plot(epochs, [h[f"{name}_test_loss"] for h in rows], "--", color=color, lw=1)
        ax_acc.plot(
            epochs, [100 * h[f"{name}_test_accuracy"] for h in rows], "-o", ms=3, color=color
        )
    ax_it.set_title(f"training loss per iteration ({window}-iteration moving average)")
    ax_it.set_xlabel("epoch (iterations / iterations per epoch)")
    ax_it.set_ylabel("cross-entropy (nats)")
    ax_it.set_yscale("log")
    ax_loss.set_title("loss per epoch: training (solid, mean over batches), test (dashed)")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy (nats)")
    ax_loss.set_yscale("log")
    ax_acc.set_title("test accuracy after each epoch")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    for ax in (ax_it, ax_loss, ax_acc):
        ax.grid(True, which="both", alpha=0.3)
    ax_it.legend(fontsize="small")
    fig.suptitle(title)
    return fig
