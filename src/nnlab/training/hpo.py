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
import json
import math
import os
import socket
import time
import warnings
from collections.abc import Callable, Sequence
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
from nnlab.training.tensors import batches
from nnlab.training.threads import torch_threads

PARAMS = ("lr", "width", "dropout", "batch_size")


def require_optuna(what: str = "hparam-search") -> Any:
    """Import Optuna, or raise a one-line UserError that says how to install it."""
    try:
        import optuna
    except ImportError:
        raise UserError(f"{what} needs Optuna: pip install 'nnlab[hpo]'") from None
    return optuna


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


HEARTBEAT = 30
"""Seconds between the signs of life a worker gives for the trial it runs in a shared storage;
a running trial silent for twice that is failed and retried once by another worker."""
RETRIES = 1
"""How often a trial whose worker died is run again (a configuration that kills its worker
every time is then left failed)."""
_HEARTBEAT_ATTR = "nnlab:heartbeat"


def storage_kind(url: str | None) -> str:
    """`in-memory`, `sqlite`, `postgresql`, `journal`, ... (the URL's scheme, driver dropped)."""
    if not url:
        return "in-memory"
    return url.split(":", 1)[0].split("+", 1)[0]


def journal_path(url: str) -> str:
    """The file of a `journal:///relative/path.log` or `journal:////absolute/path.log` URL
    (slashes as in SQLAlchemy's sqlite URLs)."""
    if not url.startswith("journal:///") or len(url) == len("journal:///"):
        raise UserError(
            f"journal storage URL {url!r} must name a file: journal:///study.log (relative) "
            "or journal:////shared/study.log (absolute)"
        )
    return url[len("journal:///") :]


def make_storage(url: str | None, heartbeat: int = HEARTBEAT) -> Any:
    """None for Optuna's in-memory storage (no URL); otherwise a storage several processes or
    machines share:

    * a database URL (SQLAlchemy's): `sqlite:///study.db` (one machine; waits up to 60 s for
      a lock), `postgresql+psycopg://user:password@host:5432/db` (several machines; needs
      `pip install 'nnlab[pg]'`), any other database SQLAlchemy and Optuna know;
    * `journal:///study.log` (relative) or `journal:////shared/study.log` (absolute): Optuna's
      JournalStorage appending to one file, e.g. on a network filesystem every machine mounts
      (no database server; locks with a symlink beside the file, which NFS supports).

    Every worker sends a heartbeat every `heartbeat` seconds while it runs a trial; a running
    trial silent for twice that (its worker was killed, or its machine died) is failed by the
    next worker that looks and retried once with the same parameters (`RETRIES`). For the
    journal the silence is measured with the machines' clocks (keep them in sync), for a
    database with the database server's."""
    if not url:
        return None
    optuna = require_optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=RETRIES)
        if url.startswith("journal:"):
            path = journal_path(url)
            try:
                backend = optuna.storages.journal.JournalFileBackend(path)
            except OSError as exc:
                raise UserError(
                    f"cannot open journal file {path}: {exc.strerror or exc}; "
                    "check that its folder exists and is writable"
                ) from None
            return _journal_storage_class()(backend, heartbeat, 2 * heartbeat, retry)
        if url.startswith(("postgresql://", "postgres://")):
            raise UserError(
                "name PostgreSQL's driver in the storage URL: postgresql+psycopg://... "
                "(psycopg 3, pip install 'nnlab[pg]')"
            )
        if url.startswith("postgresql+psycopg:") or url.startswith("postgresql+psycopg2:"):
            driver = "psycopg2" if url.startswith("postgresql+psycopg2:") else "psycopg"
            try:
                __import__(driver)
            except ImportError:
                raise UserError(
                    f"storage {storage_kind(url)} needs the {driver} driver: "
                    "pip install 'nnlab[pg]'"
                ) from None
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs = {"connect_args": {"timeout": 60}}
        for attempt in range(3):
            try:
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=kwargs,
                    heartbeat_interval=heartbeat,
                    grace_period=2 * heartbeat,
                    heartbeat_stale_trial_callback=retry,
                )
            except Exception as exc:  # bad URL, missing driver, no server, unwritable file...
                # processes starting together on an empty database race to create Optuna's
                # tables (PostgreSQL: UniqueViolation); the loser finds them made a moment later
                text = str(exc)
                if attempt < 2 and ("UniqueViolation" in text or "already exists" in text):
                    time.sleep(0.5 + attempt)
                    continue
                shown = _without_password(url)
                message = f"cannot open study storage {shown!r}: {exc}".splitlines()[0]
                raise UserError(message.replace(url, shown)) from None
        raise AssertionError("unreachable")


def _without_password(url: str) -> str:
    """`url` with the password of `user:password@host` replaced by ***."""
    scheme, sep, rest = url.partition("://")
    auth, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in auth:
        return url
    return f"{scheme}://{auth.split(':', 1)[0]}:***@{host}"


_JOURNAL_CLASS: Any = None


