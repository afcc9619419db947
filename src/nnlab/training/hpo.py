"""Hyper-parameter search with Optuna: one search space, grid / random / TPE samplers, and
worker processes (on one machine or several) sharing a study through a storage.

    objective = Objective(x_train, y_train, x_val, y_val, n_classes=10, epochs=3, seed=0)
    sampler = make_sampler("tpe", seed=0, space=objective.space)
    study = open_study(None, "demo", sampler, settings={})  # None: in memory
    optimize(study, objective, n_trials=32, budget=32)

The objective trains ``MLP(in, (width,), n_classes, dropout)`` with Adam for a few epochs
and returns the validation accuracy. It is a deterministic function of the parameters
(fixed seed for initialisation, dropout and batch order), so every sampler searches the
same function and differences between samplers are not training noise.

Storages (`make_storage`): in memory, SQLite, PostgreSQL (any SQLAlchemy database) or a
journal file. Workers (`run_workers`) are separate processes (multiprocessing, spawn); each
opens the shared storage itself, runs its share of the trials and tags them with the user
attribute ``worker``. The budget is shared: shares add up to the trials still missing, and
every worker also stops once the study holds ``budget`` trials (`MaxTrialsCallback`), so
other processes (or machines) may join the same study (`take_part`). A worker that dies
mid-trial leaves a running trial whose heartbeat stops: the next worker to look fails it and
runs it again. Optuna is optional: `require_optuna` raises a one-line `UserError` when it is
missing.

`run_searches` runs a list of searches (one study each) through an nnlab run, in this
process or in workers, checkpointing after each; `best_of` summarises the searches of one
sampler and `retrain` measures how much the best configuration's score moves with the seed.
"""

from __future__ import annotations

import itertools
import math
import os
import socket
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from nnlab.config import SAMPLERS
from nnlab.errors import UserError
from nnlab.models import MLP
from nnlab.training.classifier import evaluate, train_epoch
from nnlab.training.optim import make_optimizer
from nnlab.training.pool import run_workers, shares
from nnlab.training.studies import (
    HEARTBEAT,
    completed_trials,
    count_trials,
    make_storage,
    open_study,
    require_optuna,
    take_part,
)
from nnlab.training.tensors import batches
from nnlab.training.threads import torch_threads

PARAMS = ("lr", "width", "dropout", "batch_size")


# --------------------------------------------------------------------------- search space


@dataclass(frozen=True)
class SearchSpace:
    """Learning rate (log-uniform), hidden width (integer, log-uniform), dropout (uniform)
    and batch size (categorical)."""

    lr: tuple[float, float] = (1e-4, 1e-1)
    width: tuple[int, int] = (16, 512)
    dropout: tuple[float, float] = (0.0, 0.5)
    batch_sizes: tuple[int, ...] = (32, 64, 128, 256)

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Draw one point through an Optuna trial (any sampler, grid included)."""
        return {
            "lr": trial.suggest_float("lr", *self.lr, log=True),
            "width": trial.suggest_int("width", *self.width, log=True),
            "dropout": trial.suggest_float("dropout", *self.dropout),
            "batch_size": trial.suggest_categorical("batch_size", list(self.batch_sizes)),
        }

    def grid(self, levels: Sequence[int]) -> dict[str, list]:
        """A small discretisation of the same space: `levels[i]` values of parameter i (in
        PARAMS order) at the centres of equal bins (log bins for lr and width)."""
        k_lr, k_width, k_drop, k_batch = levels

        def centres(lo: float, hi: float, k: int) -> np.ndarray:
            return lo + (hi - lo) * (np.arange(k) + 0.5) / k

        log_lr = centres(math.log10(self.lr[0]), math.log10(self.lr[1]), k_lr)
        log_w = centres(math.log2(self.width[0]), math.log2(self.width[1]), k_width)
        n = len(self.batch_sizes)
        return {
            "lr": [float(f"{10**v:.3g}") for v in log_lr],
            "width": sorted({int(round(2**v)) for v in log_w}),
            "dropout": [round(float(v), 4) for v in centres(*self.dropout, k_drop)],
            "batch_size": [self.batch_sizes[int((i + 0.5) * n / k_batch)] for i in range(k_batch)],
        }


def balanced_levels(budget: int, max_batch_levels: int = 4) -> tuple[int, ...]:
    """Grid levels (lr, width, dropout, batch size) whose product is exactly `budget`, as
    even as possible; extra levels go to the learning rate first."""
    divisors = [d for d in range(1, budget + 1) if budget % d == 0]
    best = None
    for a, b, c in itertools.product(divisors, repeat=3):
        if budget % (a * b * c):
            continue
        d = budget // (a * b * c)
        if d > max_batch_levels:
            continue
        t = (a, b, c, d)
        key = (max(t), -min(t), tuple(-x for x in t))
        if best is None or key < best[0]:
            best = (key, t)
    assert best is not None  # (budget, 1, 1, 1) always qualifies
    return best[1]


# --------------------------------------------------------------------------- objective


def standardised_rows(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Images flattened to C-contiguous float32 rows standardised with `mean` and `std`,
    as `Objective` takes them."""
    return np.ascontiguousarray(((x - mean) / std).reshape(len(x), -1), dtype=np.float32)


