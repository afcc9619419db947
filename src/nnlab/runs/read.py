"""Reading a run directory: the one reader, for the report, the CLI and `nnlab.load`.

    run = read_run("runs/mlp-classifier/20261123-120000-quick")
    run.config, run.summary, run.status, run.metrics, run.headline_value, run.key_figure

Light: importing it loads neither PyTorch nor matplotlib. Bad files are one-line `UserError`s.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnlab.errors import UserError

CURVES_FILE = "learning_curves.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG text chunk that marks the curves figure as drawn by the report (so it is redrawn on the
# next render), as opposed to a figure of the same name saved by the experiment (kept as is).
GENERATED_KEY = "nnlab-generated"


def read_json(path: Path, required: bool = False) -> Any:
    if not path.exists():
        if required:
            raise UserError(f"{path} is missing")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise UserError(
            f"{path}: corrupt JSON ({e.msg} at line {e.lineno}); restore or delete the file"
        ) from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; restore or delete the file") from None


def read_dict(path: Path, required: bool = False) -> dict | None:
    obj = read_json(path, required)
    if obj is not None and not isinstance(obj, dict):
        raise UserError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def read_metrics(path: Path) -> list[dict]:
    """The records of `metrics.jsonl`; an unfinished last line (killed run) is ignored."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    records = []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines):  # no trailing newline: the writer was interrupted mid-line
                break
            raise UserError(f"{path}: line {i} is not valid JSON; fix or delete it") from None
        if isinstance(rec, dict):
            records.append(rec)
    return records


def is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def check_written_by_nnlab(run_dir: Path, config: dict) -> None:
    """A config.json that `nnlab run` wrote names its experiment and the versions it ran."""
    if not isinstance(config.get("experiment"), str) or not isinstance(
        config.get("versions"), dict
    ):
        raise UserError(
            f"{run_dir / 'config.json'} was not written by nnlab (no experiment and versions); "
            "pass a directory written by `nnlab run`"
        )


def check_run_dir(run_dir: Path) -> None:
    if not is_run_dir(run_dir):
        what = "does not exist" if not run_dir.exists() else "has no config.json"
        raise UserError(
            f"{run_dir} is not a run directory ({what}); pass a directory written by "
            "`nnlab run`, such as runs/<experiment>/<timestamp>-<preset>"
        )


def is_figure(run_dir: Path, png: Path) -> bool:
    """Whether `png` may be shown as a figure of the run: a regular file (not a symlink) that
    lies inside the run directory and starts with the PNG signature."""
    try:
        inside = png.resolve().is_relative_to(run_dir.resolve())
        if png.is_symlink() or not png.is_file() or not inside:
            return False
        with open(png, "rb") as f:
            return f.read(8) == PNG_SIGNATURE
    except OSError:
        return False


def is_generated(png: Path) -> bool:
    """Whether `png` is the curves figure the report drew (redrawn on every render)."""
    from PIL import Image  # a matplotlib dependency

    try:
        with Image.open(png) as im:
            return GENERATED_KEY in im.info
    except OSError:
        return False


@dataclass
class RunInfo:
    run_dir: Path
    config: dict
    summary: dict | None
    status: dict
    metrics: list[dict] = field(default_factory=list)

    @property
    def headline_metric(self) -> str | None:
        h = self.config.get("headline")
        return h.get("metric") if isinstance(h, dict) else None

    @property
    def headline_mode(self) -> str:
        h = self.config.get("headline")
        return h.get("mode", "max") if isinstance(h, dict) else "max"

    @property
    def headline_value(self) -> Any:
        """From summary.json; else the last logged value (run failed or still running)."""
        name = self.headline_metric
        if name is None:
            return None
        if self.summary and name in self.summary:
            return self.summary[name]
        for rec in reversed(self.metrics):
            if name in rec:
                return rec[name]
        return None

    @property
    def headline_is_final(self) -> bool:
        return bool(self.summary) and self.headline_metric in self.summary

    @property
    def reference(self) -> dict | None:
        """config.json's `reference` as `{"value": number, "source": str}`, or None."""
        ref = self.config.get("reference")
        value = ref.get("value") if isinstance(ref, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return None
        return {
            "value": ref["value"],
            "source": str(ref.get("source") or ""),
            "data": ref.get("data"),
            "preset": ref.get("preset") or "full",
        }

    @property
    def data(self) -> str | None:
        """The data set or corpus the run trained on, from its settings."""
        settings = self.config.get("config") or {}
        return settings.get("dataset", settings.get("corpus"))

    @property
    def comparable(self) -> bool:
        """Whether the run measured what its reference did: the reference's data (where it
        names one) and preset (the seed's configuration, `full`)."""
        ref = self.reference
        if ref is None:
            return False
        same_data = ref["data"] is None or self.data == ref["data"]
        return self.config.get("preset") == ref["preset"] and same_data

    @property
    def key_figure(self) -> Path | None:
        """The figure that stands for the run in the atlas: config.json's `key_figure` if
        that file exists, else the experiment's first figure in file-name order (the first
        the report shows), else the learning curves drawn by the report."""
        fig_dir = self.run_dir / "figures"
        if not fig_dir.is_dir():
            return None
        named = self.config.get("key_figure")
        candidates = []
        if isinstance(named, str) and named:
            candidates.append(named if named.endswith(".png") else f"{named}.png")
        candidates += sorted(p.name for p in fig_dir.glob("*.png"))
        curves = None
        for name in candidates:
            path = fig_dir / name
            if "/" in name or not is_figure(self.run_dir, path):
                continue
            if name == CURVES_FILE and is_generated(path):
                curves = path
                continue
            return path
        return curves

    @property
    def state(self) -> str:
        if self.status.get("state"):
            return str(self.status["state"])
        return "completed" if self.summary is not None else "unknown"


def read_run(run_dir: str | os.PathLike, metrics: bool = True) -> RunInfo:
    """Read config, summary, status (and metrics) of a run directory, validating them."""
    run_dir = Path(run_dir)
    check_run_dir(run_dir)
    config = read_dict(run_dir / "config.json", required=True)
    check_written_by_nnlab(run_dir, config)
    return RunInfo(
        run_dir=run_dir,
        config=config,
        summary=read_dict(run_dir / "summary.json"),
        status=read_dict(run_dir / "status.json") or {},
        metrics=read_metrics(run_dir / "metrics.jsonl") if metrics else [],
    )
