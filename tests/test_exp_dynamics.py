"""The training-dynamics lab's experiments (MLDS HW1), each on its smoke preset end to end:
numbers asserted, figures checked, bad settings one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def smoke(tmp_path: Path, name: str, *sets: str) -> tuple[Path, dict]:
    args = ["run", name, "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main([*args, *(a for s in sets for a in ("--set", s))]) == 0
    (directory,) = sorted(p.parent for p in tmp_path.glob(f"{name}/*/config.json"))
    return directory, json.loads((directory / "summary.json").read_text())


def one_line_error(tmp_path, capsys, name: str, sets: list[str], message: str) -> None:
    args = ["run", name, "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main([*args, *(a for s in sets for a in ("--set", s))]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("*/*/config.json"))  # nothing left behind


def test_function_fit_equal_budgets_fit_both_kinds_of_function(tmp_path):
    run, s = smoke(tmp_path, "function-fit")
    counts = s["parameters"]
    assert set(counts) == {"depth1", "depth2", "depth4"}
    assert all(abs(c - 1000) / 1000 < 0.01 for c in counts.values())
    assert s["parameter_spread"] < 0.01 and len(s["hidden"]["depth4"]) == 4
    # 300 Adam steps: the straight-line part of sin(x) + 0.5x (variance ~9.6) is learnt, the
    # sinc (variance ~0.05) nearly fitted
    assert all(v < 1.0 for v in s["final_loss"]["sin_half_x"].values())
    assert all(v < 2e-3 for v in s["final_loss"]["sinc_5pi"].values())
    check_figure(run / "figures" / "loss_curves.png", panels=2)
    check_figure(run / "figures" / "predictions.png", panels=2)
    check_figure(run / "figures" / "parameter_counts.png", min_size=(400, 60))


@pytest.mark.parametrize(
    ("name", "sets", "message"),
    [
        ("function-fit", ["workers=0"], "setting 'workers' must be in [1, 64]; got 0"),
        ("function-fit", ["depths=1,2"], "three or more different depths"),
        ("function-fit", ["functions=tan"], "functions must name some of"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, capsys, name, sets, message):
    one_line_error(tmp_path, capsys, name, sets, message)
