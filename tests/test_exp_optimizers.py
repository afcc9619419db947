"""optimizers: one initialisation for all, sensible default learning rates, accuracies."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.training.optimizers import (
    DEFAULT_LRS,
    Config,
    weights_fingerprint,
)
from nnlab.models import MLP
from nnlab.viz import moving_average
from runs_helper import smoke_run


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    run_dir, summary = smoke_run(tmp_path_factory.mktemp("runs"), "optimizers")
    return {"dir": run_dir, "summary": summary}


def test_every_optimizer_starts_from_the_same_initial_weights(smoke):
    s = smoke["summary"]
    results = s["results"]
    assert [r["optimizer"] for r in results] == ["sgd", "momentum", "adagrad", "rmsprop", "adam"]
    assert s["same_initial_weights"] is True
    assert len({r["initial_weights_sha256"] for r in results}) == 1
    # ... and they are the weights of a fresh MLP seeded with the run's seed (0)
    torch.manual_seed(0)
    fresh = MLP(64, (64,), 10)
    assert results[0]["initial_weights_sha256"] == weights_fingerprint(fresh)
    torch.manual_seed(1)
    assert weights_fingerprint(MLP(64, (64,), 10)) != weights_fingerprint(fresh)


def test_smoke_accuracies_and_default_learning_rates(smoke):
    s = smoke["summary"]
    by = {r["optimizer"]: r for r in s["results"]}
    assert {k: r["lr"] for k, r in by.items()} == {k: DEFAULT_LRS[k] for k in by}
    for name, r in by.items():
        assert not r["diverged"], name
        # digits, 64-64-10, 4 epochs: every optimizer learns (chance is 10%)
        assert r["test_accuracy"] > 0.85, (name, r["test_accuracy"])
        assert r["train_accuracy"] > 0.85, (name, r["train_accuracy"])
        assert s[f"test_accuracy_{name}"] == r["test_accuracy"]
    assert s["best_test_accuracy"] == max(r["test_accuracy"] for r in by.values())
    assert s["best_test_accuracy"] > 0.94
    assert s["ranking_by_test_accuracy"][0] == s["best_optimizer"]
    # per-epoch curves of every optimizer were logged
    lines = [json.loads(x) for x in (smoke["dir"] / "metrics.jsonl").read_text().splitlines()]
    for name in by:
        losses = [x[f"{name}_train_loss"] for x in lines if f"{name}_train_loss" in x]
        assert len(losses) == 4 and losses[-1] < losses[0], name
    # loss per iteration, loss per epoch, test accuracy per epoch
    check_figure(
        smoke["dir"] / "figures" / "learning_curves.png", min_size=(1150, 280), panels=(1, 3)
    )
    check_figure(smoke["dir"] / "figures" / "accuracy_table.png", min_size=(430, 120))


def test_learning_rates_override_and_validation(tmp_path, capsys):
    cfg = Config(optimizers=("sgd", "adam"), lrs=(0.5, 0.002))
    assert cfg.learning_rates() == {"sgd": 0.5, "adam": 0.002}
    assert Config().learning_rates() == {
        "sgd": 0.1,
        "momentum": 0.01,
        "adagrad": 0.01,
        "rmsprop": 0.0003,
        "adam": 0.001,
    }
    base = ["run", "optimizers", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    for bad in ("lrs=0.1,0.1", "optimizers=sgd,lbfgs", "optimizers=adam,adam", "lrs=0,0,0,0,0"):
        capsys.readouterr()
        assert main([*base, "--set", bad]) == 2, bad
        err = capsys.readouterr().err
        assert err.startswith("nnlab: error:") and err.count("\n") == 1, err
    assert not list(tmp_path.glob("optimizers/*"))  # nothing left on disk


def test_moving_average():
    its, means = moving_average(np.array([1.0, 2.0, 3.0, 4.0]), 2)
    np.testing.assert_array_equal(its, [2, 3, 4])
    np.testing.assert_allclose(means, [1.5, 2.5, 3.5])
