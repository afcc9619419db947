"""nnlab.training.hpo: summaries of searches (no Optuna needed)."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab.errors import UserError
from nnlab.training import hpo


def trial(value: float, worker: str = "main") -> dict:
    return {"value": value, "params": {"lr": value}, "worker": worker}


def test_best_of_takes_the_earliest_best_and_counts_trials_per_worker():
    searches = [[trial(0.5), trial(0.8, "w1"), trial(0.8)], [trial(0.7, "w1"), trial(0.8, "w1")]]
    out = hpo.best_of("tpe", searches)
    assert out["best_value"] == 0.8 and out["best_search"] == 0 and out["best_trial"] == 2
    assert out["mean_best"] == pytest.approx(0.8) and out["std_best"] == 0.0
    assert out["n_trials"] == 5 and out["trials_per_worker"] == [3, 2]
    assert out["trials_per_search"] == [3, 2] and out["best_per_search"] == [0.8, 0.8]
    single = hpo.best_of("grid", [[trial(0.2), trial(0.4)]])
    assert "std_best" not in single and single["best_trial"] == 2
    with pytest.raises(UserError, match="a random study has no completed trial"):
        hpo.best_of("random", [[trial(0.1)], []])


def test_standardised_rows_are_contiguous_float32():
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    rows = hpo.standardised_rows(x, 10.0, 2.0)
    assert rows.shape == (2, 12) and rows.dtype == np.float32 and rows.flags.c_contiguous
    assert rows[0, 0] == -5.0 and rows[1, -1] == 6.5
