"""Train N models through one nnlab run: each training is a task, run here or in worker
processes (`workers`), its result saved to `checkpoints/runs/<name>.pt` as soon as it is
done, so a resumed run trains only the tasks still missing.

    results = train_runs(run, train_classifier, {"seed0": spec0, "seed1": spec1}, workers=2)

A task is `fn(**spec)` for a module-level `fn` (importable by a spawned process) whose result
is a dict of tensors, numbers, strings and lists of them (saved with `torch.save`, read back
with `weights_only=True`). A task must seed itself from its spec; then its result does not
depend on the number of workers. The processes are `nnlab.training.pool.run_workers`'.

`train_classifier` is the task most experiments here run: an MLP trained with one optimizer
for some epochs, with per-epoch metrics measured on the whole sets in eval mode, optional
flat-parameter snapshots and an optional stop once every training example is fitted.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nnlab.io import atomic_write_bytes
from nnlab.training.classifier import evaluate, train_epoch
from nnlab.training.optim import make_optimizer
from nnlab.training.pool import run_workers, shares
from nnlab.training.tensors import batches
from nnlab.training.threads import torch_threads

RESULTS = "checkpoints/runs"


@dataclass
class _Share:
    fn: Callable[..., dict]
    tasks: list[tuple[str, dict]]
    folder: str
    threads: int


def _save(folder: Path, name: str, result: dict) -> None:
    buf = io.BytesIO()
    torch.save(result, buf)
    atomic_write_bytes(folder / f"{name}.pt", buf.getvalue())


def _load(folder: Path, name: str) -> dict:
    return torch.load(folder / f"{name}.pt", map_location="cpu", weights_only=True)


def _work(share: _Share) -> None:
    """A worker process: run its tasks one after another, saving each result."""
    torch.set_num_threads(max(share.threads, 1))
    for name, spec in share.tasks:
        _save(Path(share.folder), name, share.fn(**spec))


def train_runs(
    run: Any,
    fn: Callable[..., dict],
    tasks: Mapping[str, dict],
    *,
    workers: int = 1,
    threads: int = 1,
    desc: str = "",
) -> dict[str, dict]:
    """`fn(**tasks[name])` for every name, through `run`: tasks already saved in the run
    directory are loaded, not repeated; the others run here (`workers=1`) or in `workers`
    spawned processes sharing them (each with `threads` torch threads). Returns the results
    by name in the order of `tasks`; records the seconds the missing tasks took."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    bad = [n for n in tasks if not n or "/" in n or n.startswith(".")]
    if bad:
        raise ValueError(f"task names must be plain file names, got {bad}")
    run.load_checkpoint()  # a resumed run's metrics lines are rewound: they are logged after
    folder = run.dir / RESULTS
    folder.mkdir(parents=True, exist_ok=True)

    def done() -> list[str]:
        return [n for n in tasks if (folder / f"{n}.pt").exists()]

    todo = [n for n in tasks if n not in done()]
    bar = run.bar(total=len(tasks), initial=len(tasks) - len(todo), desc=desc, unit="run")
    started = time.perf_counter()
    if workers == 1 or len(todo) <= 1:
        with torch_threads(threads):
            for name in todo:
                _save(folder, name, fn(**tasks[name]))
                bar.update(1)
    else:
        # tasks dealt round-robin, so the slow ones (often the last) spread over the workers
        count = min(workers, len(todo))
        dealt = [todo[i::count] for i in range(count)]
        assert [len(d) for d in dealt] == shares(len(todo), count)
        jobs = [_Share(fn, [(n, dict(tasks[n])) for n in d], str(folder), threads) for d in dealt]

        def poll() -> None:
            bar.update(len(done()) - bar.n)

        run_workers(jobs, _work, poll, what="training worker")
    bar.close()
    if todo:
        run.record_time("train_runs_seconds", time.perf_counter() - started)
    return {name: _load(folder, name) for name in tasks}


# --------------------------------------------------------------------------- one classifier


