"""The runner: `execute` makes (or resumes) a run directory, locks it, records the settings,
versions and data, runs the experiment through a `Run` and closes the run with its summary,
status and report, whatever happens (a bad input leaves nothing; a full disk a one-line error).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import nnlab
from nnlab.data.digest import recording
from nnlab.errors import UserError
from nnlab.io import atomic_write_json
from nnlab.runs.read import read_run
from nnlab.runs.run import Run, _plain, resolve_device, seed_everything
from nnlab.training import distributed

if TYPE_CHECKING:
    import torch

LOCK = "run.lock"  # held (flock) by the process writing the run; names its pid and host


@contextlib.contextmanager
def locked(directory: Path):
    """Hold the run directory's lock while writing it: a second process (a second
    `--resume`) gets a UserError naming the holder. The lock is an flock, so the lock file
    that a killed process leaves behind is stale and simply taken over."""
    path = Path(directory) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise UserError(
                f"{directory} is being written by {holder}; wait for it to finish or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {platform.node()} since {_now()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")  # without importing it
    except PackageNotFoundError:
        torch_version = "not installed"
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch_version,
        "nnlab": nnlab.__version__,
    }


def git_commit() -> str | None:
    """HEAD of the nnlab checkout, suffixed `-dirty` when it has uncommitted changes."""
    root = Path(__file__).resolve().parents[3]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "-uno"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if changes.strip() else "") if head else None


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def new_run_dir(out: Path, experiment: str, preset: str) -> Path:
    """Create runs/<experiment>/<timestamp>-<preset>/ (suffixed -2, -3... if taken)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parent = Path(out) / experiment
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for i in range(1, 1000):
            path = parent / (f"{stamp}-{preset}" + (f"-{i}" if i > 1 else ""))
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as exc:
        raise UserError(
            f"cannot write to output directory {out}: {exc.strerror or exc}; "
            "pass --out a writable directory"
        ) from None
    raise UserError(f"too many runs named {stamp}-{preset} in {parent}")


def _record_dataset(directory: Path, entry: dict[str, Any]) -> None:
    """Add a loaded dataset's name, parameters and content digest to config.json; on resume,
    refuse data that differ from those the run started with."""
    config = json.loads((directory / "config.json").read_text())
    seen = config.setdefault("data", [])
    for old in seen:
        if (old["name"], old["params"]) == (entry["name"], entry["params"]):
            if old["sha256"] != entry["sha256"]:
                raise UserError(
                    f"{entry['name']} {entry['params']} has content {entry['sha256'][:16]}, "
                    f"but this run started with {old['sha256'][:16]}; the data changed "
                    "(another nnlab or font version?): start a new run"
                )
            return
    seen.append(entry)
    atomic_write_json(directory / "config.json", config)


def _discard(directory: Path, created: list[Path]) -> None:
    """Remove a run directory and the (now empty) folders made for it."""
    shutil.rmtree(directory, ignore_errors=True)
    for folder in created:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _reference(experiment: Any) -> dict[str, Any] | None:
    """The experiment's declared reference as `{"value", "source"}` (None if it has none)."""
    ref = getattr(experiment, "reference", None)
    if ref is None:
        return None
    return {"value": ref.value, "source": ref.source, "data": ref.data, "preset": ref.preset}


def execute(
    experiment: Any,
    cfg: Any,
    *,
    preset: str,
    seed: int,
    device: str = "auto",
    out: Path = Path("runs"),
    quiet: bool = False,
    allow_download: bool = False,
    resume_dir: Path | None = None,
    tensorboard: bool = False,
) -> Path:
    """Run (or resume) an experiment in a run directory; return that directory.

    With `tensorboard`, the finished run's files are also written as TensorBoard events in
    the run directory (`nnlab.runs.tensorboard`; refused before anything runs when the
    tensorboard package is missing).

    On a UserError in a fresh run that logged nothing, the run directory is removed, so
    bad input leaves nothing behind; otherwise status.json records the failure.

    Under torchrun every process calls this: rank 0 creates the directory and writes every
    file in it, the others train with it (see nnlab/training/DISTRIBUTED.md).
    """
    if tensorboard:
        from nnlab.runs.tensorboard import require_tensorboard

        require_tensorboard()
    # NumPy experiments never load PyTorch (it costs a second or more of start-up)
    torch_device = resolve_device(device) if experiment.uses_torch else None
    processes = distributed.from_environment().size
    if processes > 1 and not experiment.data_parallel:
        raise UserError(
            f"{experiment.name} does not train data-parallel: each of the {processes} "
            f"processes would run all of it; run it without torchrun (nnlab run ...)"
        )
    with distributed.launched(torch_device) as torch_device:
        return _execute(
            experiment,
            cfg,
            preset=preset,
            seed=seed,
            device=torch_device,
            out=out,
            quiet=quiet,
            allow_download=allow_download,
            resume_dir=resume_dir,
            tensorboard=tensorboard,
        )


