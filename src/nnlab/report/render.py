"""Render a run directory (see `nnlab/runs/README.md`) to `report.html` + `report.md`,
and a directory of runs to `index.html` + `index.md`."""

from __future__ import annotations

import base64
import io
import math
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape
from PIL import Image  # a matplotlib dependency

from nnlab.errors import UserError
from nnlab.io import atomic_write_bytes, atomic_write_text, open_image, read_image
from nnlab.runs.read import (
    CURVES_FILE,
    GENERATED_KEY,
    RunInfo,
    is_figure,
    is_generated,
    is_run_dir,
    read_dict,
    read_run,
)
from nnlab.viz import figure_to_png, learning_curves, metric_groups

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=lambda name: name is not None and ".html" in name,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


# --------------------------------------------------------------------------- formatting


def format_value(v: Any, max_items: int = 8) -> str:
    """A number, string, list or dict as a short, readable string: floats to 4 significant
    digits (integers and strings unchanged), lists cut after `max_items` items."""
    if v is None:
        return "—"
    if isinstance(v, (bool, str, int)):
        return str(v)
    if isinstance(v, float):
        if v == 0 or not math.isfinite(v):
            return "0" if v == 0 else str(v)
        a = abs(v)
        if 1e-4 <= a < 1e4:
            return f"{v:.4g}"
        if 1e4 <= a < 1e9:
            return f"{v:.0f}"
        return f"{v:.3e}"
    if isinstance(v, (list, tuple)):
        shown = ", ".join(format_value(x) for x in v[:max_items])
        more = f", … ({len(v)} items)" if len(v) > max_items else ""
        return f"[{shown}{more}]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def format_delta(v: Any) -> str:
    """A difference with its sign: `+0.0111`, `−0.59` (a true minus sign), `0`."""
    shown = format_value(v)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v == 0:
        return shown
    return "+" + shown if v > 0 else "\u2212" + shown.lstrip("-")


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


def _wbr(v: Any) -> Markup:
    """Escaped text that may break after `_` and `.` (long snake_case column names)."""
    return escape(str(v)).replace("_", Markup("_<wbr>")).replace(".", Markup(".<wbr>"))


_env.filters.update(fmt=format_value, seconds=format_seconds, md=_md_cell, url=quote, wbr=_wbr)


# --------------------------------------------------------------------------- summary tables

# How the summary is laid out (README, "What one run's report shows"): scalars in one table;
# lists of records, dicts and matrices each in a table of their own; at most MAX_ROWS rows.
MAX_ROWS = 50
LIST_ITEMS = 30  # a list of scalars is written inline, cut after this many items


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_EMPTY = {"text": "", "num": False, "head": False}


def _cell(v: Any, max_items: int = 8) -> dict:
    """A table cell: the value's text, whether it is a number (set right-aligned) and whether
    it names its row (`head`)."""
    return {"text": format_value(v, max_items), "num": _is_number(v), "head": False}


def _table(title: str, columns: list[str], rows: list[list[dict]], shape: str = "") -> dict:
    note = ""
    if len(rows) > MAX_ROWS:
        note = f"first {MAX_ROWS} of {len(rows)} rows; summary.json has them all"
        rows = rows[:MAX_ROWS]
    return {"title": title, "shape": shape, "columns": columns, "rows": rows, "note": note}


def _flat(record: Mapping) -> dict[str, Any]:
    """A record with its dicts of scalars spread into `key.field` columns."""
    flat: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, Mapping) and v and all(map(_is_scalar, v.values())):
            flat.update({f"{k}.{f}": x for f, x in v.items()})
        else:
            flat[str(k)] = v
    return flat


def _label_column(records: list[dict[str, Any]], columns: list[str]) -> str | None:
    """The first column of short strings, distinct in every record (`method`, `network`,
    `pair`), if any: it names the rows. (summary.json sorts keys, so such a column is often
    far to the right.)"""
    for col in columns:
        values = [r.get(col) for r in records]
        if all(isinstance(v, str) and 0 < len(v) <= 40 for v in values) and len(set(values)) == len(
            values
        ):
            return col
    return None


