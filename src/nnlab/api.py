"""nnlab from Python and Jupyter: run an experiment, read a finished run, show it inline.

    import nnlab
    nnlab.experiments()                  # {chapter title: [experiment names]}, in course order
    r = nnlab.run("cnn-mnist", preset="smoke", epochs=2, out="runs")  # settings as keywords
    r.summary["test_accuracy"], r.config["epochs"], r.metrics[-1], r.figures, r.dir
    r                                    # in Jupyter: headline, question and answer, figures
    nnlab.load(r.dir)                    # the same object for a finished run

Keyword settings go through the same validation as `nnlab run --set` (old setting names
included); bad input raises `nnlab.errors.UserError` (a `ConfigError`, `DataError`, ...) whose
one-line message is the one the command prints. Importing this module loads neither PyTorch
nor matplotlib: the runner is imported when `run` is called.
"""

from __future__ import annotations

import base64
import html
import os
import shlex
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nnlab.errors import UserError
from nnlab.runs.read import RunInfo, read_dict, read_run

__all__ = ["Figure", "Result", "experiments", "load", "run"]

_RUNNER_OPTIONS = ("preset", "seed", "device", "out", "quiet", "tensorboard")


def experiments() -> dict[str, list[str]]:
    """The experiments' names grouped by chapter, `{chapter title: [names]}`, in course order
    (the same as `nnlab.experiments()`)."""
    from nnlab.experiments import by_chapter

    return by_chapter()


def _fresh(exc: UserError) -> UserError:
    """The same error raised anew, so a notebook shows its one-line message and two frames,
    not the traceback from deep inside the runner."""
    try:
        return type(exc)(str(exc))
    except TypeError:
        return UserError(str(exc))


def run(
    experiment: str,
    *,
    preset: str = "quick",
    seed: int = 0,
    device: str = "auto",
    out: str | os.PathLike = "runs",
    quiet: bool = False,
    tensorboard: bool = False,
    **settings: Any,
) -> Result:
    """Run `experiment` as `nnlab run` does and return its `Result`.

    `settings` override the preset's values, checked as `--set key=value` is (`epochs=2`,
    `hidden=(256, 128)` or `hidden="256,128"`); `nnlab describe EXPERIMENT` lists them. The run
    directory is `out/<experiment>/<timestamp>-<preset>/`. Progress bars show in a terminal and
    in Jupyter (off with `quiet=True`); `tensorboard=True` (or `NNLAB_TENSORBOARD=1`) also
    writes TensorBoard events. Bad input raises a `UserError` before anything runs.

        r = nnlab.run("xor", preset="smoke")
        r.summary["trained_network_accuracy"]
    """
    try:
        return _run(experiment, preset, seed, device, out, quiet, tensorboard, settings)
    except UserError as exc:
        raise _fresh(exc) from None


