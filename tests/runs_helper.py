"""Running an experiment from the tests the way a user does (`nnlab run ...`), and finding
what it wrote: one run directory and its summary; a run cut by Ctrl-C after a checkpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from nnlab.cli import main


def single_run(out: Path) -> Path:
    """The one run directory under `out` (`out/<experiment>/<stamp>/`)."""
    (directory,) = sorted(p.parent for p in out.glob("*/*/config.json"))
    return directory


def smoke_args(experiment: str, *settings: str) -> list[str]:
    """`nnlab run <experiment> --preset smoke --quiet`, each `key=value` of `settings` a `--set`."""
    sets = [a for setting in settings for a in ("--set", setting)]
    return ["run", experiment, "--preset", "smoke", "--quiet", *sets]


def smoke_run(out: Path, experiment: str, *settings: str) -> tuple[Path, dict]:
    """Runs `experiment`'s smoke preset (with `settings`, `key=value` each) into `out` and
    returns its run directory and summary."""
    assert main([*smoke_args(experiment, *settings), "--out", str(out)]) == 0
    run = single_run(out)
    return run, json.loads((run / "summary.json").read_text())


def one_line_error(out: Path, capsys, experiment: str, settings: list[str], message: str) -> None:
    """Checks that the smoke preset with bad `settings` exits with code 2 and a one-line error
    naming `message`, no traceback, and leaves no run behind in `out`."""
    assert main([*smoke_args(experiment, *settings), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not list(out.glob("*/*/config.json"))  # nothing left behind


def interrupted_run(
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    stop: Callable[[list], bool],
    at: str = "save_checkpoint",
) -> tuple[Path, list]:
    """Runs `args` (an `nnlab run` command line) into `out`, interrupted as by Ctrl-C right
    after the call of `Run.<at>` (`save_checkpoint`, `log`) at which `stop(seen)` accepts the
    first arguments (the checkpointed states, the logged steps) of its calls so far. Returns
    the cut run directory and those arguments."""
    from nnlab.runs.run import Run

    original, seen = getattr(Run, at), []

    def then_stop(self, first, *rest, **named):
        original(self, first, *rest, **named)
        seen.append(first)
        if stop(seen):
            raise KeyboardInterrupt

    monkeypatch.setattr(Run, at, then_stop)
    assert main([*args, "--out", str(out)]) == 130
    monkeypatch.setattr(Run, at, original)
    return single_run(out), seen


def resumes_identically(cut: Path, ref: Path, names=("metrics.jsonl", "summary.json")) -> None:
    """Resumes the cut run and checks that it ends with the reference run's files, byte for byte."""
    assert main(["run", "--resume", str(cut), "--quiet"]) == 0
    for name in names:
        assert (cut / name).read_bytes() == (ref / name).read_bytes(), name