def _records_table(title: str, records: list[Mapping], label: str | None = None) -> dict:
    """A list of dicts: one row per record, the union of their keys as columns in first-seen
    order (a dict of scalars inside a record spreads into `key.field` columns); a record
    without a key gets an empty cell. `label`: the column that names the rows."""
    flat = [_flat(r) for r in records]
    columns: dict[str, None] = {}
    for rec in flat:
        columns.update(dict.fromkeys(rec))
    label = label if label is not None else _label_column(flat, list(columns))
    if label is not None:  # the column that names the rows comes first
        columns = {label: None, **columns}
    rows = [
        [{**_cell(rec[k]), "head": k == label} if k in rec else _EMPTY for k in columns]
        for rec in flat
    ]
    return _table(title, list(columns), rows, f"{len(records)} rows")


def _summary_entry(key: str, value: Any) -> dict | None:
    """The table for one nested summary entry, or None if it is written inline."""
    if isinstance(value, (list, tuple)) and value:
        if all(isinstance(x, Mapping) for x in value):
            return _records_table(key, list(value))
        if all(isinstance(x, (list, tuple)) and x and all(map(_is_scalar, x)) for x in value):
            width = max(len(x) for x in value)
            rows = [
                [{"text": str(i), "num": True, "head": True}, *(_cell(c) for c in row)]
                for i, row in enumerate(value)
            ]
            return _table(key, ["", *map(str, range(width))], rows, f"{len(value)} × {width}")
        return None
    if isinstance(value, Mapping) and value:
        items = [(str(k), v) for k, v in value.items()]
        if all(isinstance(v, Mapping) for _, v in items):
            label = "key" if any("name" in v for _, v in items) else "name"
            records = [{label: k, **{str(f): x for f, x in v.items()}} for k, v in items]
            return _records_table(key, records, label)
        rows = [[{"text": k, "num": False, "head": True}, _cell(v, LIST_ITEMS)] for k, v in items]
        return _table(key, ["name", "value"], rows, f"{len(items)} entries")
    return None


def summary_blocks(summary: Mapping[str, Any], headline: str | None = None) -> dict:
    """`summary.json` laid out for people: `scalars` (key, cell, is-headline) for one
    two-column table, and `tables` for the lists of records, dicts and matrices."""
    scalars, tables = [], []
    for key, value in summary.items():
        table = _summary_entry(str(key), value)
        if table is None:
            cell = _cell(value, LIST_ITEMS)
            scalars.append({"key": str(key), "cell": cell, "headline": key == headline})
        else:
            tables.append(table)
    return {"scalars": scalars, "tables": tables}


# --------------------------------------------------------------------------- reading


# --------------------------------------------------------------------------- one run


# Every report and atlas file nnlab writes carries this mark (html: a generator meta tag and
# the footer, markdown: a first-line comment); a file of that name without it is not replaced.
MARK = b"nnlab.report"
# what the reports of nnlab versions before the mark hold, near their top or end
_LEGACY_MARKS = (b"<title>Atlas of runs in ", b"# Atlas of runs in ", b"| package | version |")


def _check_replaceable(*paths: Path) -> None:
    """UserError unless each file is absent or a regular file that nnlab's report wrote."""
    for path in paths:
        if not path.exists() and not path.is_symlink():
            continue
        ours = False
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as f:
                ends = f.read(65536)
                f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
                ends += f.read()
            ours = any(mark in ends for mark in (MARK, *_LEGACY_MARKS))
        if not ours:
            raise UserError(
                f"{path} was not written by nnlab's report; move it away to render the report here"
            )


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure(run_dir: Path, file: str, caption: str, png: bytes | None = None) -> dict:
    if png is None:
        open_image(run_dir / file).close()  # DataError for a decompression bomb
        png = (run_dir / file).read_bytes()
    return {"file": file, "caption": caption, "data_uri": _data_uri(png)}