def train_classifier(
    *,
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    hidden: Sequence[int],
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    optimizer: str = "adam",
    activation: str = "relu",
    batch_norm: bool = False,
    snapshot_every: int = 0,
    stop_when_fitted: bool = False,
) -> dict:
    """Train `MLP(features, hidden, classes)` (with BatchNorm after every hidden Linear when
    `batch_norm`) on (x, y) for `epochs` epochs, seeded by `seed`
    (initialisation and batch order). After every epoch the training and test loss and
    accuracy are measured in eval mode on the whole sets (`train_loss`, ... lists, one value
    per epoch). With `snapshot_every` k > 0 the flat parameters at epoch 0, k, 2k, ... are
    kept (`snapshots`, (K, P), and `snapshot_epochs`; `first_layer` is the first layer's
    weights, (K, P₁)). With `stop_when_fitted` training stops after the first epoch with 100%
    training accuracy. Returns those and the final `state` (a state_dict)."""
    from nnlab.dynamics.params import flat_parameters
    from nnlab.models import MLP

    torch.manual_seed(seed)
    n_classes = int(max(int(y.max()), int(y_test.max())) + 1)
    model = MLP(x.shape[1], tuple(hidden), n_classes, activation, batch_norm=batch_norm)
    opt = make_optimizer(optimizer, model.parameters(), lr)
    order = torch.Generator().manual_seed(seed)
    history: dict[str, list] = {k: [] for k in ("train_loss", "train_accuracy")}
    history |= {"test_loss": [], "test_accuracy": []}
    snapshots, first_layer, snapshot_epochs = [], [], []
    first = next(model.parameters())

    def snapshot(epoch: int) -> None:
        snapshots.append(flat_parameters(model))
        first_layer.append(first.detach().reshape(-1).clone())
        snapshot_epochs.append(epoch)

    if snapshot_every:
        snapshot(0)
    for epoch in range(1, epochs + 1):
        order_batches = batches(len(x), batch_size, order)
        if batch_norm:  # BatchNorm cannot normalise one example: a lone last one sits out
            order_batches = (b for b in order_batches if len(b) > 1)
        train_epoch(model, opt, None, x, y, order_batches)
        for split, (xs, ys) in (("train", (x, y)), ("test", (x_test, y_test))):
            loss, acc, _ = evaluate(model, xs, ys)
            history[f"{split}_loss"].append(loss)
            history[f"{split}_accuracy"].append(acc)
        if snapshot_every and epoch % snapshot_every == 0:
            snapshot(epoch)
        if stop_when_fitted and history["train_accuracy"][-1] == 1.0:
            break
    out: dict[str, Any] = {**history, "epochs": len(history["train_loss"])}
    out["state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    out["parameters"] = sum(p.numel() for p in model.parameters())
    if snapshot_every:
        out |= {
            "snapshots": torch.stack(snapshots),
            "first_layer": torch.stack(first_layer),
            "snapshot_epochs": snapshot_epochs,
        }
    return out


def mlp_widths_for_budget(n_in: int, n_out: int, depth: int, budget: int) -> tuple[int, ...]:
    """Hidden widths (w, ..., w, v) of `depth` layers whose parameter count is closest to
    `budget`: equal layers but the last, whose width v makes up the rest, so even small
    networks land within a few parameters of the budget (equal widths alone move in steps
    of ~2(depth−1)w parameters). ValueError if width 1 is already over budget."""
    from nnlab.models import mlp_parameter_count, width_for_budget

    if depth == 1:
        return (width_for_budget(n_in, n_out, 1, budget),)
    w0 = width_for_budget(n_in, n_out, depth, budget)
    candidates = []
    for w in range(max(1, w0 // 2), 2 * w0 + 2):
        # the count is linear in v: P(v) = P(0) + v (w + 1 + n_out)
        base = mlp_parameter_count(n_in, (w,) * (depth - 1) + (0,), n_out)
        v0 = (budget - base) / (w + 1 + n_out)
        for v in {max(1, int(v0)), max(1, int(v0) + 1)}:
            widths = (w,) * (depth - 1) + (v,)
            candidates.append((abs(mlp_parameter_count(n_in, widths, n_out) - budget), widths))
    # the most nearly equal layers among those within 0.2% of the budget, else the closest
    close = [c for c in candidates if c[0] <= 0.002 * budget]
    if close:
        return min(close, key=lambda c: (abs(c[1][-1] - c[1][0]), c[0]))[1]
    return min(candidates)[1]


# --------------------------------------------------------------------------- one regressor


def train_regressor(
    *,
    x: torch.Tensor,
    y: torch.Tensor,
    x_eval: torch.Tensor,
    hidden: Sequence[int],
    steps: int,
    lr: float,
    seed: int,
    activation: str = "relu",
    log_every: int = 10,
    snapshot_every: int = 0,
) -> dict:
    """Fit `MLP(1, hidden, 1)` to (x, y) (column vectors) by full-batch Adam on the mean
    squared error for `steps` steps, seeded by `seed`. With `snapshot_every` k > 0 the flat
    parameters before step 1 and after steps k, 2k, ... are kept (`snapshots`, `first_layer`,
    `snapshot_epochs`: a full-batch step is an epoch, and the loss there, `snapshot_loss`), as
    `train_classifier` keeps them. The network fits y standardised (zero
    mean, unit variance: cos(x) + 0.5x² spans 0-50 and its gradients would kill narrow ReLU
    nets), its output is mapped back, and every loss is in y's own units. Returns the loss
    every `log_every` steps (`loss`, with `loss_steps`), the final loss, the variance of y,
    the predictions at `x_eval`, the parameter count and the final `state` (of the
    standardised fit)."""
    from nnlab.models import MLP

    torch.manual_seed(seed)
    model = MLP(x.shape[1], tuple(hidden), y.shape[1], activation).to(x.dtype)
    opt = make_optimizer("adam", model.parameters(), lr)
    mean, std = y.mean(), y.std()
    z = (y - mean) / std
    losses, at = [], []
    snapshots, first_layer, snapshot_epochs, snapshot_loss = [], [], [], []
    first = next(model.parameters())

    def snapshot(step: int) -> None:
        from nnlab.dynamics.params import flat_parameters

        with torch.no_grad():
            snapshot_loss.append(float(torch.nn.functional.mse_loss(model(x) * std + mean, y)))
        snapshots.append(flat_parameters(model))
        first_layer.append(first.detach().reshape(-1).clone())
        snapshot_epochs.append(step)

    if snapshot_every:
        snapshot(0)
    for step in range(steps):
        loss = torch.nn.functional.mse_loss(model(x), z)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % log_every == 0:
            losses.append(loss.detach() * std**2)
            at.append(step)
        if snapshot_every and (step + 1) % snapshot_every == 0:
            snapshot(step + 1)
    with torch.no_grad():
        final = float(torch.nn.functional.mse_loss(model(x) * std + mean, y))
        prediction = (model(x_eval) * std + mean).reshape(-1)
    return {
        "variance": float(y.var(unbiased=False)),
        "loss": torch.stack(losses),
        "loss_steps": at,
        "final_loss": final,
        "prediction": prediction,
        "parameters": sum(p.numel() for p in model.parameters()),
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
    } | (
        {
            "snapshots": torch.stack(snapshots),
            "first_layer": torch.stack(first_layer),
            "snapshot_epochs": snapshot_epochs,
            "snapshot_loss": snapshot_loss,
        }
        if snapshot_every
        else {}
    )
