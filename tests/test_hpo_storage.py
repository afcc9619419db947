"""Searches shared between processes through PostgreSQL and through a journal file, as on
several machines: every process is its own `python tests/hpo_worker.py` (or `nnlab run`),
joining one study by URL.

* Two processes on one grid study run every grid point once: the completed trials add up to
  the budget, and the best trial is a one-process search's.
* A worker killed (SIGKILL) inside a trial leaves a running trial whose heartbeat stops; a
  later worker fails it (after twice the heartbeat), runs its point again and completes
  the study.

PostgreSQL: the `pg_url` fixture (tests/pg.py) gives each test a fresh database on the server
of `NNLAB_TEST_PG_URL`, or on a throw-away server it starts; without one they skip (and fail
under CI).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import hpo_worker
from needs import need_module
from nnlab.cli import main
from nnlab.training import hpo, studies

optuna = need_module("optuna", "hparam-search needs optuna (pip install -e .[dev])")

WORKER = Path(__file__).resolve().parent / "hpo_worker.py"

BUDGET = 24  # the whole grid of hpo_worker.LEVELS
State = optuna.trial.TrialState


@pytest.fixture(params=["postgresql", "journal"])
def url(request, tmp_path) -> str:
    if request.param == "journal":
        return f"journal:///{tmp_path / 'study.log'}"  # an absolute path: journal:////tmp/...
    return request.getfixturevalue("pg_url")


def _worker(url: str, study: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, study, "grid", str(BUDGET), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(p: subprocess.Popen) -> str:
    out, err = p.communicate(timeout=180)
    assert p.returncode == 0, err
    return out


def _one_process_best() -> tuple[float, dict]:
    """The same grid search in this process, in memory."""
    hpo.quiet_optuna()
    job = hpo_worker.job("", "reference", "grid", BUDGET)
    job.objective.delay = 0.0
    sampler = hpo.make_sampler("grid", hpo_worker.SEED, job.space, job.levels)
    study = studies.open_study(None, "reference", sampler, job.settings)
    studies.take_part(study, job.objective, BUDGET)
    assert len(studies.completed_trials(study)) == BUDGET
    return study.best_value, study.best_params


def _study(url: str, name: str):
    return optuna.load_study(study_name=name, storage=studies.make_storage(url))


def _grid_points() -> set:
    grid = hpo_worker.SPACE.grid(hpo_worker.LEVELS)
    return {
        (lr, w, d, b)
        for lr in grid["lr"]
        for w in grid["width"]
        for d in grid["dropout"]
        for b in grid["batch_size"]
    }


def _point(t) -> tuple:
    return tuple(t.params[k] for k in hpo.PARAMS)


@pytest.mark.slow
def test_two_processes_share_a_grid_study_and_find_the_one_process_best(url, tmp_path):
    (tmp_path / "started").mkdir()
    together = ("--together", str(tmp_path / "started"), "2")
    workers = [_worker(url, "shared", *together), _worker(url, "shared", *together)]
    for p in workers:
        _finish(p)

    trials = _study(url, "shared").get_trials()
    complete = [t for t in trials if t.state == State.COMPLETE]
    others = [t for t in trials if t.state != State.COMPLETE]
    # both may start a trial when one place is left: the later is pruned as surplus
    assert all(t.state == State.PRUNED and t.user_attrs["surplus"] for t in others), others
    assert len(complete) == BUDGET
    assert {_point(t) for t in complete} == _grid_points()  # every point once
    per_worker = Counter(t.user_attrs["worker"] for t in complete)
    print(f"{studies.storage_kind(url)}: trials per worker {sorted(per_worker.values())}")
    assert len(per_worker) == 2 and sum(per_worker.values()) == BUDGET
    best = max(complete, key=lambda t: t.value)
    assert (best.value, best.params) == _one_process_best()


@pytest.mark.slow
def test_a_worker_killed_mid_trial_leaves_a_study_another_worker_completes(url):
    hung = _worker(url, "killed", "--hang-at", "3")
    assert hung.stdout.readline() == "hanging in trial 3\n"
    hung.send_signal(signal.SIGKILL)
    hung.communicate(timeout=30)
    assert hung.returncode == -signal.SIGKILL

    before = _study(url, "killed").get_trials()
    assert [t.state for t in before] == [State.COMPLETE] * 3 + [State.RUNNING]
    killed = before[3]
    started = time.monotonic()
    out = _finish(_worker(url, "killed"))  # the heartbeat is 1 s: stale 2 s after the kill
    assert out.endswith("done\n")
    seconds = time.monotonic() - started
    print(f"{studies.storage_kind(url)}: the later worker finished in {seconds:.1f} s")

    trials = _study(url, "killed").get_trials()
    states = Counter(t.state for t in trials)
    assert states == {State.COMPLETE: BUDGET, State.FAIL: 1}, states
    (failed,) = [t for t in trials if t.state == State.FAIL]
    assert failed.number == 3 and failed.params == killed.params
    complete = [t for t in trials if t.state == State.COMPLETE]
    (retry,) = [t for t in complete if t.system_attrs.get("failed_trial") == 3]
    assert retry.params == killed.params
    assert {_point(t) for t in complete} == _grid_points()
    per_worker = Counter(t.user_attrs["worker"] for t in complete)
    assert sorted(per_worker.values()) == [3, BUDGET - 3], per_worker
    best = max(complete, key=lambda t: t.value)
    assert (best.value, best.params) == _one_process_best()


@pytest.mark.slow
def test_hparam_search_with_two_workers_in_a_shared_storage_matches_one_process(url, tmp_path):
    args = ["run", "hparam-search", "--preset", "smoke", "--quiet", "--set", "samplers=grid"]
    args += ["--set", "reeval_seeds=0"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    shared = ["--set", f"storage={url}", "--set", "workers=2"]
    assert main([*args, *shared, "--out", str(tmp_path / "two")]) == 0
    (one,) = tmp_path.glob("one/hparam-search/*/summary.json")
    (two,) = tmp_path.glob("two/hparam-search/*/summary.json")
    one, two = json.loads(one.read_text()), json.loads(two.read_text())
    assert two["storage"] == studies.storage_kind(url) and two["workers"] == 2
    (r1,), (r2,) = one["results"], two["results"]
    assert r2["n_trials"] == r1["n_trials"] == 8 and r2["trials_per_worker"] == [4, 4]
    assert (r2["best_value"], r2["best_params"]) == (r1["best_value"], r1["best_params"])


def test_storage_urls_and_their_errors(tmp_path):
    assert studies.storage_kind("") == "in-memory"
    assert studies.storage_kind("postgresql+psycopg://u@h/db") == "postgresql"
    assert studies.storage_kind("journal:///s.log") == "journal"
    assert studies.journal_path("journal:////abs/s.log") == "/abs/s.log"
    assert studies.journal_path("journal:///rel/s.log") == "rel/s.log"
    with pytest.raises(hpo.UserError, match="must name a file"):
        studies.journal_path("journal://s.log")
    with pytest.raises(hpo.UserError, match="cannot open journal file"):
        studies.make_storage(f"journal:///{tmp_path}/missing/s.log")
    with pytest.raises(hpo.UserError, match="postgresql\\+psycopg://"):
        studies.make_storage("postgresql://u@127.0.0.1/db")  # SQLAlchemy's default: psycopg2
    with pytest.raises(hpo.UserError) as err:  # nothing listens on port 1
        studies.make_storage("postgresql+psycopg://me:secret@127.0.0.1:1/db")
    assert "cannot open study storage" in str(err.value) and "secret" not in str(err.value)