def _curves(run: RunInfo) -> dict | None:
    """Draw the learning curves into figures/learning_curves.png, unless the experiment saved
    a figure of that name itself (then it is shown with the other figures)."""
    path = run.run_dir / "figures" / CURVES_FILE
    if path.exists() and not is_generated(path):
        return None
    if not metric_groups(run.metrics) or not path.parent.resolve().is_relative_to(
        run.run_dir.resolve()
    ):  # nothing to draw, or figures/ leads out of the run directory
        return None
    name = run.config.get("experiment") or run.run_dir.name
    fig = learning_curves(run.metrics, title=f"{name}: learning curves")
    png = figure_to_png(fig, metadata={GENERATED_KEY: "nnlab.report learning curves"})
    path.parent.mkdir(exist_ok=True)
    atomic_write_bytes(path, png)
    return _figure(run.run_dir, f"figures/{CURVES_FILE}", "Learning curves (metrics.jsonl)", png)


def _figures(run: RunInfo) -> list[dict]:
    fig_dir = run.run_dir / "figures"
    captions = read_dict(fig_dir / "captions.json") or {}
    figures = []
    for png in sorted(fig_dir.glob("*.png")):
        if not is_figure(run.run_dir, png):  # a symlink, a file outside the run, not a PNG
            continue
        if png.name == CURVES_FILE and is_generated(png):
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
    headline = _headline(run)
    settings = cfg.get("config") if isinstance(cfg.get("config"), dict) else {}
    versions = dict(cfg.get("versions") or {})
    versions["git commit"] = cfg.get("git_commit") or "unknown"
    return {
        "title": _run_title(cfg, run.run_dir),
        "experiment": cfg.get("experiment") or run.run_dir.name,
        "description": cfg.get("description") or "",
        "reproduces": cfg.get("reproduces") or "",
        "run_dir": run.run_dir.name,
        "state": run.state,
        "error": status.get("error") if run.state != "completed" else None,
        "meta": {k: format_value(v) for k, v in meta.items()},
        "headline": headline,
        "teaching": _teaching(run),
        "summary": summary_blocks(run.summary, run.headline_metric) if run.summary else None,
        "timings": {k: format_value(v) for k, v in (status.get("timings") or {}).items()},
        "curves": _curves(run),
        "figures": _figures(run),
        "config": {k: format_value(v) for k, v in settings.items()},
        "versions": {k: format_value(v) for k, v in versions.items()},
    }


def _declaration(name: str) -> Any:
    """The registered experiment of that name, or None (a run of a removed or foreign one)."""
    from nnlab.experiments import registry

    return registry().get(name)


def _teaching(run: RunInfo) -> dict | None:
    """The question the run answers, the answer with its own numbers, what to look for in
    its figures and what to try next, from the experiment's declaration."""
    exp = _declaration(str(run.config.get("experiment")))
    if exp is None or exp.teaching is None:
        return None
    t = exp.teaching
    return {
        "question": t.question,
        "answer": t.answer_for(run.summary) if run.summary else None,
        "figures": dict(t.figures),
        "try_next": [{"command": c, "shows": why} for c, why in t.try_next],
    }


def _not_comparable(run: RunInfo, ref: dict) -> str:
    """What the run was, and the command that measures the reference's number."""
    was = f"this {run.config.get('preset')} run" + (f" on {run.data}" if run.data else "")
    wants = f"the {ref['preset']} preset" + (f" on {ref['data']}" if ref["data"] else "")
    command = f"nnlab run {run.config.get('experiment')} --preset {ref['preset']}"
    if ref["data"] and run.data != ref["data"]:
        key = "corpus" if "corpus" in (run.config.get("config") or {}) else "dataset"
        command += f" --set {key}={ref['data']}"
    return f"not comparable: {was}; the reference is for {wants} (`{command}`)"


