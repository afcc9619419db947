"""char-gpt: training, best weights, resume, generation from a run, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.training.lm import LMTraining, learning_rate, sample_batch
from runs_helper import interrupted_run, one_line_error, resumes_identically, single_run, smoke_run

SMOKE = ["run", "char-gpt", "--preset", "smoke", "--quiet"]


@pytest.fixture(scope="module")
def smoke_dir(tmp_path_factory) -> Path:
    return smoke_run(tmp_path_factory.mktemp("char-gpt"), "char-gpt")[0]


def test_smoke_learns_the_generated_play_and_reports(smoke_dir):
    summary = json.loads((smoke_dir / "summary.json").read_text())
    lines = [json.loads(x) for x in (smoke_dir / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [0, 50, 100, 150]
    # ln(48) = 3.87 nats at the start; the play's grammar is learnt quickly
    assert lines[0]["val_loss"] == pytest.approx(3.87, abs=0.1)
    assert summary["best_val_loss"] < 2.6
    assert summary["best_val_loss"] == min(x["val_loss"] for x in lines)
    assert summary["vocab_size"] == 48
    assert summary["train_characters"] + summary["val_characters"] == 150_000
    assert len(summary["sample"]) == 120
    assert (smoke_dir / "sample.txt").read_text() == summary["sample"]
    assert json.loads((smoke_dir / "tokenizer.json").read_text())["chars"][0] == "\n"
    best = torch.load(smoke_dir / "checkpoints" / "best.pt", weights_only=True)
    assert best["iter"] == summary["best_iter"]
    assert best["gpt_config"]["n_embd"] == 32
    check_figure(smoke_dir / "figures" / "learning_curves.png", panels=2)
    check_figure(smoke_dir / "figures" / "attention_map.png", panels=1)
    check_figure(smoke_dir / "figures" / "sample.png")
    config = json.loads((smoke_dir / "config.json").read_text())
    assert config["data"][0]["name"] == "toy-play"


def test_generate_streams_the_same_text_for_the_same_seed(smoke_dir, capsys):
    args = ["generate", str(smoke_dir), "--prompt", "ALDO:", "--tokens", "60"]
    assert main([*args, "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert main([*args, "--seed", "3"]) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("ALDO:") and len(first) == len("ALDO:") + 60 + 1
    assert main([*args, "--seed", "4"]) == 0
    assert capsys.readouterr().out != first


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--prompt", "JULIET~"], "not in the model's vocabulary"),
        (["--temperature", "0"], "--temperature must be > 0"),
        (["--tokens", "-1"], "--tokens must be >= 0"),
    ],
)
def test_generate_bad_input_is_one_line(smoke_dir, capsys, extra, message):
    assert main(["generate", str(smoke_dir), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_generate_needs_a_run_with_weights(tmp_path, capsys):
    assert main(["generate", str(tmp_path)]) == 2
    assert "no checkpoints/best.pt" in capsys.readouterr().err
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "best.pt").write_bytes(b"not a checkpoint")
    assert main(["generate", str(tmp_path)]) == 2
    assert "cannot be loaded as a GPT" in capsys.readouterr().err


def test_interrupted_run_resumes_to_the_same_summary(tmp_path, monkeypatch):
    args = [*SMOKE, "--set", "steps=90", "--set", "eval_every=30"]
    assert main([*args, "--out", str(tmp_path / "ref")]) == 0
    cut, saved = interrupted_run(
        tmp_path / "cut", monkeypatch, args, stop=lambda states: len(states) == 2
    )
    assert [state["iter"] for state in saved] == [0, 30]
    ref = single_run(tmp_path / "ref")
    resumes_identically(cut, ref, names=["summary.json"])

    def losses(run: Path) -> list:
        rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
        return [(r["step"], r["train_loss"], r["val_loss"]) for r in rows]  # not the seconds

    assert losses(cut) == losses(ref)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["n_embd=30", "n_head=4"], "must be divisible by n_head"),
        (["corpus=war-and-peace"], "corpus"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, capsys, overrides, message):
    one_line_error(tmp_path, capsys, "char-gpt", overrides, message)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\x00\x01\x02" * 500, "looks binary"), (b"to be\n" * 10, "at least")],
)
def test_bad_text_files_are_one_line_errors(tmp_path, capsys, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    out = tmp_path / "runs"
    assert main([*SMOKE, "--set", f"text={path}", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not out.exists()


@pytest.mark.slow
def test_a_users_text_file_trains(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("the cat sat on the mat; the dog sat on the log.\n" * 60, encoding="utf-8")
    assert main([*SMOKE, "--set", f"text={path}", "--out", str(tmp_path / "r")]) == 0
    summary = json.loads((single_run(tmp_path / "r") / "summary.json").read_text())
    assert summary["corpus"] == str(path)
    assert summary["vocab_size"] == len(set(path.read_text()))


def test_learning_rate_warms_up_then_decays_to_the_minimum():
    cfg = LMTraining(lr=1e-3, min_lr=1e-4, warmup_steps=100, steps=2000)
    assert learning_rate(0, cfg) == pytest.approx(1e-3 / 101)
    assert learning_rate(99, cfg) == pytest.approx(1e-3 * 100 / 101)
    assert learning_rate(100, cfg) == pytest.approx(1e-3)
    assert learning_rate(1050, cfg) == pytest.approx(5.5e-4)  # half-way down the cosine
    assert learning_rate(2000, cfg) == learning_rate(5000, cfg) == 1e-4


def test_under_a_time_budget_the_cosine_follows_the_seconds_spent():
    cfg = LMTraining(lr=2e-3, min_lr=2e-4, warmup_steps=10, time_budget=60.0)
    assert learning_rate(5, cfg, 30.0) == pytest.approx(2e-3 * 6 / 11)  # warm-up by iterations
    assert learning_rate(10, cfg, 0.0) == pytest.approx(2e-3)
    assert learning_rate(10**6, cfg, 30.0) == pytest.approx(1.1e-3)  # half the budget
    assert learning_rate(50, cfg, 60.0) == learning_rate(50, cfg, 99.0) == pytest.approx(2e-4)


def test_batches_are_windows_and_their_shift_by_one():
    ids = torch.arange(1000)
    x, y = sample_batch(ids, 16, 8, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (16, 8)
    assert torch.equal(y, x + 1)
    assert torch.equal(x[:, 1:], x[:, :-1] + 1)