def _run(
    experiment: str,
    preset: str,
    seed: int,
    device: str,
    out: str | os.PathLike,
    quiet: bool,
    tensorboard: bool,
    settings: dict[str, Any],
) -> Result:
    from nnlab.experiments import get
    from nnlab.runs.tensorboard import wanted

    if not isinstance(experiment, str):
        raise UserError(f"name the experiment as a string, such as 'xor'; got {experiment!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UserError(f"seed must be an integer, such as 0; got {seed!r}")
    if device not in ("auto", "cpu", "cuda", "mps"):
        raise UserError(f"device must be 'auto', 'cpu', 'cuda' or 'mps'; got {device!r}")
    exp = get(experiment)
    cfg = exp.make_config(preset, settings)  # the code path of --set: same checks, same words
    with warnings.catch_warnings():
        # tqdm.auto in a kernel without ipywidgets says so and draws text bars, which Jupyter
        # shows just as well
        warnings.filterwarnings("ignore", message="IProgress not found")
        from nnlab.runs.runner import execute

    run_dir = execute(
        exp,
        cfg,
        preset=preset,
        seed=seed,
        device=device,
        out=Path(out),
        quiet=quiet,
        allow_download=True,
        tensorboard=wanted(tensorboard),
    )
    return Result(read_run(run_dir))


def load(run_dir: str | os.PathLike) -> Result:
    """The `Result` of a run directory written by `nnlab run` or `nnlab.run`."""
    try:
        return Result(read_run(run_dir))
    except UserError as exc:
        raise _fresh(exc) from None


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _fmt(value: Any) -> str:
    """A value as the reports write it (floats to 4 significant digits)."""
    if isinstance(value, float):
        if value == 0:
            return "0"
        if 1e-4 <= abs(value) < 1e4:
            return f"{value:.4g}"
        return f"{value:.3e}" if abs(value) >= 1e9 or abs(value) < 1e-4 else f"{value:.0f}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(_fmt(v) for v in value[:8])
        return f"[{shown}{', …' if len(value) > 8 else ''}]"
    return "—" if value is None else str(value)


def _python_call(command: str) -> str | None:
    """`nnlab run EXP --preset P --set k=v` as `nnlab.run("EXP", preset="P", k=v)`; None for
    any other command."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if words[:2] != ["nnlab", "run"] or len(words) < 3 or words[2].startswith("-"):
        return None
    args = [repr(words[2])]
    rest = iter(words[3:])
    for word in rest:
        value = next(rest, None)
        if value is None:
            return None
        if word == "--preset":
            args.append(f"preset={value!r}")
        elif word == "--seed" and value.isdigit():
            args.append(f"seed={value}")
        elif word == "--set" and "=" in value:
            key, _, text = value.partition("=")
            if not key.isidentifier():
                return None
            args.append(f"{key}={_literal(text)}")
        else:
            return None
    return f"nnlab.run({', '.join(args)})"


def _literal(text: str) -> str:
    for kind in (int, float):
        try:
            kind(text)
        except ValueError:
            continue
        return text
    if text.lower() in ("true", "false"):
        return text.capitalize()
    return repr(text)


class Figure:
    """One figure of a run: its file (`path`, also usable where a path is: `open(fig, "rb")`),
    caption and what to look for in it; shown inline in Jupyter."""

    def __init__(self, path: Path, caption: str = "", look_for: str = "") -> None:
        self.path = Path(path)
        self.name = self.path.stem
        self.caption = caption
        self.look_for = look_for

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"Figure({str(self.path)!r})"

    def _repr_png_(self) -> bytes:
        return self.path.read_bytes()

    def _repr_html_(self) -> str:
        return _figure_html(self)


def _figure_html(fig: Figure) -> str:
    caption = html.escape(fig.caption or fig.name)
    look = f"<br><b>Look for:</b> {html.escape(fig.look_for)}" if fig.look_for else ""
    return (
        '<figure style="margin:0.6em 0">'
        f'<img src="{_data_uri(fig.path)}" alt="{html.escape(fig.name)}" '
        'style="max-width:100%;height:auto">'
        f'<figcaption style="font-size:90%">{caption}{look}</figcaption></figure>'
    )


class Result:
    """A run directory read back: what `nnlab.run` returns and `nnlab.load` reads.

    - `dir`: the run directory; `report`: its `report.html`
    - `experiment`, `preset`, `seed`, `state` (`completed`, `failed`, `running`)
    - `config`: the settings the run used (what `--set` and keywords change)
    - `summary`: `summary.json` (None until the run completes); `metrics`: `metrics.jsonl`
    - `figures`: `{name: path}` of its PNGs; `figure(name)` shows one inline
    - `headline`: `(metric, value)`; `reference`: the published number it is compared with
      (or None), `comparable`: whether this run measures what that number does
    - `teaching`: the experiment's question, answer, what to look for and what to try next
      (None where it has none); `question`, `answer`: its question, and the answer with this
      run's numbers in it
    - `info`: the `nnlab.runs.read.RunInfo` underneath (all of `config.json` and `status.json`)
    """

    def __init__(self, info: RunInfo) -> None:
        self.info = info
        self.dir: Path = info.run_dir
        self.report: Path = info.run_dir / "report.html"
        self.experiment: str = str(info.config.get("experiment") or info.run_dir.name)
        self.preset: str | None = info.config.get("preset")
        self.seed: int | None = info.config.get("seed")
        self.config: dict[str, Any] = dict(info.config.get("config") or {})
        self.summary: dict[str, Any] | None = info.summary
        self.metrics: list[dict[str, Any]] = info.metrics
        self.status: dict[str, Any] = info.status
        self.state: str = info.state
        self.reference: dict[str, Any] | None = info.reference
        self.comparable: bool = info.comparable
        self.teaching = _teaching(self.experiment)

    @property
    def headline(self) -> tuple[str | None, Any]:
        return self.info.headline_metric, self.info.headline_value

    @property
    def figures(self) -> dict[str, Path]:
        """`{name: path}` of the run's figures, in file-name order (the report's)."""
        folder = self.dir / "figures"
        return {p.stem: p for p in sorted(folder.glob("*.png"))} if folder.is_dir() else {}

    def figure(self, name: str) -> Figure:
        """The figure `name` (a key of `figures`), which Jupyter shows with its caption."""
        figures = self.figures
        if name not in figures:
            raise UserError(
                f"{self.experiment} run {self.dir} has no figure '{name}'; "
                f"it has: {', '.join(figures) or 'none'}"
            )
        captions = read_dict(self.dir / "figures" / "captions.json") or {}
        caption = captions.get(f"{name}.png") or captions.get(name) or ""
        look = self.teaching.figures.get(name, "") if self.teaching else ""
        return Figure(figures[name], str(caption), str(look))

    @property
    def question(self) -> str | None:
        return self.teaching.question if self.teaching else None

    @property
    def answer(self) -> str | None:
        return self.teaching.answer_for(self.summary) if self.teaching else None

    def _shown_figures(self) -> list[Figure]:
        """The figures the teaching text names (with what to look for), else the key one."""
        figures = self.figures
        names = [n for n in (self.teaching.figures if self.teaching else {}) if n in figures]
        if not names and self.info.key_figure is not None:
            names = [self.info.key_figure.stem]
        return [self.figure(n) for n in names]

    def __repr__(self) -> str:
        metric, value = self.headline
        shown = f"{metric} = {_fmt(value)}" if metric else self.state
        what = f"{self.experiment} ({self.preset}, seed {self.seed})"
        return f"<nnlab run {what}: {shown}; {self.dir}>"

    def _repr_html_(self) -> str:
        return _result_html(self)


def _teaching(experiment: str) -> Any:
    """The experiment's `Teaching`, or None (no teaching text, or no such experiment now)."""
    from nnlab.experiments import registry

    exp = registry().get(experiment)
    return getattr(exp, "teaching", None) if exp is not None else None


