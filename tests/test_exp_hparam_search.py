"""hparam-search: equal budgets, grid over the same space, determinism, and two worker
processes sharing one sqlite study."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from figcheck import check_figure
from needs import need_module
from nnlab.cli import main
from nnlab.experiments.training.hparam_search import Config, verdict
from nnlab.training import hpo, studies

optuna = need_module("optuna", "hparam-search needs optuna (pip install -e .[dev])")

SMOKE = ["run", "hparam-search", "--preset", "smoke", "--quiet"]


def _summary(root) -> tuple[bytes, dict]:
    (path,) = root.glob("hparam-search/*/summary.json")
    raw = path.read_bytes()
    return raw, json.loads(raw)


def test_smoke_equal_budgets_and_same_seed_identical_summary(tmp_path):
    assert main([*SMOKE, "--out", str(tmp_path / "a")]) == 0
    assert main([*SMOKE, "--out", str(tmp_path / "b")]) == 0
    raw_a, s = _summary(tmp_path / "a")
    raw_b, _ = _summary(tmp_path / "b")
    assert raw_a == raw_b  # workers=1, in-memory storage: reproducible to the byte

    results = {r["sampler"]: r for r in s["results"]}
    assert list(results) == ["grid", "random", "tpe"]
    assert s["budget"] == 8 and s["total_trials"] == 24
    assert s["storage"] == "in-memory"
    for name, r in results.items():
        assert r["n_trials"] == 8 and r["trials_per_worker"] == [8], name
        assert r["mean_best"] == r["best_value"]  # one search per sampler
        # digits, 1000 images, 2 epochs: every sampler finds a configuration > 90%
        assert r["best_value"] > 0.9, (name, r["best_value"])
        assert s[f"best_val_accuracy_{name}"] == r["best_value"]
        # the retrain with the search's own seed reproduces the search's score
        assert r["reeval_val_accuracies"][0] == r["best_value"]
        assert len(r["reeval_val_accuracies"]) == 2
        # the spread of the re-evaluations (sample standard deviation), small on digits
        assert r["reeval_val_std"] == pytest.approx(np.std(r["reeval_val_accuracies"], ddof=1))
        assert r["reeval_val_std"] < 0.05
        assert r["test_accuracy"] == r["reeval_test_accuracies"][0] > 0.85
    assert s["best_val_accuracy"] == max(r["best_value"] for r in results.values())
    assert isinstance(s["tpe_ge_random_ge_grid"], bool) and s["verdict"]

    # the grid is a discretisation of the same space, with budget = grid size
    assert s["grid_levels"] == [2, 2, 2, 1]
    grid, space = s["grid"], Config(width_high=128).space()
    assert math.prod(len(v) for v in grid.values()) == 8
    assert all(space.lr[0] <= v <= space.lr[1] for v in grid["lr"])
    assert all(space.width[0] <= v <= space.width[1] for v in grid["width"])
    assert grid["batch_size"] == [128]
    best_grid = results["grid"]["best_params"]
    assert all(best_grid[k] in grid[k] for k in ("lr", "width", "dropout", "batch_size"))
    (figures,) = tmp_path.glob("a/hparam-search/*/figures")
    check_figure(figures / "learning_curves.png", min_size=(520, 320), panels=1)
    check_figure(figures / "explored_points.png", min_size=(930, 290), panels=(1, 3))  # samplers
    check_figure(figures / "search_table.png", min_size=(600, 160))


@pytest.mark.slow
def test_two_worker_processes_share_one_sqlite_study(tmp_path):
    db = tmp_path / "study.db"
    url = f"sqlite:///{db}"
    args = [*SMOKE, "--out", str(tmp_path / "runs"), "--set", f"storage={url}"]
    args += ["--set", "reeval_seeds=0"]
    assert main([*args, "--set", "workers=2", "--set", "samplers=random,tpe"]) == 0
    _, s = _summary(tmp_path / "runs")
    assert s["workers"] == 2 and s["storage"] == "sqlite" and s["total_trials"] == 16

    # read the studies back from the database: the counts add up to the budget
    storage = studies.make_storage(url)
    for sampler in ("random", "tpe"):
        study = optuna.load_study(study_name=f"nnlab-hparam-search-{sampler}", storage=storage)
        trials = study.get_trials()
        assert len(trials) == 8
        assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
        per_worker: dict[str, int] = {}
        for t in trials:
            per_worker[t.user_attrs["worker"]] = per_worker.get(t.user_attrs["worker"], 0) + 1
        assert len(per_worker) == 2  # two processes took part ...
        assert sorted(per_worker.values()) == [4, 4]  # ... with their shares
        assert sum(per_worker.values()) == 8  # ... adding up to the budget
        (r,) = [r for r in s["results"] if r["sampler"] == sampler]
        assert r["trials_per_worker"] == [4, 4] and r["n_trials"] == 8

    # another process joining the full studies adds no trials (load_if_exists)
    assert main([*args, "--set", "samplers=random,tpe"]) == 0
    for sampler in ("random", "tpe"):
        study = optuna.load_study(study_name=f"nnlab-hparam-search-{sampler}", storage=storage)
        assert len(study.get_trials()) == 8


@pytest.mark.parametrize(
    "bad",
    [
        "samplers=grid,annealing",
        "workers=0",
        "grid_levels=2,2,2,2",  # 16 points for a budget of 8
        "storage=study.db",
        "storage=journal://study.log",  # journal:///study.log: the file after the 3rd slash
        "samplers=tpe,tpe",
    ],
)
def test_bad_config_is_a_one_line_error(bad, tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path), "--set", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnlab: error:") and err.count("\n") == 1, err
    assert not list(tmp_path.glob("hparam-search/*"))


def test_joining_a_study_with_other_settings_is_refused(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    base = [*SMOKE, "--out", str(tmp_path), "--set", f"storage={url}", "--set", "samplers=random"]
    assert main([*base, "--set", "budget=2", "--set", "reeval_seeds=0"]) == 0
    capsys.readouterr()
    assert main([*base, "--set", "budget=3", "--set", "reeval_seeds=0"]) == 2
    err = capsys.readouterr().err
    assert "other settings" in err and "budget" in err and err.count("\n") == 1


def test_missing_optuna_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna -> ImportError
    assert main([*SMOKE, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "needs Optuna: pip install 'nnlab[hpo]'" in err and err.count("\n") == 1


def test_balanced_grid_levels_and_shares():
    assert hpo.balanced_levels(32) == (4, 2, 2, 2)
    assert hpo.balanced_levels(8) == (2, 2, 2, 1)
    assert hpo.balanced_levels(24) == (3, 2, 2, 2)
    assert hpo.balanced_levels(7) == (7, 1, 1, 1)
    for budget in range(1, 60):
        assert math.prod(hpo.balanced_levels(budget)) == budget
    assert hpo.shares(8, 3) == [3, 3, 2] and sum(hpo.shares(31, 4)) == 31
    grid = hpo.SearchSpace().grid((4, 2, 2, 2))
    assert grid["lr"] == [0.000237, 0.00133, 0.0075, 0.0422]  # centres of 4 log-bins
    assert grid["dropout"] == [0.125, 0.375] and grid["batch_size"] == [64, 256]


def test_verdict_is_honest():
    rows = [
        {"sampler": "grid", "mean_best": 0.80},
        {"sampler": "random", "mean_best": 0.85},
        {"sampler": "tpe", "mean_best": 0.84},
    ]
    holds, why = verdict(rows, noise=0.03, repeats=3)
    assert holds is False and "does not hold" in why and "within twice" in why
    assert "mean best of 3 searches" in why
    rows[2]["mean_best"] = 0.90
    holds, why = verdict(rows, noise=0.001)
    assert holds is True and "holds" in why and "not significant" not in why
    holds, why = verdict(rows, noise=0.05)
    assert holds is True and "not significant" in why
