"""char-lstm: a GPT and an LSTM of the same size, trained for the same seconds in one run; the
budget decides when each stops, the summary's leader agrees with its numbers, a resumed run
starts over, and a size the LSTM cannot match is a one-line error."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments import get
from nnlab.runs.runner import execute

EXP = get("char-lstm")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def smoke(out: Path, resume: Path | None = None, **overrides) -> Path:
    cfg = EXP.make_config("smoke", overrides)
    return execute(
        EXP, cfg, preset="smoke", seed=0, device="cpu", out=out, quiet=True, resume_dir=resume
    )


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_smoke_trains_both_for_the_budget_and_names_the_leader(tmp_path):
    run = smoke(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    cfg = EXP.make_config("smoke")
    budget = summary["budget_seconds"]
    assert budget == cfg.budget == 3.0

    ratio = summary["lstm_parameters"] / summary["gpt_parameters"]
    assert summary["parameter_ratio"] == pytest.approx(ratio)
    assert abs(ratio - 1) <= 0.05

    gap = summary["lstm_val_loss"] - summary["gpt_val_loss"]
    assert summary["lstm_minus_gpt_val_loss"] == pytest.approx(gap)
    assert summary["leader"] == ("gpt" if gap > 0 else "lstm")
    leader = {"gpt": "GPT", "lstm": "LSTM"}[summary["leader"]]
    assert f"the {leader} is ahead by {abs(gap):.3f} nats/char" in summary["verdict"]

    timings = json.loads((run / "status.json").read_text())["timings"]
    chance = math.log(summary["vocab_size"])
    history = records(run)
    for name in ("gpt", "lstm"):
        seconds = timings[f"{name}/train_seconds"]
        assert budget <= seconds < budget + 1.0  # the budget, not steps, ended training
        iters = summary[f"{name}_iters"]
        assert iters >= 50
        tokens = iters * cfg.batch_size * cfg.block_size
        # status.json keeps the seconds to 6 decimals: the rate can differ by one in rounding
        assert abs(summary[f"{name}_tokens_per_second"] - tokens / seconds) <= 1.0
        logged = [r for r in history if f"{name}/val_loss" in r]
        assert logged[0]["step"] == 0 and logged[-1]["step"] == iters
        assert [r[f"{name}/seconds"] for r in logged] == sorted(
            r[f"{name}/seconds"] for r in logged
        )
        assert logged[-1][f"{name}/seconds"] == pytest.approx(seconds, abs=1e-6)
        best = min(r[f"{name}/val_loss"] for r in logged)
        assert summary[f"{name}_best_val_loss"] == best
        assert logged[0][f"{name}/val_loss"] == pytest.approx(chance, abs=0.1)  # at init
        assert best < chance - 1.0  # both learned (3 s on a tiny model: well below 2)
        sample = (run / f"sample_{name}.txt").read_text()
        assert len(sample) == cfg.sample_tokens

    figures = run / "figures"
    check_figure(
        figures / "val_loss_vs_time.png", min_size=(700, 250), panels=(1, 2), caption="ahead by"
    )
    check_figure(figures / "samples.png", caption="LSTM")


def test_a_resumed_run_starts_over(tmp_path):
    run = smoke(tmp_path, budget=0.3, eval_every=20)
    first = records(run)
    assert smoke(tmp_path, resume=run, budget=0.3, eval_every=20) == run
    again = records(run)
    starts = [(r["step"], next(iter(k for k in r if k != "step"))) for r in again if r["step"] == 0]
    assert starts == [(0, "gpt/train_loss"), (0, "lstm/train_loss")]  # one run's records only
    losses = [{k: v for k, v in r.items() if "loss" in k} for r in (first[0], again[0])]
    assert losses[0] == losses[1]  # the same start: same seed, same first evaluation
    assert json.loads((run / "status.json").read_text())["resumes"] == 1


def test_a_gpt_too_small_for_any_lstm_is_a_one_line_error(tmp_path, capsys):
    sets = ["n_layer=1", "n_head=1", "n_embd=4", "lstm_embd=512"]
    args = ["run", "char-lstm", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    code = main([*args, *(a for s in sets for a in ("--set", s))])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "too few for a 2-layer LSTM" in err and "lower lstm_embd" in err
    assert not list(tmp_path.glob("*/*"))  # nothing left behind


def test_tiny_shakespeare_gets_an_lstm_of_the_gpts_size(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    run = smoke(tmp_path, corpus="tinyshakespeare", budget=0.5)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["corpus"] == "tinyshakespeare" and summary["vocab_size"] == 65
    assert abs(summary["parameter_ratio"] - 1) <= 0.05
    config = json.loads((run / "config.json").read_text())
    assert "tinyshakespeare" in json.dumps(config.get("data", {}))