@dataclass
class Objective:
    """Validation accuracy of an MLP trained briefly with Adam (an Optuna objective).

    Arrays are NumPy (cheap to pickle to worker processes); `x_*` are flattened and
    normalised float32 rows."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    epochs: int
    seed: int
    space: SearchSpace = field(default_factory=SearchSpace)
    worker: str = "main"
    memo: dict = field(default_factory=dict, repr=False)
    """Scores already computed in this process (the objective is deterministic)."""

    def __call__(self, trial: Any) -> float:
        params = self.space.suggest(trial)
        trial.set_user_attr("worker", self.worker)
        key = tuple(params[k] for k in PARAMS)
        if key not in self.memo:
            self.memo[key] = self.train(params)["val_accuracy"]
        return self.memo[key]

    def train(
        self,
        params: dict[str, Any],
        seed: int | None = None,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Train with `params` (and `seed`, default the objective's); validation (and test)
        accuracy."""
        seed = self.seed if seed is None else seed
        x, y = torch.from_numpy(self.x_train), torch.from_numpy(self.y_train)
        torch.manual_seed(seed)
        model = MLP(x.shape[1], (int(params["width"]),), self.n_classes, "relu", params["dropout"])
        optimizer = make_optimizer("adam", model.parameters(), params["lr"])
        shuffle = torch.Generator().manual_seed(seed)
        batch_size = int(params["batch_size"])
        for _ in range(self.epochs):
            train_epoch(model, optimizer, None, x, y, batches(len(x), batch_size, shuffle))
        out = {
            "val_accuracy": evaluate(
                model, torch.from_numpy(self.x_val), torch.from_numpy(self.y_val)
            )[1]
        }
        if x_test is not None and y_test is not None:
            out["test_accuracy"] = evaluate(
                model, torch.from_numpy(x_test), torch.from_numpy(y_test)
            )[1]
        return out


# --------------------------------------------------------------------------- studies


def make_sampler(
    name: str,
    seed: int,
    space: SearchSpace,
    levels: Sequence[int] = (),
    startup_trials: int = 10,
) -> Any:
    """An Optuna sampler by name: `grid` (over `space.grid(levels)`), `random` or `tpe`."""
    optuna = require_optuna()
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(levels), seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                n_startup_trials=startup_trials, seed=seed, multivariate=True
            )
    raise UserError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")


# --------------------------------------------------------------------------- workers


@dataclass
class WorkerJob:
    """What one worker process does: for each (sampler, study name, trials, seed) in
    `tasks`, join the study in `storage` and take part in it (`take_part`: that many new
    trials, None for as many as the budget leaves), its sampler seeded with `worker_seed`.
    `objective` is an `Objective`, or any picklable callable of a trial with a `worker`
    attribute."""

    objective: Objective
    storage: str
    tasks: list[tuple[str, str, int | None, int]]
    budget: int
    space: SearchSpace
    levels: tuple[int, ...]
    startup_trials: int
    settings: dict[str, Any]
    threads: int = 1
    heartbeat: int = HEARTBEAT


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def sampler_seed(seed: int, worker: str) -> int:
    """A sampler seed per worker: workers of one study must not draw the same points."""
    return int(np.random.SeedSequence([seed, *worker.encode()]).generate_state(1)[0])


