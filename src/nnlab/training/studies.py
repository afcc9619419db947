"""Optuna studies shared through a storage: in memory, SQLite, PostgreSQL (any SQLAlchemy
database) or a journal file (`make_storage`), opened and joined by any number of processes
(`open_study`, `take_part`), with heartbeats so that a trial whose worker died is failed and run
again. Optuna is optional: `require_optuna` raises a one-line `UserError` when it is missing.

    study = open_study(make_storage("journal:///runs/search.log"), "demo", sampler, settings)
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from typing import Any

from nnlab.errors import UserError


def require_optuna(what: str = "hparam-search") -> Any:
    """Import Optuna, or raise a one-line UserError that says how to install it."""
    try:
        import optuna
    except ImportError:
        raise UserError(f"{what} needs Optuna: pip install 'nnlab[hpo]'") from None
    return optuna


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
