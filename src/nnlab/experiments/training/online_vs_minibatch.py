"""online-vs-minibatch: batch size 1 against 20 against the full batch (seed 001 Problem 1.2).

The same 64-H-10 tanh network (scratch engine, same initial weights) is trained with plain SGD
at the same learning rate on the 8x8 digits for the same number of examples seen, with batch
sizes 1 (online), 20 and the whole training set. Measured:

* the training loss against examples seen and against wall time (training time only; the
  loss evaluations in between are not counted);
* the variance of the gradient estimate, E‖g_B − g‖², at the initial weights for batch sizes
  1 ... ``variance_max_batch``: ``variance_batches`` batches drawn with replacement per size, so
  the expected variance is exactly tr Σ / B (Σ the per-example gradient covariance); the slope
  of log variance against log B is fitted (it should be −1).

The answer the summary states, each with its number: online learning's **advantage** is that it
updates after every example, so after one pass over the data it has taken N steps where B = 20
has taken N/20 -- its loss after the first epoch is lower. Its **disadvantage** is that each of
those steps follows a gradient estimate 20 times noisier than a batch of 20 (and, on a computer,
it cannot use matrix-matrix products: the wall-time per epoch is in status.json's timings, as
timings never go into summary.json).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run
    from nnlab.scratch import Sequential


@dataclass
class Config(ExperimentConfig):
    hidden: int = param(32, low=1, high=4_096, help="hidden tanh units")
    lr: float = param(0.05, low=0.0, low_open=True, help="SGD step, the same for every batch size")
    epochs: int = param(10, low=1, high=10_000, help="passes over the training set")
    minibatch: int = param(20, low=2, high=100_000, help="the mini-batch size compared with 1")
    evaluations: int = param(
        10, low=1, high=1_000, help="training-loss evaluations per epoch (for the curves)"
    )
    variance_batches: int = param(
        400, low=10, high=1_000_000, help="batches drawn per size for the gradient variance"
    )
    variance_max_batch: int = param(256, low=2, high=100_000)
    train_subset: int = param(0, low=0, high=1_000_000, help="use this many digits (0: all)")


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"epochs": 2, "evaluations": 4, "variance_batches": 100, "train_subset": 500},
    "quick": {},
    "full": {"epochs": 50, "variance_batches": 4000},
}


def load_digits(subset: int) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits' training split as (N, 64) in [0, 1] and labels (N,)."""
    import numpy as np

    from nnlab.data import load_dataset

    data = load_dataset("digits")
    X = data.x_train.reshape(len(data.x_train), -1).astype(np.float64)
    y = data.y_train.astype(np.int64)
    return (X[:subset], y[:subset]) if subset else (X, y)