def _headline_html(r: Result) -> str:
    metric, value = r.headline
    if metric is None:
        return ""
    goal = "lower is better" if r.info.headline_mode == "min" else "higher is better"
    final = "" if r.info.headline_is_final else " (last logged; the run did not finish)"
    line = (
        f"<b>{html.escape(metric)}</b> = <b>{html.escape(_fmt(value))}</b>"
        f" <span style='color:#666'>({goal}){html.escape(final)}</span>"
    )
    ref = r.reference
    if ref is not None and r.comparable:
        delta = ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            diff = value - ref["value"]
            delta = f", {'+' if diff >= 0 else '−'}{_fmt(abs(diff))}"
        line += (
            f" beside the reference <b>{html.escape(_fmt(ref['value']))}</b>"
            f" ({html.escape(ref['source'])}{delta})"
        )
    elif ref is not None:
        was = f"this {r.preset} run" + (f" on {r.info.data}" if r.info.data else "")
        wants = f"the {ref['preset']} preset" + (f" on {ref['data']}" if ref["data"] else "")
        call = f'nnlab.run("{r.experiment}", preset="{ref["preset"]}"'
        if ref["data"] and r.info.data != ref["data"]:
            key = "corpus" if "corpus" in r.config else "dataset"
            call += f', {key}="{ref["data"]}"'
        line += (
            "<br><span style='color:#666'>No reference beside it: "
            f"{html.escape(was)} does not measure what the published number does; that is "
            f"for {html.escape(wants)} (<code>{html.escape(call + ')')}</code>).</span>"
        )
    return f"<p>{line}</p>"


def _table(rows: Mapping[str, Any]) -> str:
    cells = "".join(
        f"<tr><td style='text-align:left'><code>{html.escape(str(k))}</code></td>"
        f"<td style='text-align:left'>{html.escape(_fmt(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{cells}</table>"


def _result_html(r: Result) -> str:
    parts = [
        f"<h3 style='margin-top:0.3em'>{html.escape(r.experiment)} · {html.escape(str(r.preset))}"
        f" · seed {html.escape(str(r.seed))}</h3>"
    ]
    if r.state != "completed":
        error = r.status.get("error")
        parts.append(
            f"<p><b>{html.escape(r.state)}</b>"
            + (f": {html.escape(str(error))}" if error else "")
            + "</p>"
        )
    parts.append(_headline_html(r))
    t = r.teaching
    if t is not None:
        parts.append(f"<p><b>Question.</b> {html.escape(t.question)}</p>")
        parts.append(f"<p><b>Answer from this run.</b> {html.escape(r.answer or '')}</p>")
    else:
        description = r.info.config.get("description") or ""
        if description:
            parts.append(f"<p>{html.escape(str(description))}</p>")
    parts += [_figure_html(f) for f in r._shown_figures()]
    if t is not None and t.try_next:
        items = []
        for command, shows in t.try_next:
            call = _python_call(command)
            code = html.escape(call or command)
            items.append(f"<li><code>{code}</code>: {html.escape(shows)}</li>")
        parts.append(f"<p><b>Try next</b></p><ul>{''.join(items)}</ul>")
    scalars = {
        k: v
        for k, v in (r.summary or {}).items()
        if v is None or isinstance(v, (bool, int, float, str))
    }
    details = [
        ("summary", _table(scalars) if scalars else ""),
        ("settings", _table(r.config) if r.config else ""),
    ]
    for title, body in details:
        if body:
            parts.append(f"<details><summary>{title}</summary>{body}</details>")
    more = f"{len(r.figures)} figures and the full report"
    parts.append(
        f"<p style='color:#666;font-size:90%'>{html.escape(more)}: "
        f"<code>{html.escape(str(r.report))}</code></p>"
    )
    return "<div class='nnlab-result'>" + "".join(parts) + "</div>"
