"""The `Run` object an experiment writes through: metrics, figures, checkpoints, progress bars,
seeds and devices. `nnlab.runs.runner` creates, locks and resumes run directories around it."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from tqdm.auto import tqdm

from nnlab.errors import UserError
from nnlab.io import atomic_write_bytes, atomic_write_json
from nnlab.runs.read import read_metrics

T = TypeVar("T")

if TYPE_CHECKING:
    import torch

CHECKPOINT = "checkpoints/last.pt"


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
        self.notes: dict[str, Any] = {}

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

    def note(self, name: str, value: Any) -> None:
        """Keep a deterministic fact of how the run trained (e.g. the `precision` a setting
        of "auto" resolved to); the runner adds the notes to summary.json."""
        self.notes[name] = value

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