def _start(
    experiment: Any,
    cfg: Any,
    *,
    preset: str,
    seed: int,
    device: torch.device | None,
    out: Path,
    resume_dir: Path | None,
    stack: contextlib.ExitStack,
) -> tuple[Path, dict[str, Any], list[Path]]:
    """Create (or reopen) the run directory and write config.json and status.json; return the
    directory, the status and the folders made for it (removed again if the run fails
    before logging anything)."""
    if resume_dir is not None:
        directory = Path(resume_dir)
        stack.enter_context(locked(directory))
        status = json.loads((directory / "status.json").read_text())
        status["resumes"] = status.get("resumes", 0) + 1
        created = []
    else:
        created = [p for p in (Path(out) / experiment.name, Path(out)) if not p.exists()]
        directory = new_run_dir(out, experiment.name, preset)
        stack.enter_context(locked(directory))
        status = {
            "state": "running",
            "started": _now(),
            "finished": None,
            "elapsed_seconds": 0.0,
            "resumes": 0,
            "error": None,
        }
        w = distributed.world()
        try:
            atomic_write_json(
                directory / "config.json",
                {
                    "experiment": experiment.name,
                    "description": experiment.description,
                    "reproduces": getattr(experiment, "reproduces", None),
                    "preset": preset,
                    "seed": seed,
                    "device": str(device or "cpu"),
                    "world_size": w.size,
                    "backend": w.backend,
                    "nnodes": distributed.nodes(),
                    "config": cfg.to_dict(),
                    "headline": {"metric": experiment.headline, "mode": experiment.mode},
                    "reference": _reference(experiment),
                    "key_figure": getattr(experiment, "key_figure", None),
                    "versions": versions(),
                    "git_commit": git_commit(),
                    "created": _now(),
                },
            )
        except OSError as exc:
            _discard(directory, created)
            raise UserError(f"cannot write run directory {directory}: {exc.strerror}") from None
    status["state"] = "running"
    status["error"] = None
    try:
        atomic_write_json(directory / "status.json", status)
    except OSError as exc:
        raise UserError(f"cannot write run directory {directory}: {exc.strerror}") from None
    return directory, status, created


def _execute(experiment: Any, cfg: Any, **options: Any) -> Path:
    """`_execute_locked` (its keyword arguments), holding the run's lock (rank 0) until the end."""
    with contextlib.ExitStack() as stack:
        return _execute_locked(experiment, cfg, stack=stack, **options)


def _disk_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def _execute_locked(
    experiment: Any,
    cfg: Any,
    *,
    preset: str,
    seed: int,
    device: torch.device | None,
    out: Path,
    quiet: bool,
    allow_download: bool,
    resume_dir: Path | None,
    stack: contextlib.ExitStack,
    tensorboard: bool,
) -> Path:
    w = distributed.world()
    status: dict[str, Any] = {}
    created: list[Path] = []
    with distributed.fail_together():
        if w.is_main:  # rank 0 names the directory (a timestamp) and tells the others
            directory, status, created = _start(
                experiment,
                cfg,
                preset=preset,
                seed=seed,
                device=device,
                out=out,
                resume_dir=resume_dir,
                stack=stack,
            )
        directory = Path(w.share(str(directory) if w.is_main else None))

    seed_everything(seed, torch_too=experiment.uses_torch)  # the same seed on every rank
    run = Run(
        directory,
        seed=seed,
        device=device,
        quiet=quiet,
        allow_download=allow_download,
        writer=w.is_main,
    )
    started = time.perf_counter()
    previous = float(status.get("elapsed_seconds") or 0.0)

    def close(state: str, error: str | None = None) -> None:
        status["timings"] = {**status.get("timings", {}), **run.timings}
        status.update(
            state=state,
            error=error,
            finished=_now(),
            elapsed_seconds=round(previous + time.perf_counter() - started, 3),
        )
        atomic_write_json(directory / "status.json", status)

    def close_failed(error: str) -> None:
        """Record the failure if the disk still lets us (a small file may fit where a
        checkpoint did not); the error being raised matters more than this one."""
        with contextlib.suppress(OSError):
            close("failed", error)

    listening = (  # the data every rank loads, recorded in config.json by rank 0
        recording(lambda entry: _record_dataset(directory, entry))
        if w.is_main
        else contextlib.nullcontext()
    )
    try:
        with distributed.fail_together(), listening:
            summary = experiment.run(cfg, run)
        if w.is_main:
            summary = {k: _plain(v) for k, v in {**summary, **run.notes}.items()}
            atomic_write_json(directory / "summary.json", summary)
            close("completed")
            from nnlab.report.render import render_run

            render_run(directory)
            if tensorboard:
                from nnlab.runs.tensorboard import write_events

                write_events(directory)
    except UserError as exc:
        if w.is_main and resume_dir is None and not run.history():
            _discard(directory, created)  # bad input leaves nothing behind
        elif w.is_main:
            close_failed(str(exc))
        raise
    except BaseException as exc:
        if not _disk_error(exc):
            if w.is_main:
                close_failed(f"{type(exc).__name__}: {exc}")
            raise
        message = (
            f"cannot write to {directory}: {exc.strerror}; free some space, then continue "
            f"with nnlab run --resume {directory}"
        )
        if w.is_main:
            close_failed(message)
        raise UserError(message) from None
    return directory


def read_run_dir(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config.json, status.json) of a run directory, with clear errors."""
    run = read_run(directory, metrics=False)
    return run.config, run.status
