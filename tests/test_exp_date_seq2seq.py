"""date-seq2seq: the attention model translates held-out dates far better than the model with
no context, which learns only the commonest date (its per-character accuracy is the guess of
the commonest character per position); cutting the trained model's context collapses it; the
figures are drawn; the same seed gives the same summary; a bad setting is a one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments import get
from nnlab.runs.runner import execute

EXP = get("date-seq2seq")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def smoke(out: Path, **overrides) -> Path:
    cfg = EXP.make_config("smoke", overrides)
    return execute(EXP, cfg, preset="smoke", seed=0, device="cpu", out=out, quiet=True)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    return smoke(tmp_path_factory.mktemp("date-seq2seq"))


def summary_of(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def test_attention_beats_no_context_by_a_wide_margin(smoke_run):
    """Caught a planted bug: each training batch's sources taken from other examples than its
    targets (`Pairs.take`), which left the attention model near the no-context one."""
    s = summary_of(smoke_run)
    # the model that never reads its input learns the likeliest date and nothing more: one
    # output for (nearly) every input, as right per character as the commonest character
    assert s["no_context_commonest_output_fraction"] > 0.9
    assert abs(s["test_char_no_context"] - s["guess_char"]) < 0.05
    assert s["test_exact_no_context"] <= 0.01
    # reading the input is worth a lot, and attention reads it best
    assert s["test_char_attention"] > s["test_char_no_context"] + 0.3
    assert s["test_exact_attention"] > s["test_exact_no_context"] + 0.3
    assert s["test_exact_attention"] > s["test_exact_no_attention"]
    # the trained attention model with its context zeroed is no better than no context
    assert s["attention_context_cut_exact"] <= s["test_exact_no_context"] + 0.01
    assert s["attention_context_cut_char"] < s["test_char_attention"] - 0.3
    assert s["attention_minus_no_context_exact"] == pytest.approx(
        s["test_exact_attention"] - s["test_exact_no_context"]
    )
    assert s["formats"] == 14 and len(s["test_exact_by_format_attention"]) == 14
    history = [json.loads(line) for line in (smoke_run / "metrics.jsonl").read_text().splitlines()]
    final = [r for r in history if r["step"] == EXP.make_config("smoke").steps]
    assert {k for r in final for k in r if k.endswith("val_exact")} == {
        "attention/val_exact",
        "no-attention/val_exact",
        "no-context/val_exact",
    }


def test_figures(smoke_run):
    figures = smoke_run / "figures"
    check_figure(figures / "attention_maps.png", min_size=(600, 400), caption="sums to")
    check_figure(figures / "training_curves.png", min_size=(900, 250), panels=(1, 3))
    check_figure(figures / "translations.png", caption="same date")


def test_the_same_seed_gives_the_same_summary(tmp_path):
    """Caught a planted bug: the date generator's `random.Random` left unseeded."""
    short = {"steps": 30, "eval_every": 15, "n_train": 500, "val_size": 50, "test_size": 80}
    first = summary_of(smoke(tmp_path / "a", **short))
    assert summary_of(smoke(tmp_path / "b", **short)) == first


def test_a_bad_setting_is_a_one_line_error(tmp_path, capsys):
    code = main(
        ["run", "date-seq2seq", "--preset", "smoke", "--out", str(tmp_path)]
        + [
            "--set",
            "steps=0",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