def worker_seed(sampler: str, seed: int, worker: str) -> int:
    """The seed of `worker`'s sampler in a shared study: the search's own for the grid (its
    sampler gives trial k the k-th point of the grid shuffled with the seed, so every worker
    must shuffle alike; trial numbers are unique, so no point is run twice and the study's
    trials are those of a one-process search), a seed of its own for the others."""
    return seed if sampler == "grid" else sampler_seed(seed, f"{worker}/{sampler}")


def quiet_optuna() -> Any:
    """Optuna logs only warnings and errors; returns the previous verbosity."""
    optuna = require_optuna()
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return before


def worker_main(job: WorkerJob) -> None:
    """Entry point of a worker process (also usable in-process)."""
    optuna = require_optuna()
    quiet_optuna()
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    if job.threads > 0:
        torch.set_num_threads(job.threads)
    me = worker_id()
    job.objective.worker = me
    storage = make_storage(job.storage, job.heartbeat)
    for sampler_name, study_name, n_trials, task_seed in job.tasks:
        seed = worker_seed(sampler_name, task_seed, me)
        sampler = make_sampler(sampler_name, seed, job.space, job.levels, job.startup_trials)
        study = open_study(storage, study_name, sampler, {**job.settings, "sampler": sampler_name})
        take_part(study, job.objective, job.budget, n_trials)


def settings_of(objective: Objective, budget: int, levels: Sequence[int]) -> dict[str, Any]:
    """What must agree between processes joining one study."""
    return {
        "space": asdict(objective.space),
        "epochs": objective.epochs,
        "seed": objective.seed,
        "n_train": len(objective.y_train),
        "n_val": len(objective.y_val),
        "budget": budget,
        "grid_levels": list(levels),
    }


# --------------------------------------------------------------------------- searches of a run


@dataclass(frozen=True)
class Search:
    """One search: a study of `budget` trials drawn by `sampler`, seeded with `seed`."""

    sampler: str
    study: str
    seed: int


def run_searches(
    run: Any,
    objective: Objective,
    searches: Sequence[Search],
    *,
    budget: int,
    levels: Sequence[int],
    startup_trials: int,
    settings: dict[str, Any],
    storage_url: str = "",
    workers: int = 1,
    threads: int = 1,
    heartbeat: int = HEARTBEAT,
    desc: str = "search",
) -> dict[str, list[dict[str, Any]]]:
    """Run every search until its study holds `budget` trials, through an nnlab run (progress
    bar, a checkpoint after each search, resume skipping the searches done); returns the
    completed trials of each study by study name and records the seconds per sampler.

    With one worker the searches run here, one after another; in memory (no `storage_url`)
    the sampler seeds are the searches' own, so the result is reproducible; in a shared
    storage (see `make_storage`) this process takes part with the others that joined the
    study (`take_part`, sampler seeds from `worker_seed`) and waits until the study is
    complete. With several workers the studies live in `storage_url` and `workers` spawned
    processes share every study's remaining trials. `settings` must agree between processes
    joining a study (see `settings_of`)."""
    optuna = require_optuna()
    trials: dict[str, list[dict]] = {}
    seconds: dict[str, float] = {}
    state = run.load_checkpoint()
    if state is not None:
        trials, seconds = state["trials"], state["seconds"]
    todo = [search for search in searches if search.study not in trials]

    before = quiet_optuna()
    bar = run.bar(
        total=len(searches) * budget,
        initial=(len(searches) - len(todo)) * budget,
        desc=desc,
        unit="trial",
    )
    storage = make_storage(storage_url, heartbeat)
    try:
        with warnings.catch_warnings(), torch_threads(threads):
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if workers == 1:
                if storage is not None:
                    objective.worker = worker_id()
                for search in todo:
                    started = time.perf_counter()
                    name, seed = search.sampler, search.seed
                    # reproducible in memory; in a shared storage every process draws its
                    # own points (but the grid's order)
                    if storage is not None:
                        seed = worker_seed(name, seed, worker_id())
                    sampler = make_sampler(name, seed, objective.space, levels, startup_trials)
                    study_settings = {**settings, "sampler": name}
                    study = open_study(storage, search.study, sampler, study_settings)
                    bar.update(min(budget, count_trials(study)))
                    take_part(study, objective, budget, callback=lambda st, t: bar.update(1))
                    trials[study.study_name] = completed_trials(study)
                    seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
                    run.save_checkpoint({"trials": trials, "seconds": seconds})
            else:
                started = time.perf_counter()
                studies = {
                    search: open_study(
                        storage, search.study, None, {**settings, "sampler": search.sampler}
                    )
                    for search in todo
                }
                split = {
                    search: shares(budget - count_trials(st), workers)
                    for search, st in studies.items()
                }
                jobs = [
                    WorkerJob(
                        objective=objective,
                        storage=storage_url,
                        tasks=[(s.sampler, s.study, split[s][i], s.seed) for s in todo],
                        budget=budget,
                        space=objective.space,
                        levels=tuple(levels),
                        startup_trials=startup_trials,
                        settings=settings,
                        threads=max(threads, 1),
                        heartbeat=heartbeat,
                    )
                    for i in range(workers)
                ]
                done_before = bar.n

                def poll() -> None:
                    count = sum(len(completed_trials(st)) for st in studies.values())
                    bar.update(max(0, done_before + count - bar.n))

                run_workers(jobs, worker_main, poll, what="hyper-parameter search worker")
                for st in studies.values():
                    trials[st.study_name] = completed_trials(st)
                seconds["all_samplers"] = time.perf_counter() - started
                run.save_checkpoint({"trials": trials, "seconds": seconds})
    finally:
        bar.close()
        optuna.logging.set_verbosity(before)
    for name, s in seconds.items():
        run.record_time(f"search_{name}_seconds", s)
    return trials


