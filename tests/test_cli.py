"""End-to-end behaviour of `nnlab`: runs, determinism, resume after SIGKILL, bad input."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.data import DATASETS
from nnlab.experiments import registry

SMOKE = ["run", "mlp-classifier", "--preset", "smoke", "--quiet"]
RUN_FILES = [
    "config.json",
    "metrics.jsonl",
    "summary.json",
    "status.json",
    "report.html",
    "report.md",
]


def sets(**overrides: object) -> list[str]:
    """`--set key=value` arguments."""
    return [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]


def run_dirs(out: Path) -> list[Path]:
    return sorted(p.parent for p in out.glob("*/*/config.json"))


def single_run(out: Path) -> Path:
    (directory,) = run_dirs(out)
    return directory


def test_list_groups_every_experiment_under_its_chapter_in_course_order(capsys):
    from nnlab.experiments import CHAPTERS, chapter_title

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    titles = [line.split(". ", 1)[1] for line in lines if line[:1].isdigit()]
    assert titles == [chapter_title(c) for c in CHAPTERS]
    listed, chapter = [], None
    for line in lines:
        if line[:1].isdigit():
            chapter = CHAPTERS[int(line.split(".")[0]) - 1]
        elif (
            line.startswith("   ")
            and not line.startswith("    ")
            and "nnlab playground" not in line
        ):
            listed.append((line.split()[0], chapter))
    assert listed == [(e.name, e.chapter) for e in registry().values()]
    assert max(len(line) for line in lines) <= 100


def test_list_json_has_every_field_and_seed_keeps_that_documents_experiments(capsys):
    assert main(["list", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == list(registry())
    fields = {"name", "chapter", "description", "reproduces", "presets", "headline", "reference"}
    assert all(fields <= set(r) for r in records)
    assert main(["list", "--json", "--seed", "4"]) == 0
    seed4 = {r["name"] for r in json.loads(capsys.readouterr().out)}
    assert {"numpy-classifier", "ocr", "lenet"} <= seed4 and "ddpm" not in seed4
    assert main(["list", "--seed", "9"]) == 2


def test_describe_lists_settings_per_preset(capsys):
    assert main(["describe", "mlp-classifier"]) == 0
    out = capsys.readouterr().out
    assert "hidden" in out and "batch_size" in out and '"digits"' in out
    for name in registry():
        assert main(["describe", name]) == 0
        assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 100, name


def test_smoke_run_writes_a_complete_run_directory(tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    run = single_run(tmp_path)
    for name in [*RUN_FILES, "checkpoints/last.pt"]:
        assert (run / name).is_file(), name
    figures = run / "figures"
    check_figure(
        figures / "confusion_matrix.png",
        min_size=(1000, 450),
        panels=(1, 2),
        caption="confusion matrix",
    )
    check_figure(figures / "learning_curves.png", min_size=(600, 230), panels=(1, 2))
    config = json.loads((run / "config.json").read_text())
    assert config["preset"] == "smoke" and config["seed"] == 0
    assert set(config["versions"]) >= {"python", "numpy", "torch", "nnlab"}
    summary = json.loads((run / "summary.json").read_text())
    assert summary["test_accuracy"] > 0.85  # digits, 3 epochs
    assert len(summary["most_confused"]) == 3
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3]
    assert json.loads((run / "status.json").read_text())["state"] == "completed"
    assert "test_accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_same_seed_gives_identical_summary(tmp_path):
    for out in ("a", "b"):
        assert main([*SMOKE, "--out", str(tmp_path / out), "--seed", "3"]) == 0
    a, b = single_run(tmp_path / "a"), single_run(tmp_path / "b")
    assert (a / "summary.json").read_bytes() == (b / "summary.json").read_bytes()
    assert (a / "metrics.jsonl").read_bytes() == (b / "metrics.jsonl").read_bytes()
    assert main([*SMOKE, "--out", str(tmp_path / "c"), "--seed", "4"]) == 0
    c = single_run(tmp_path / "c")
    assert (a / "summary.json").read_bytes() != (c / "summary.json").read_bytes()


def test_set_overrides_are_parsed_to_field_types(tmp_path):
    overrides = sets(hidden="32,16", lr=0.005, optimizer="momentum", epochs=1)
    assert main([*SMOKE, "--out", str(tmp_path), *overrides]) == 0
    config = json.loads((single_run(tmp_path) / "config.json").read_text())["config"]
    assert config["hidden"] == [32, 16] and config["lr"] == 0.005
    assert config["optimizer"] == "momentum" and config["epochs"] == 1


def test_config_file_sets_values_and_set_wins(tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"epochs": 2, "hidden": [8], "lr": 0.02}))
    assert main([*SMOKE, "--out", str(tmp_path), "--config", str(settings), *sets(lr=0.03)]) == 0
    config = json.loads((single_run(tmp_path) / "config.json").read_text())["config"]
    assert (config["epochs"], config["hidden"], config["lr"]) == (2, [8], 0.03)


def test_bad_config_file_is_one_line_error(tmp_path, capsys):
    settings = tmp_path / "settings.json"
    settings.write_text("{not json")
    assert main([*SMOKE, "--out", str(tmp_path), "--config", str(settings)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert not run_dirs(tmp_path)


def _cli(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "nnlab", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.slow
def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    args = [*SMOKE, *sets(epochs=40, hidden="256,256", batch_size=16)]
    reference = _cli(*args, "--out", str(tmp_path / "ref"))
    assert reference.returncode == 0, reference.stderr

    command = [sys.executable, "-m", "nnlab", *args, "--out", str(tmp_path / "killed")]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    metrics = None
    while time.monotonic() < deadline and process.poll() is None:
        found = list((tmp_path / "killed").glob("*/*/metrics.jsonl"))
        if found and len(found[0].read_text().splitlines()) >= 3:
            metrics = found[0]
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert metrics is not None, "the run ended before it could be killed"
    killed = metrics.parent
    assert json.loads((killed / "status.json").read_text())["state"] == "running"
    assert not (killed / "summary.json").exists()

    resumed = _cli("run", "--resume", str(killed), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    ref = single_run(tmp_path / "ref")
    assert (killed / "summary.json").read_bytes() == (ref / "summary.json").read_bytes()
    assert (killed / "metrics.jsonl").read_bytes() == (ref / "metrics.jsonl").read_bytes()
    assert json.loads((killed / "status.json").read_text())["resumes"] == 1


def test_resume_of_a_completed_run_is_refused(tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["run", "--resume", str(single_run(tmp_path))]) == 2
    assert "already completed" in capsys.readouterr().err


def _corrupt_copy(shared: Path, target: Path) -> Path:
    """Fashion-MNIST with one byte of the uncompressed test labels flipped."""
    shutil.copytree(shared / "fashion-mnist", target / "fashion-mnist")
    labels = target / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[100] ^= 0xFF
    labels.chmod(0o644)
    labels.write_bytes(gzip.compress(bytes(raw)))
    return labels


BAD_INPUTS = {
    "unknown experiment": (["run", "no-such-thing"], "unknown experiment 'no-such-thing'"),
    "unknown key": ([*SMOKE, *sets(hiden=3)], "unknown setting 'hiden'"),
    "wrong type": ([*SMOKE, *sets(epochs="three")], "'epochs' must be an integer"),
    "out of range": ([*SMOKE, *sets(dropout=1.5)], "'dropout' must be in [0, 0.95]"),
    "bad choice": ([*SMOKE, *sets(dataset="cifar")], "'dataset' must be one of"),
    "malformed set": ([*SMOKE, "--set", "lr"], "--set expects key=value"),
    "missing dataset": ([*SMOKE, *sets(dataset="mnist")], "nnlab data fetch mnist"),
    "unwritable out": ([*SMOKE], "cannot write to output directory"),
    "not a run dir": (["run", "--resume", "runs"], "is not a run directory"),
}


def _assert_one_line_error(result: subprocess.CompletedProcess, expected: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nnlab: error: ") and expected in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gives_one_line_exit_2_and_leaves_nothing(case, tmp_path):
    args, expected = BAD_INPUTS[case]
    (tmp_path / "data").mkdir()
    (tmp_path / "runs").mkdir()
    out = tmp_path / "runs"
    if case == "unwritable out":
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        out = blocker / "runs"
    if "--resume" not in args:
        args = [*args, "--out", str(out)]
    env = {"NNLAB_DATA": str(tmp_path / "data"), "NNLAB_OFFLINE": "1"}
    _assert_one_line_error(_cli(*args, env=env, cwd=tmp_path), expected)
    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert left <= {"data", "runs", "a-file"}, f"a failed start left {sorted(left)} behind"


def test_corrupt_dataset_is_named_with_both_digests_and_never_replaced(tmp_path, shared_data):
    corrupt = _corrupt_copy(shared_data, tmp_path / "data")
    before = corrupt.read_bytes()
    env = {"NNLAB_DATA": str(tmp_path / "data"), "NNLAB_OFFLINE": "1"}
    args = [*SMOKE, *sets(dataset="fashion-mnist"), "--out", str(tmp_path / "runs")]
    line = _assert_one_line_error(_cli(*args, env=env), "t10k-labels-idx1-ubyte")
    actual = hashlib.sha256(gzip.decompress(before)).hexdigest()
    assert actual in line and DATASETS["fashion-mnist"].files[3].sha256 in line
    assert corrupt.read_bytes() == before  # never replaced
    assert not run_dirs(tmp_path / "runs")

    verify = _cli("data", "verify", "fashion-mnist", env=env)
    assert verify.returncode == 2 and "Traceback" not in verify.stderr
    row = next(r for r in verify.stdout.splitlines() if r.startswith("fashion-mnist"))
    assert "CORRUPT" in row
    assert "corrupt" in verify.stderr and len(verify.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_missing_gpu_is_a_clear_error(tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path), "--device", "cuda"]) == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err
    assert not run_dirs(tmp_path)


def test_diverging_loss_stops_with_a_clear_message(tmp_path, capsys):
    divergent = sets(lr=1e30, optimizer="sgd", schedule="constant")
    code = main([*SMOKE, "--out", str(tmp_path), *divergent])
    assert code == 2
    err = capsys.readouterr().err
    assert "diverged" in err and "lower the learning rate" in err
    status = json.loads((single_run(tmp_path) / "status.json").read_text())
    assert status["state"] == "failed" and "diverged" in status["error"]


def test_report_renders_a_run_and_an_index(tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    run = single_run(tmp_path)
    (run / "report.html").unlink()
    capsys.readouterr()
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").is_file()
    assert main(["report", str(tmp_path)]) == 0
    index = (tmp_path / "index.html").read_text()
    assert "mlp-classifier" in index and "report.html" in index


def test_data_list_shows_shared_fashion_mnist(shared_data, monkeypatch, capsys):
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    assert main(["data", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert "NNLAB_DATA" in rows["fashion-mnist"] and "digits" in rows
