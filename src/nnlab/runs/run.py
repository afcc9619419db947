"""The `Run` object an experiment writes through, and the runner that creates and resumes runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from tqdm.auto import tqdm

import nnlab
from nnlab.data.digest import recording
from nnlab.errors import UserError
from nnlab.io import atomic_write_bytes, atomic_write_json
from nnlab.runs.read import read_metrics, read_run
from nnlab.training import distributed

T = TypeVar("T")

if TYPE_CHECKING:
    import torch

CHECKPOINT = "checkpoints/last.pt"
LOCK = "run.lock"  # held (flock) by the process writing the run; names its pid and host


def settings_digest(directory: Path) -> str | None:
    """SHA-256 of what config.json says to run (experiment, preset, seed, settings); kept in
    each checkpoint so that a resume notices an edited config.json. None without a config.json
    (a `Run` the library drives itself, outside the runner)."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        return None
    config = json.loads(path.read_text(encoding="utf-8"))
    chosen = {k: config.get(k) for k in ("experiment", "preset", "seed", "config")}
    return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()


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


class Run:
    """A run directory open for writing: metrics, figures, checkpoints, progress bars.

    Of the processes of a torchrun job only rank 0 is the `writer`. On the other ranks the
    same calls write nothing (figures, checkpoints and files return the path rank 0 writes;
    `log` keeps the line in memory and still stops on a non-finite loss) and show no progress
    bar; `load_checkpoint` reads the shared run directory on every rank.
    """

    def __init__(
        self,
        directory: Path,
        *,
        seed: int,
        device: torch.device | None,
        quiet: bool = False,
        allow_download: bool = False,
        writer: bool = True,
    ) -> None:
        self.dir = Path(directory)
        self.seed = seed
        self.device = device
        self.quiet = quiet
        self.allow_download = allow_download
        self.writer = writer
        self._metrics_path = self.dir / "metrics.jsonl"
        self._lines: list[dict[str, Any]] = []  # what a non-writer logged (after a resume)
        if writer:
            (self.dir / "figures").mkdir(parents=True, exist_ok=True)
            (self.dir / "checkpoints").mkdir(exist_ok=True)
            self._metrics_path.touch()
        self.timings: dict[str, float] = {}

    # -- metrics -------------------------------------------------------------------------
    def log(self, step: int, **metrics: float) -> None:
        """Append one line to metrics.jsonl (flushed). A non-finite loss stops the run."""
        record = {"step": int(step), **{k: _plain(v) for k, v in metrics.items()}}
        if self.writer:
            with open(self._metrics_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
                f.flush()
        else:
            self._lines.append(json.loads(json.dumps(record)))  # as rank 0 will read it back
        for key, value in record.items():
            if "loss" in key and isinstance(value, float) and not math.isfinite(value):
                raise UserError(
                    f"{key} became {value} at step {step}: training diverged; "
                    "lower the learning rate (--set lr=...) and run again"
                )

    def history(self) -> list[dict[str, Any]]:
        """Every metrics line logged so far (including before a resume).

        On a non-writer rank: the lines up to the checkpoint it resumed from, read from rank
        0's file, then the lines it logged itself; the same as rank 0's when every rank logs
        the same values (losses averaged with `world().mean`)."""
        if not self.writer:
            return list(self._lines)
        return read_metrics(self._metrics_path)

    def record_time(self, name: str, seconds: float) -> None:
        """Keep a measured duration; timings go to status.json (summary.json stays
        deterministic) and the report shows them."""
        self.timings[name] = round(float(seconds), 6)

    # -- figures -------------------------------------------------------------------------
    def figure(self, name: str, fig: Any, caption: str) -> Path:
        """Save a matplotlib Figure as figures/<name>.png with its caption."""
        import io

        if not self.writer:
            return self.dir / "figures" / f"{name}.png"
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        path = atomic_write_bytes(self.dir / "figures" / f"{name}.png", buf.getvalue())
        captions_path = self.dir / "figures" / "captions.json"
        captions = json.loads(captions_path.read_text()) if captions_path.exists() else {}
        captions[path.name] = caption
        atomic_write_json(captions_path, captions)
        return path

    # -- checkpoints ---------------------------------------------------------------------
    def save_checkpoint(self, state: dict[str, Any]) -> None:
        """Save `state` (tensors, numbers, strings, lists, dicts) with every RNG state."""
        import io

        if not self.writer:
            return

        import torch

        full = dict(state)
        full["_rng"] = _rng_state()
        full["_metrics_lines"] = len(self.history())
        full["_settings_sha256"] = settings_digest(self.dir)
        with open(self._metrics_path, "rb") as f:  # the lines it counts are on disk first
            os.fsync(f.fileno())
        buf = io.BytesIO()
        torch.save(full, buf)
        atomic_write_bytes(self.dir / CHECKPOINT, buf.getvalue())

    def save_model(self, name: str, state: dict[str, Any]) -> Path:
        """Save `state` (weights and plain values) as checkpoints/<name>.pt, for later use
        outside the run (e.g. `nnlab generate`); loadable with `weights_only=True`."""
        import io

        if not self.writer:
            return self.dir / "checkpoints" / f"{name}.pt"

        import torch

        buf = io.BytesIO()
        torch.save(state, buf)
        return atomic_write_bytes(self.dir / "checkpoints" / f"{name}.pt", buf.getvalue())

    def write_text(self, name: str, text: str) -> Path:
        """Write a text file (e.g. a tokenizer) at the top of the run directory."""
        if not self.writer:
            return self.dir / name
        return atomic_write_bytes(self.dir / name, text.encode("utf-8"))

    def load_checkpoint(self) -> dict[str, Any] | None:
        """The last checkpoint (RNG states restored, metrics rewound to it), or None."""
        path = self.dir / CHECKPOINT
        if not path.exists():
            self._rewind_metrics(0)
            return None
        import torch  # only now: runs of NumPy experiments without checkpoints never load it

        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise UserError(
                f"checkpoint {path} cannot be read ({type(exc).__name__}); "
                "start a new run instead of resuming"
            ) from None
        saved = state.pop("_settings_sha256", None)  # None: a checkpoint of an older nnlab
        if saved is not None and saved != settings_digest(self.dir):
            raise UserError(
                f"{self.dir / 'config.json'} was edited since the checkpoint was saved; restore "
                "it, or start a new run with the new settings (nnlab run EXPERIMENT --set ...)"
            )
        _set_rng_state(state.pop("_rng"))
        self._rewind_metrics(state.pop("_metrics_lines"))
        return state

    def _rewind_metrics(self, n_lines: int) -> None:
        if not self.writer:  # rank 0 truncates the file; its first lines stay as they are
            self._lines = read_metrics(self._metrics_path)[:n_lines] if n_lines else []
            return
        lines = self._metrics_path.read_text(encoding="utf-8").splitlines(keepends=True)
        if len(lines) != n_lines:
            atomic_write_bytes(self._metrics_path, "".join(lines[:n_lines]).encode("utf-8"))

    # -- progress ------------------------------------------------------------------------
    def bar(
        self,
        iterable: Iterable[T] | None = None,
        *,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        initial: int = 0,
    ) -> tqdm:
        """A progress bar on stderr, off with --quiet or when stderr is neither a terminal nor
        a Jupyter kernel's output (`_draws_bars`).

        Wrap an iterable (`for x in run.bar(xs)`) or drive it by hand (`.update(n)`,
        `.set_postfix(...)`, `.close()`).
        """
        disable = self.quiet or not self.writer or not _draws_bars(sys.stderr)
        return tqdm(
            iterable,
            total=total,
            desc=desc,
            unit=unit,
            initial=initial,
            disable=disable,
            leave=False,
            dynamic_ncols=True,
        )


def _draws_bars(stream: Any) -> bool:
    """Whether a progress bar on `stream` is seen: a terminal, or the stream a Jupyter kernel
    sends to the notebook (it draws tqdm's carriage returns in place)."""
    isatty = getattr(stream, "isatty", None)
    in_kernel = type(stream).__module__.split(".")[0] == "ipykernel"
    return in_kernel or bool(isatty and isatty())


def _plain(value: Any) -> Any:
    torch = sys.modules.get("torch")  # a tensor can only come from an imported torch
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    return value


# The global NumPy RNG is saved and seeded too: user code and libraries may draw from it.
# Checkpoints are torch files, so torch is imported by then.
def _rng_state() -> dict[str, Any]:
    import torch

    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    return {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "python": random.getstate(),
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    import torch

    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))  # noqa: NPY002
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def seed_everything(seed: int, *, torch_too: bool = True) -> None:
    """Seed Python's, NumPy's global and (unless `torch_too=False`) PyTorch's generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    if torch_too:
        import torch

        torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is available; use cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("--device mps was asked for but MPS is not available; use --device cpu")
    return torch.device(name)


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


def _execute(
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
    tensorboard: bool = False,
) -> Path:
    with contextlib.ExitStack() as stack:  # holds the run's lock (rank 0) until the end
        return _execute_locked(
            experiment,
            cfg,
            preset=preset,
            seed=seed,
            device=device,
            out=out,
            quiet=quiet,
            allow_download=allow_download,
            resume_dir=resume_dir,
            stack=stack,
            tensorboard=tensorboard,
        )


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
            summary = {k: _plain(v) for k, v in summary.items()}
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
