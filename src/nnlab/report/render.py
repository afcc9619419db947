"""Render a run directory (see `nnlab/runs/README.md`) to `report.html` + `report.md`,
and a directory of runs to `index.html` + `index.md`."""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from PIL import Image  # a matplotlib dependency

from nnlab.errors import UserError
from nnlab.io import atomic_write_bytes, atomic_write_text
from nnlab.viz import figure_to_png, learning_curves, metric_groups

CURVES_FILE = "learning_curves.png"
# PNG text chunk that marks the curves figure as drawn by the report (so it is redrawn on the
# next render), as opposed to a figure of the same name saved by the experiment (kept as is).
_GENERATED_KEY = "nnlab-generated"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=lambda name: name is not None and ".html" in name,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


# --------------------------------------------------------------------------- formatting


def format_value(v: Any) -> str:
    """A number, string, list or dict as a short, readable string."""
    if v is None:
        return "—"
    if isinstance(v, (bool, str, int)):
        return str(v)
    if isinstance(v, float):
        if v == 0 or not math.isfinite(v):
            return "0" if v == 0 else str(v)
        a = abs(v)
        if 1e-3 <= a < 1e4:
            return f"{v:.4g}"
        if 1e4 <= a < 1e9:
            return f"{v:.0f}"
        return f"{v:.3e}"
    if isinstance(v, (list, tuple)):
        shown = ", ".join(format_value(x) for x in v[:8])
        more = f", … ({len(v)} items)" if len(v) > 8 else ""
        return f"[{shown}{more}]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def format_seconds(s: Any) -> str:
    if not isinstance(s, (int, float)) or isinstance(s, bool):
        return "—"
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def format_time(iso: Any) -> str:
    """An ISO timestamp as `YYYY-mm-dd HH:MM:SS` (anything else unchanged)."""
    try:
        return datetime.fromisoformat(str(iso)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return format_value(iso)


def _md_cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


_env.filters.update(fmt=format_value, seconds=format_seconds, md=_md_cell, url=quote)


# --------------------------------------------------------------------------- reading


def _read_json(path: Path, required: bool = False) -> Any:
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


def _read_dict(path: Path, required: bool = False) -> dict | None:
    obj = _read_json(path, required)
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


def _is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def _check_run_dir(run_dir: Path) -> None:
    if not _is_run_dir(run_dir):
        what = "does not exist" if not run_dir.exists() else "has no config.json"
        raise UserError(
            f"{run_dir} is not a run directory ({what}); pass a directory written by "
            "`nnlab run`, such as runs/<experiment>/<timestamp>-<preset>"
        )


def _is_generated(png: Path) -> bool:
    try:
        with Image.open(png) as im:
            return _GENERATED_KEY in im.info
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
    def state(self) -> str:
        if self.status.get("state"):
            return str(self.status["state"])
        return "completed" if self.summary is not None else "unknown"


def read_run(run_dir: str | os.PathLike, metrics: bool = True) -> RunInfo:
    """Read config, summary, status (and metrics) of a run directory, validating them."""
    run_dir = Path(run_dir)
    _check_run_dir(run_dir)
    return RunInfo(
        run_dir=run_dir,
        config=_read_dict(run_dir / "config.json", required=True),
        summary=_read_dict(run_dir / "summary.json"),
        status=_read_dict(run_dir / "status.json") or {},
        metrics=read_metrics(run_dir / "metrics.jsonl") if metrics else [],
    )


# --------------------------------------------------------------------------- one run


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure(run_dir: Path, file: str, caption: str, png: bytes | None = None) -> dict:
    png = (run_dir / file).read_bytes() if png is None else png
    return {"file": file, "caption": caption, "data_uri": _data_uri(png)}


def _curves(run: RunInfo) -> dict | None:
    """Draw the learning curves into figures/learning_curves.png, unless the experiment saved
    a figure of that name itself (then it is shown with the other figures)."""
    path = run.run_dir / "figures" / CURVES_FILE
    if path.exists() and not _is_generated(path):
        return None
    if not metric_groups(run.metrics):
        return None
    name = run.config.get("experiment") or run.run_dir.name
    fig = learning_curves(run.metrics, title=f"{name}: learning curves")
    png = figure_to_png(fig, metadata={_GENERATED_KEY: "nnlab.report learning curves"})
    path.parent.mkdir(exist_ok=True)
    atomic_write_bytes(path, png)
    return _figure(run.run_dir, f"figures/{CURVES_FILE}", "Learning curves (metrics.jsonl)", png)


def _figures(run: RunInfo) -> list[dict]:
    fig_dir = run.run_dir / "figures"
    captions = _read_dict(fig_dir / "captions.json") or {}
    figures = []
    for png in sorted(fig_dir.glob("*.png")):
        if png.name == CURVES_FILE and _is_generated(png):
            continue
        caption = captions.get(png.name) or captions.get(png.stem) or png.stem
        figures.append(_figure(run.run_dir, f"figures/{png.name}", str(caption)))
    return figures


def _run_context(run: RunInfo) -> dict:
    cfg, status = run.config, run.status
    meta = {
        "preset": cfg.get("preset"),
        "seed": cfg.get("seed"),
        "device": cfg.get("device"),
        "status": run.state,
        "created": format_time(cfg.get("created")),
        "elapsed": format_seconds(status.get("elapsed_seconds")),
    }
    if status.get("resumes"):
        meta["resumes"] = status["resumes"]
    headline = None
    if run.headline_metric:
        headline = {
            "metric": run.headline_metric,
            "goal": "lower is better" if run.headline_mode == "min" else "higher is better",
            "value": format_value(run.headline_value),
            "final": run.headline_is_final,
        }
    settings = cfg.get("config") if isinstance(cfg.get("config"), dict) else {}
    versions = dict(cfg.get("versions") or {})
    versions["git commit"] = cfg.get("git_commit") or "unknown"
    return {
        "title": _run_title(cfg, run.run_dir),
        "experiment": cfg.get("experiment") or run.run_dir.name,
        "description": cfg.get("description") or "",
        "run_dir": run.run_dir.name,
        "state": run.state,
        "error": status.get("error") if run.state != "completed" else None,
        "meta": {k: format_value(v) for k, v in meta.items()},
        "headline": headline,
        "summary": {k: format_value(v) for k, v in run.summary.items()} if run.summary else None,
        "timings": {k: format_value(v) for k, v in (status.get("timings") or {}).items()},
        "curves": _curves(run),
        "figures": _figures(run),
        "config": {k: format_value(v) for k, v in settings.items()},
        "versions": {k: format_value(v) for k, v in versions.items()},
    }


def _run_title(config: dict, run_dir: Path) -> str:
    name = config.get("experiment") or run_dir.name
    return f"{name} · {config.get('preset', '?')} · seed {config.get('seed', '?')}"


def render_run(run_dir: str | os.PathLike) -> Path:
    """Write `report.html` (self-contained) and `report.md` into `run_dir`; return the html path."""
    run = read_run(run_dir)
    ctx = _run_context(run)
    atomic_write_text(run.run_dir / "report.md", _env.get_template("run.md.j2").render(ctx))
    html_path = run.run_dir / "report.html"
    atomic_write_text(html_path, _env.get_template("run.html.j2").render(ctx))
    return html_path


# --------------------------------------------------------------------------- index


def _find_run_dirs(root: Path) -> list[Path]:
    found = [root] if _is_run_dir(root) else []
    for cfg in root.rglob("config.json"):
        rel = cfg.parent.relative_to(root)
        if cfg.parent != root and not any(p.startswith(".") for p in rel.parts):
            found.append(cfg.parent)
    return sorted(found)


def _report_is_stale(run_dir: Path) -> bool:
    report = run_dir / "report.html"
    if not report.exists():
        return True
    inputs = ["config.json", "summary.json", "status.json", "metrics.jsonl", "figures"]
    newest = max((run_dir / f).stat().st_mtime for f in inputs if (run_dir / f).exists())
    return newest > report.stat().st_mtime


def _index_row(run: RunInfo, rel: str) -> dict:
    report = f"{rel}/report" if rel != "." else "report"
    value = run.headline_value
    shown = format_value(value)
    if value is not None and not run.headline_is_final:
        shown += " (last logged)"
    return {
        "path": rel,
        "html": quote(report + ".html"),
        "md": quote(report + ".md"),
        "preset": format_value(run.config.get("preset")),
        "seed": format_value(run.config.get("seed")),
        "created": format_time(run.config.get("created")),
        "sort_key": (str(run.config.get("created", "")), rel),
        "state": run.state,
        "metric": run.headline_metric or "—",
        "value": shown,
        "score": _score(value, run.headline_mode) if run.headline_is_final else None,
        "best": False,
        "error": None,
    }


def _score(value: Any, mode: str) -> float | None:
    """Higher is better; None if not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return -value if mode == "min" else value


def render_index(root: str | os.PathLike) -> Path:
    """Write `index.html` and `index.md` in `root` listing every run below it, grouped by
    experiment, oldest first; render any run report that is missing or out of date."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root} is not a directory; pass the directory holding your runs (runs/)")
    groups: dict[str, list[dict]] = {}
    for run_dir in _find_run_dirs(root):
        rel = run_dir.relative_to(root).as_posix() or "."
        try:
            if _report_is_stale(run_dir):
                render_run(run_dir)
            run = read_run(run_dir)
        except UserError as e:  # one broken run must not hide the others
            row = {"path": rel, "sort_key": ("", rel), "error": str(e)}
            groups.setdefault("(unreadable)", []).append(row)
            continue
        groups.setdefault(str(run.config.get("experiment") or "(unnamed)"), []).append(
            _index_row(run, rel)
        )
    for rows in groups.values():
        rows.sort(key=lambda r: r["sort_key"])
        scored = [r for r in rows if r.get("score") is not None]
        if len(scored) > 1:
            max(scored, key=lambda r: r["score"])["best"] = True
    ctx = {
        "root": root.resolve().name,
        "groups": dict(sorted(groups.items())),
        "n_runs": sum(len(rows) for rows in groups.values()),
    }
    atomic_write_text(root / "index.md", _env.get_template("index.md.j2").render(ctx))
    html_path = root / "index.html"
    atomic_write_text(html_path, _env.get_template("index.html.j2").render(ctx))
    return html_path