def _headline(run: RunInfo) -> dict | None:
    """The headline metric, its value and the reference it is compared with, as text."""
    if not run.headline_metric:
        return None
    value, ref = run.headline_value, run.reference
    verdict = (run.summary or {}).get("verdict")
    reference = None
    if ref is not None:
        reference = {
            "value": format_value(ref["value"]),
            "source": ref["source"],
            "delta": format_delta(value - ref["value"])
            if _is_number(value) and run.comparable
            else None,
            "comparable": run.comparable,
            "not_comparable": None if run.comparable else _not_comparable(run, ref),
        }
    return {
        "metric": run.headline_metric,
        "goal": "lower is better" if run.headline_mode == "min" else "higher is better",
        "value": format_value(value),
        "final": run.headline_is_final,
        "reference": reference,
        "verdict": verdict
        if isinstance(verdict := (run.summary or {}).get("verdict"), str)
        else None,
    }


def _run_title(config: dict, run_dir: Path) -> str:
    name = config.get("experiment") or run_dir.name
    return f"{name} · {config.get('preset', '?')} · seed {config.get('seed', '?')}"


def render_run(run_dir: str | os.PathLike) -> Path:
    """Write `report.html` (self-contained) and `report.md` into `run_dir`; return the html path."""
    run = read_run(run_dir)
    md_path, html_path = run.run_dir / "report.md", run.run_dir / "report.html"
    _check_replaceable(md_path, html_path)
    ctx = _run_context(run)
    atomic_write_text(md_path, _env.get_template("run.md.j2").render(ctx))
    atomic_write_text(html_path, _env.get_template("run.html.j2").render(ctx))
    return html_path


# --------------------------------------------------------------------------- index

# The atlas card of an experiment shows its latest completed run of the fullest preset: a
# reference describes the seed's configuration (`full`), so the run closest to it stands for
# the experiment; the other runs are listed on the card and in the table of all runs.
PRESET_RANK = {"full": 3, "quick": 2, "smoke": 1}
THUMBNAIL_SIZE = (400, 250)  # pixels, at most; the card shows it at about 300 × 190
OTHER_RUNS_ON_CARD = 5


def _find_run_dirs(root: Path) -> list[Path]:
    found = [root] if is_run_dir(root) else []
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