def batch_gradient(model: Sequential, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean cross-entropy gradient over (X, y), all parameters flattened into one vector."""
    import numpy as np

    from nnlab.scratch import softmax_cross_entropy

    _, grad = softmax_cross_entropy(model.forward(X), y)
    model.backward(grad, input_grad=False)
    return np.concatenate([g.ravel() for _, g in model.named_grads()])


def gradient_variance(
    model: Sequential, X: np.ndarray, y: np.ndarray, sizes: list[int], draws: int, seed: int
) -> dict[int, float]:
    """E‖g_B − g_full‖² per batch size B, from ``draws`` batches sampled with replacement."""
    import numpy as np

    rng = np.random.default_rng(seed)
    full = batch_gradient(model, X, y)
    out = {}
    for B in sizes:
        idx = rng.integers(0, len(X), (draws, B))
        out[B] = float(
            np.mean([np.sum((batch_gradient(model, X[i], y[i]) - full) ** 2) for i in idx])
        )
    return out


def loglog_slope(sizes: list[int], values: list[float]) -> float:
    import numpy as np

    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def train_batch_size(
    model: Sequential, X: np.ndarray, y: np.ndarray, batch: int, cfg: Config, seed: int
) -> dict[str, list[float]]:
    """SGD with batch size ``batch``; the full training loss every N / evaluations examples.
    Returns examples seen, training loss and cumulative training seconds at each evaluation."""
    import numpy as np

    from nnlab.scratch import SGD, minibatches, softmax_cross_entropy

    # the loop is what this experiment measures (seconds per update, loss every N examples),
    # so it is written out rather than hidden in nnlab.scratch.train
    opt, rng = SGD(model, lr=cfg.lr), np.random.default_rng(seed)
    n = len(X)
    every = max(1, n // cfg.evaluations)
    seen, seconds, next_eval = 0, 0.0, every
    history = {
        "examples": [0],
        "loss": [softmax_cross_entropy(model.predict(X), y)[0]],
        "seconds": [0.0],
    }
    for _ in range(cfg.epochs):
        for xb, yb in minibatches(X, y, batch, rng):
            start = time.perf_counter()
            _, grad = softmax_cross_entropy(model.forward(xb), yb)
            model.backward(grad, input_grad=False)
            opt.step()
            seconds += time.perf_counter() - start
            seen += len(xb)
            if seen >= next_eval:
                history["examples"].append(seen)
                history["loss"].append(softmax_cross_entropy(model.predict(X), y)[0])
                history["seconds"].append(seconds)
                next_eval = (seen // every + 1) * every
    return history


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.scratch import mlp
    from nnlab.viz.fundamentals import batch_size_figure

    X, y = load_digits(cfg.train_subset)
    n = len(X)
    batches = {
        "online (B = 1)": 1,
        f"mini-batch (B = {cfg.minibatch})": cfg.minibatch,
        f"full batch (B = {n})": n,
    }
    start = mlp([X.shape[1], cfg.hidden, 10], "tanh", rng=run.seed).state_dict()

    histories = {}
    for label, B in run.bar(batches.items(), desc="batch sizes", unit="run"):
        model = mlp([X.shape[1], cfg.hidden, 10], "tanh", rng=run.seed)
        model.load_state_dict(start)
        histories[label] = train_batch_size(model, X, y, B, cfg, run.seed + 1)
        h = histories[label]
        run.record_time(f"train_seconds_B{B}", h["seconds"][-1])
    for i, examples in enumerate(histories["online (B = 1)"]["examples"]):
        run.log(
            examples,
            **{
                f"loss_B{B}": histories[label]["loss"][i]
                for label, B in batches.items()
                if i < len(histories[label]["loss"])
            },
        )

    sizes = sorted(
        {int(b) for b in np.unique(np.geomspace(1, min(cfg.variance_max_batch, n), 9).round())}
    )
    model = mlp([X.shape[1], cfg.hidden, 10], "tanh", rng=run.seed)
    model.load_state_dict(start)
    variance = gradient_variance(model, X, y, sizes, cfg.variance_batches, run.seed + 2)
    slope = loglog_slope(sizes, list(variance.values()))
    ratio = variance[1] / variance[cfg.minibatch] if cfg.minibatch in variance else None
    if ratio is None:  # the mini-batch size is not on the grid: measure it on its own
        ratio = (
            variance[1]
            / gradient_variance(model, X, y, [cfg.minibatch], cfg.variance_batches, run.seed + 3)[
                cfg.minibatch
            ]
        )

    def loss_after(label: str, examples: int) -> float:
        h = histories[label]
        return float(h["loss"][int(np.searchsorted(h["examples"], examples))])

    online, mini, full = list(batches)
    epoch_losses = {label: loss_after(label, n) for label in batches}
    updates = {label: -(-n // B) for label, B in batches.items()}
    per_example = {label: histories[label]["seconds"][-1] / (cfg.epochs * n) for label in batches}
    run.record_time(
        "seconds_per_example_ratio_online_vs_minibatch", per_example[online] / per_example[mini]
    )
    run.figure(
        "loss_and_variance",
        batch_size_figure(histories, sizes, list(variance.values()), slope),
        f"Left and middle: training cross-entropy of the same {X.shape[1]}-{cfg.hidden}-10 tanh "
        f"network from the same start, SGD with η = {cfg.lr:g}, against examples seen and against "
        f"training seconds (this run: online took {per_example[online] / per_example[mini]:.1f}x "
        "the time per example of the mini-batch). Right: the measured variance of the "
        "mini-batch gradient, E‖g_B − g‖², at the initial weights; dashed: the 1/B law "
        "through B = 1.",
    )
    return {
        "train_examples": n,
        "epochs": cfg.epochs,
        "lr": cfg.lr,
        "loss_after_one_epoch": epoch_losses,
        "final_loss": {label: float(h["loss"][-1]) for label, h in histories.items()},
        "updates_per_epoch": updates,
        "gradient_variance": {str(B): v for B, v in variance.items()},
        "variance_loglog_slope": slope,
        "variance_ratio_online_vs_minibatch": float(ratio),
        "online_advantage": (
            f"more updates per example: after one epoch ({n} examples) online has taken "
            f"{updates[online]} steps to the mini-batch's {updates[mini]}, and its training "
            f"loss is {epoch_losses[online]:.3f} against {epoch_losses[mini]:.3f} "
            f"(B = {cfg.minibatch}) and {epoch_losses[full]:.3f} (full batch)"
        ),
        "online_disadvantage": (
            f"a noisier step: the variance of a one-example gradient is {ratio:.1f} times that of "
            f"a batch of {cfg.minibatch} (1/B predicts {cfg.minibatch}); and {updates[online]} "
            f"updates per epoch instead of {updates[mini]}, each a vector-matrix product where a "
            "batch makes one matrix-matrix product (the time per example is in status.json's "
            "timings: timings never go into summary.json)"
        ),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