def best_of(sampler: str, searches: Sequence[list[dict[str, Any]]]) -> dict[str, Any]:
    """The best trial over the searches of one sampler (ties: the earlier search and trial),
    the mean of the searches' best scores, and how the trials spread over the workers (and,
    with several searches, over the searches)."""
    if not all(searches):
        raise UserError(
            f"a {sampler} study has no completed trial; check the workers' errors, "
            "or use another study name"
        )
    bests = [max(ts, key=lambda t: t["value"]) for ts in searches]
    k_best = max(range(len(bests)), key=lambda k: bests[k]["value"])
    best = bests[k_best]
    workers: dict[str, int] = {}
    for ts in searches:
        for t in ts:
            workers[t["worker"]] = workers.get(t["worker"], 0) + 1
    values = np.array([b["value"] for b in bests])
    out: dict[str, Any] = {
        "best_value": best["value"],
        "best_params": best["params"],
        "best_trial": searches[k_best].index(best) + 1,
        "mean_best": float(values.mean()),
        "n_trials": sum(len(ts) for ts in searches),
        "trials_per_worker": sorted(workers.values(), reverse=True),
    }
    if len(searches) > 1:
        out.update(
            best_search=k_best,
            best_per_search=[float(v) for v in values],
            std_best=float(values.std(ddof=1)),
            trials_per_search=[len(ts) for ts in searches],
        )
    return out


def retrain(
    objective: Objective,
    params: dict[str, Any],
    seeds: Sequence[int],
    x_test: np.ndarray,
    y_test: np.ndarray,
) -> dict[str, Any]:
    """Validation and test accuracy of `params` retrained with each seed: their values,
    means and standard deviations (None for one seed), and the first seed's test accuracy."""
    outcomes = [objective.train(params, seed, x_test, y_test) for seed in seeds]
    val = np.array([x["val_accuracy"] for x in outcomes])
    test = np.array([x["test_accuracy"] for x in outcomes])
    return {
        "reeval_val_accuracies": [float(v) for v in val],
        "reeval_test_accuracies": [float(v) for v in test],
        "reeval_val_mean": float(val.mean()),
        "reeval_val_std": float(val.std(ddof=1)) if len(val) > 1 else None,
        "reeval_test_mean": float(test.mean()),
        "reeval_test_std": float(test.std(ddof=1)) if len(test) > 1 else None,
        "test_accuracy": float(test[0]),
    }