def _journal_storage_class() -> type:
    """Optuna's JournalStorage with the heartbeat its RDBStorage has (Optuna gives the journal
    none): the worker records the time in a system attribute of its running trial; a running
    trial whose last heartbeat (or start) is older than the grace period is stale."""
    global _JOURNAL_CLASS
    if _JOURNAL_CLASS is not None:
        return _JOURNAL_CLASS
    import datetime as dt

    from optuna.storages import JournalStorage
    from optuna.storages._heartbeat import BaseHeartbeat
    from optuna.trial import TrialState

    class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
        def __init__(self, backend: Any, interval: int, grace: int, on_stale: Any) -> None:
            super().__init__(backend)
            self._interval, self._grace, self._on_stale = interval, grace, on_stale

        def record_heartbeat(self, trial_id: int) -> None:
            self.set_trial_system_attr(trial_id, _HEARTBEAT_ATTR, time.time())

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:
            now = time.time()
            stale = []
            for t in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
                started = t.datetime_start or dt.datetime.now()
                last = max(float(t.system_attrs.get(_HEARTBEAT_ATTR, 0.0)), started.timestamp())
                if now - last > self._grace:
                    stale.append(t._trial_id)
            return stale

        def get_heartbeat_interval(self) -> int | None:
            return self._interval

        def get_heartbeat_stale_trial_callback(self) -> Any:
            return self._on_stale

    _JOURNAL_CLASS = HeartbeatJournalStorage
    return _JOURNAL_CLASS


def open_study(storage: Any, name: str, sampler: Any, settings: dict[str, Any]) -> Any:
    """Create the study or join it (`load_if_exists`); refuse one made with other settings."""
    optuna = require_optuna()
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        sampler=sampler,
        direction="maximize",
        load_if_exists=True,
    )
    wanted = json.loads(json.dumps(settings))
    found = study.user_attrs.get("nnlab_settings")
    if found is None:
        study.set_user_attr("nnlab_settings", wanted)
    elif found != wanted:
        diff = ", ".join(
            f"{k} {found.get(k)!r} (wanted {wanted.get(k)!r})"
            for k in sorted(set(found) | set(wanted))
            if found.get(k) != wanted.get(k)
        )
        raise UserError(
            f"study {name!r} in the storage was made with other settings: {diff}; "
            "use another --set study=NAME or the same settings"
        )
    return study


def _taken_states() -> tuple:
    optuna = require_optuna()
    S = optuna.trial.TrialState
    return (S.COMPLETE, S.RUNNING, S.WAITING)


def count_trials(study: Any) -> int:
    """Trials that take a place in the budget: completed, running (they are taken) and waiting
    (a retry of a trial whose worker died). Failed trials do not count (their retry does), nor
    pruned ones (a trial started after other processes had filled the budget, see `optimize`)."""
    return len(study.get_trials(deepcopy=False, states=_taken_states()))


def completed_trials(study: Any) -> list[dict[str, Any]]:
    """Completed trials as plain data, by trial number."""
    optuna = require_optuna()
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return [
        {
            "number": t.number,
            "value": float(t.value),
            "params": dict(t.params),
            "worker": str(t.user_attrs.get("worker", "?")),
        }
        for t in sorted(done, key=lambda t: t.number)
    ]


def optimize(
    study: Any,
    objective: Callable[[Any], float],
    n_trials: int,
    budget: int,
    callback: Callable[[Any, Any], None] | None = None,
) -> None:
    """Run up to `n_trials` trials, stopping early once the study holds `budget` trials.

    Processes that do not share out the work (one per machine) may start a trial together
    when one place is left; the trial numbered after the budget is full is pruned at once
    (user attribute ``surplus``) and not counted, so the study ends with exactly `budget`."""
    optuna = require_optuna()
    if n_trials <= 0:
        return
    taken = _taken_states()

    def guarded(trial: Any) -> float:
        before = [
            t for t in study.get_trials(deepcopy=False, states=taken) if t.number < trial.number
        ]
        if len(before) >= budget:
            trial.set_user_attr("surplus", True)
            raise optuna.TrialPruned()
        return objective(trial)

    callbacks = [optuna.study.MaxTrialsCallback(budget, states=taken)]
    if callback is not None:
        callbacks.append(callback)
    study.optimize(guarded, n_trials=n_trials, callbacks=callbacks)


def take_part(
    study: Any,
    objective: Callable[[Any], float],
    budget: int,
    n_trials: int | None = None,
    callback: Callable[[Any, Any], None] | None = None,
    poll: float = 1.0,
) -> None:
    """Work on `study` until it holds `budget` completed trials: start at most `n_trials` new
    trials here (None: as many as the budget leaves), run the retries of trials whose worker
    died (see `make_storage`), and wait while other processes still run trials, so that every
    process ends with the whole study. With a share (`n_trials`) a worker never takes another
    worker's share; without one it takes whatever is left."""
    optuna = require_optuna()
    S = optuna.trial.TrialState
    quota = budget if n_trials is None else n_trials
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        states = [t.state for t in study.get_trials(deepcopy=False)]
        complete, running, waiting = (states.count(s) for s in (S.COMPLETE, S.RUNNING, S.WAITING))
        new = min(max(0, budget - complete - running - waiting), quota)
        if new + waiting > 0:
            optimize(study, objective, new + waiting, budget, callback)
            quota -= new
        elif running:  # other processes' trials: wait for them (or for them to go stale)
            time.sleep(poll)
        else:
            return


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