def thumbnail(png: Path, size: tuple[int, int] = THUMBNAIL_SIZE) -> bytes:
    """A downscaled copy of a PNG figure for the atlas: at most `size` pixels, 64 colours,
    10-60 kB; the figure itself when that file is smaller still."""
    with read_image(png, max_side=4 * max(size)) as im:  # DataError for a decompression bomb
        im = im.convert("RGB")
        im.thumbnail(size, Image.Resampling.LANCZOS)
    im = im.quantize(colors=64, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    original = png.read_bytes()
    return original if len(original) <= buf.tell() else buf.getvalue()


def _index_row(run: RunInfo, rel: str) -> dict:
    report = f"{rel}/report" if rel != "." else "report"
    value = run.headline_value
    shown = format_value(value)
    if value is not None and not run.headline_is_final:
        shown += " (last logged)"
    experiment = str(run.config.get("experiment") or "")
    return {
        "path": rel,
        # the run's own folder name when it sits in its experiment's folder, as usual
        "name": rel.removeprefix(f"{experiment}/") if experiment else rel,
        "html": quote(report + ".html"),
        "md": quote(report + ".md"),
        "preset": format_value(run.config.get("preset")),
        "seed": format_value(run.config.get("seed")),
        "created": format_time(run.config.get("created")),
        "date": format_time(run.config.get("created"))[:10],
        "minute": format_time(run.config.get("created"))[:16],
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


def _card_run(entries: list[tuple[RunInfo, dict]]) -> tuple[RunInfo, dict]:
    completed = [e for e in entries if e[0].state == "completed"] or entries
    return max(
        completed,
        key=lambda e: (PRESET_RANK.get(str(e[0].config.get("preset")), 0), e[1]["sort_key"]),
    )


def _card(name: str, entries: list[tuple[RunInfo, dict]], root: Path) -> dict:
    """One experiment on the atlas: its card run, key figure, headline and other runs."""
    run, row = _card_run(entries)
    figure = run.key_figure
    thumb, figure_link, figure_caption = None, None, ""
    if figure is not None:
        try:
            thumb = _data_uri(thumbnail(figure))
        except (OSError, UserError):  # an unreadable PNG: the card goes without a picture
            thumb = None
        figure_link = quote(figure.relative_to(root).as_posix())
        figure_caption = _figure_caption(run.run_dir, figure.name)
    others = sorted((r for _, r in entries if r is not row), key=lambda r: r["sort_key"])[::-1]
    return {
        "experiment": name,
        "description": run.config.get("description") or "",
        "reproduces": run.config.get("reproduces") or "",
        "headline": _headline(run),
        "teaching": _teaching(run),
        "run": row,
        "thumbnail": thumb,
        "figure": figure_link,
        "figure_caption": figure_caption,
        "others": others[:OTHER_RUNS_ON_CARD],
        "more": max(0, len(others) - OTHER_RUNS_ON_CARD),
    }


def _figure_caption(run_dir: Path, file: str) -> str:
    try:
        captions = read_dict(run_dir / "figures" / "captions.json") or {}
    except UserError:
        captions = {}
    stem = file.removesuffix(".png")
    if file == CURVES_FILE and not captions.get(file):
        return "Learning curves"
    return str(captions.get(file) or captions.get(stem) or stem)


def _chapters(cards: list[dict]) -> list[dict]:
    """The cards grouped by chapter in course order; experiments nnlab does not know last."""
    from nnlab.experiments import CHAPTERS, chapter_title, registry

    order = {name: i for i, name in enumerate(registry())}
    known = {name: exp.chapter for name, exp in registry().items()}
    chapters = [
        {
            "title": f"{i}. {chapter_title(c)}",
            "cards": [x for x in cards if known.get(x["experiment"]) == c],
        }
        for i, c in enumerate(CHAPTERS, start=1)
    ]
    others = sorted(
        (x for x in cards if x["experiment"] not in known), key=lambda x: x["experiment"]
    )
    chapters.append({"title": "Other experiments", "cards": others})
    for chapter in chapters:
        chapter["cards"].sort(key=lambda x: order.get(x["experiment"], 0))
    return [c for c in chapters if c["cards"]]


def render_index(root: str | os.PathLike) -> Path:
    """Write `index.html` and `index.md` in `root`: an atlas of one card per experiment, then
    every run below it, grouped by experiment, oldest first; render any run report that is
    missing or out of date."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root} is not a directory; pass the directory holding your runs (runs/)")
    md_path, html_path = root / "index.md", root / "index.html"
    _check_replaceable(md_path, html_path)
    groups: dict[str, list[tuple[RunInfo, dict]]] = {}
    broken: list[dict] = []
    for run_dir in _find_run_dirs(root):
        rel = run_dir.relative_to(root).as_posix() or "."
        try:
            if _report_is_stale(run_dir):
                render_run(run_dir)
            run = read_run(run_dir)
        except UserError as e:  # one broken run must not hide the others
            broken.append({"path": rel, "sort_key": ("", rel), "error": str(e), "best": False})
            continue
        name = str(run.config.get("experiment") or "(unnamed)")
        groups.setdefault(name, []).append((run, _index_row(run, rel)))
    tables: dict[str, list[dict]] = {}
    for name, entries in sorted(groups.items()):
        rows = sorted((row for _, row in entries), key=lambda r: r["sort_key"])
        scored = [r for r in rows if r.get("score") is not None]
        if len(scored) > 1:
            max(scored, key=lambda r: r["score"])["best"] = True
        tables[name] = rows
    if broken:
        tables["(unreadable)"] = sorted(broken, key=lambda r: r["sort_key"])
    ctx = {
        "root": root.resolve().name,
        "chapters": _chapters([_card(name, entries, root) for name, entries in groups.items()]),
        "n_cards": len(groups),
        "groups": tables,
        "n_runs": sum(len(rows) for rows in tables.values()),
        "n_broken": len(broken),
    }
    atomic_write_text(md_path, _env.get_template("index.md.j2").render(ctx))
    atomic_write_text(html_path, _env.get_template("index.html.j2").render(ctx))
    return html_path
