"""perceptron: the rule converges on OR and AND, and cycles for ever on XOR."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.neurons.perceptron import GATES, train_perceptron

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
SMOKE = ["run", "perceptron", "--preset", "smoke", "--quiet"]


@pytest.mark.parametrize("gate", ["OR", "AND"])
@pytest.mark.parametrize("init", [(0.0, 0.0, 0.0), (-3.0, 2.0, 1.0)])
@pytest.mark.parametrize("lr", [1.0, 0.3])
def test_separable_gates_converge_to_a_separating_line(gate, init, lr):
    y = np.array(GATES[gate], dtype=float)
    r = train_perceptron(X, y, lr, 200, init)
    assert r["converged_at_epoch"] is not None and r["mistakes_per_epoch"][-1] == 0
    w = r["weights"]
    np.testing.assert_array_equal(X @ w[:2] + w[2] > 0, y == 1)
    assert r["accuracy"] == 1.0


@pytest.mark.parametrize("init", [(0.0, 0.0, 0.0), (-3.0, 2.0, 1.0), (0.5, 0.25, -0.5)])
def test_xor_never_converges_and_its_weights_cycle(init):
    r = train_perceptron(X, np.array(GATES["XOR"], dtype=float), 1.0, 100, init)
    assert r["converged_at_epoch"] is None
    assert min(r["mistakes_per_epoch"]) >= 1 and len(r["mistakes_per_epoch"]) == 100
    assert r["cycle"] is not None
    start, length = r["cycle"]["from_epoch"], r["cycle"]["length"]
    per_epoch = r["path"][::4]  # weights at the start of each epoch
    np.testing.assert_array_equal(per_epoch[start - 1], per_epoch[start - 1 + length])
    assert r["accuracy"] <= 0.75


def test_smoke_run_summary_and_figures(tmp_path):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("perceptron/*/summary.json")
    s = json.loads(path.read_text())
    assert s["or"]["converged"] and s["and"]["converged"] and not s["xor"]["converged"]
    assert s["or"]["epochs_to_converge"] == 4 and s["and"]["epochs_to_converge"] == 6
    assert len(s["xor"]["mistakes_per_epoch"]) == 15 and s["xor_min_mistakes_per_epoch"] >= 1
    assert s["gates_converged"] == 2
    figures = path.parent / "figures"
    check_figure(figures / "perceptron.png", min_size=(1300, 400), panels=(1, 3))
    check_figure(figures / "epochs_table.png", min_size=(600, 100), caption="cycle")


def test_init_of_the_wrong_length_is_a_one_line_error(tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path), "--set", "init=1,2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "init needs three numbers" in err[0]
