"""The course, item by item: every question, problem and exercise of the seed documents
(`../shared/seeds/000`..`004`) in each document's own order and numbering, the command that
answers it, the document's own number, and nnlab's measured answer. `nnlab course [SEED]`.

The items are data (`seed000.py` .. `seed004.py`, one `Item` record each, gathered by
`catalog.py`); this module loads them, finds the runs that answer them and renders the text.
It is light: no PyTorch, no matplotlib.

Matching a run to an item: an item names an experiment and the settings that matter to its
question (`settings`, e.g. `{"dataset": "mnist"}`). The runs considered are the directories
`RUNS/<experiment>/*/` whose config.json names that experiment, whose status.json says
`"state": "completed"`, and whose settings (config.json's `config`) equal every one of the
item's settings. The preset is not part of the match (a smoke run answers too, and the answer
says which preset it came from; the document's number is for the `full` preset). Of those, the
latest wins: the newest `finished` time in status.json (else `created` in config.json), then
the directory name. Unreadable run directories are skipped. No matching run: "not run yet —
<command>".
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path
from typing import Any

from nnlab.errors import UserError
from nnlab.report.tables import fill

WIDTH = 100
LABEL = 12  # the width of the "command:" column

SEEDS: dict[str, str] = {
    "000": "COSC179 coding assignment III write-up: sparse autoencoder, nanoGPT, DDPM",
    "001": "AMTH/CPSC 663b Exercise II (Nielsen chapters 1-3, CNNs, autoencoders)",
    "002": "MLDS HW1 report (CPSC 8430): deep vs shallow, optimisation, generalisation",
    "003": "EEP 596 lecture 2: perceptrons and MLPs to autoencoders",
    "004": "CMU 16-720 homework 5: neural networks for recognition",
}
"""The seed documents by number, with a one-line title."""

RUN_KINDS = ("run", "partial", "download", "reasoned", "absent")
REASONED = "in words, not measured — "


@dataclasses.dataclass(frozen=True)
class Item:
    """One question, problem or exercise of a seed document.

    - `seed`, `number`, `title`: the document ("004"), its own number ("Q3.1"; "" where the
      document numbers nothing, e.g. a lecture topic) and a short title;
    - `written`: how the document writes it where that differs from `number` (its "Q.4" for
      Q4.4; a heading such as "Simulating a Function"), what the completeness test looks for;
    - `experiment`, `preset`, `settings`: the run that answers it (`settings` are passed as
      `--set` and a run must have them to count); `command` instead for a command that is not a
      run (`nnlab count-params`); `args`: more of the command that a run is not matched on
      (`--set root=DIR`: the user's own folder);
    - `answer`: a `str.format` template filled from the run's summary.json;
    - `document`: the document's own number or answer, where it states one;
    - `also`: further commands that show more of it;
    - `gap`: what nnlab does not show (the item is answered only partly);
    - `supply`: the data or weights to download or supply, and how (the run cannot go offline);
    - `reason`: why nnlab does not answer it at all (no experiment);
    - `reasoned`: the answer worked out in words, for what no run can measure (a quiz's
      definitions); shown marked as not measured, beside a run's answer where there is one.
    """

    seed: str
    number: str
    title: str
    experiment: str = ""
    preset: str = "quick"
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    answer: str = ""
    document: str = ""
    args: str = ""
    command: str = ""
    also: tuple[str, ...] = ()
    gap: str = ""
    supply: str = ""
    reason: str = ""
    written: str = ""
    reasoned: str = ""

    def __post_init__(self) -> None:
        if self.seed not in SEEDS:
            raise ValueError(f"item {self.number}: unknown seed {self.seed!r}")
        if self.experiment and self.reason:
            raise ValueError(f"item {self.seed} {self.number}: an experiment and a reason")
        if not (self.experiment or self.command or self.reason or self.reasoned):
            raise ValueError(f"item {self.seed} {self.number}: no experiment, command or reason")
        if self.reason and self.reasoned:
            raise ValueError(f"item {self.seed} {self.number}: a reason and a reasoned answer")
        if self.experiment and not self.answer:
            raise ValueError(f"item {self.seed} {self.number}: an experiment needs an answer")

    @property
    def label(self) -> str:
        """How the document writes the item (its number, or its heading)."""
        return self.written or self.number

    @property
    def kind(self) -> str:
        """run (answered by a run), partial, download (needs data or weights), reasoned
        (answered in words, no run), absent."""
        if self.reason:
            return "absent"
        if self.reasoned and not (self.experiment or self.command):
            return "reasoned"
        if self.supply:
            return "download"
        return "partial" if self.gap else "run"

    @property
    def run_command(self) -> str:
        """The command that answers it: `nnlab run EXP --preset P --set k=v ...`."""
        if not self.experiment:
            return self.command
        sets = " ".join(f"--set {k}={_setting_text(v)}" for k, v in self.settings.items())
        parts = ["nnlab run", self.experiment, f"--preset {self.preset}", sets, self.args]
        return " ".join(p for p in parts if p)


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_setting_text(v) for v in value)
    return str(value)


def items(seed: str | None = None) -> list[Item]:
    """The items of one seed ("000".."004") or of all, each document in its own order."""
    from nnlab.course.catalog import ITEMS

    if seed is not None and seed not in SEEDS:
        raise UserError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
    return [it for it in ITEMS if seed is None or it.seed == seed]


# ---- runs -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Found:
    """A completed run that answers an item."""

    run_dir: Path
    preset: str
    summary: dict[str, Any]


def _normal(value: Any) -> Any:
    """JSON's view of a value (tuples are lists), for comparing settings with config.json."""
    return json.loads(json.dumps(value))


def _runs_of(experiment: str, runs_dir: Path) -> list[tuple[tuple[str, str], Any]]:
    from nnlab.runs.read import read_run

    out = []
    root = runs_dir / experiment
    if not root.is_dir():
        return out
    for run_dir in root.iterdir():
        try:
            if not (run_dir / "config.json").is_file():
                continue
            run = read_run(run_dir, metrics=False)
        except (UserError, OSError, ValueError):
            continue  # unreadable: not an answer
        finished = run.status.get("finished") or run.config.get("created") or ""
        out.append(((str(finished), run_dir.name), run))
    return out


def latest_run(item: Item, runs_dir: Path, read: dict | None = None) -> Found | None:
    """The latest completed run of the item's experiment with the item's settings (the rule is
    in the module docstring); None if there is none. `read`: runs already read, by experiment
    (one rendering reads each experiment's runs once)."""
    if not item.experiment:
        return None
    read = {} if read is None else read
    if item.experiment not in read:
        read[item.experiment] = _runs_of(item.experiment, runs_dir)
    wanted = _normal(item.settings)
    best = None
    for key, run in read[item.experiment]:
        settings = run.config.get("config")
        if (
            run.config.get("experiment") != item.experiment
            or run.status.get("state") != "completed"
            or not isinstance(run.summary, dict)
            or not isinstance(settings, dict)
            or any(settings.get(k, _MISSING) != v for k, v in wanted.items())
        ):
            continue
        if best is None or key > best[0]:
            best = (key, run)
    if best is None:
        return None
    run = best[1]
    return Found(run.run_dir, str(run.config.get("preset", "?")), run.summary)


_MISSING = object()


def answer_for(item: Item, summary: dict[str, Any]) -> str:
    """The item's answer template filled from a run's summary ("?" where a value is missing)."""
    return fill(item.answer, summary)


# ---- text -------------------------------------------------------------------------------


def _field(label: str, text: str) -> list[str]:
    head = f"    {label + ':':<{LABEL}}"
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_on_hyphens=False,
        break_long_words=True,
    ) or [head.rstrip()]


def render_item(item: Item, runs_dir: Path, read: dict | None = None) -> list[str]:
    """The lines of one item: title, command, the document's number, nnlab's answer."""
    number = item.number or "·"
    lines = textwrap.wrap(
        f"{number:<7} {item.title}", WIDTH, subsequent_indent=" " * 8, break_on_hyphens=False
    )
    if item.kind == "absent":
        lines += _field("command", "none")
        if item.document:
            lines += _field("document", item.document)
        lines += _field("nnlab", f"not answered — {item.reason}")
        return lines
    if item.kind == "reasoned":
        lines += _field("command", "none")
        if item.document:
            lines += _field("document", item.document)
        lines += _field("answer", REASONED + item.reasoned)
        return lines
    lines += _field("command", item.run_command)
    for extra in item.also:
        lines += _field("also", extra)
    if item.document:
        lines += _field("document", item.document)
    found = latest_run(item, runs_dir, read)
    if found is not None:
        where = f"({found.preset} run {found.run_dir.name})"
        lines += _field("nnlab", f"{answer_for(item, found.summary)} {where}")
    elif item.experiment:
        lines += _field("nnlab", f"not run yet — {item.run_command}")
    else:
        lines += _field("nnlab", "a command to try, not a run: nothing under runs/ to read")
    if item.reasoned:
        lines += _field("answer", REASONED + item.reasoned)
    if item.supply:
        lines += _field("needs", item.supply)
    if item.gap:
        lines += _field("gap", item.gap)
    return lines


def render(seed: str | None, runs_dir: Path) -> str:
    """The course text of one seed or of all five."""
    seeds = [seed] if seed is not None else list(SEEDS)
    out: list[str] = []
    read: dict = {}
    for s in seeds:
        its = items(s)
        counts = {k: sum(it.kind == k for it in its) for k in RUN_KINDS}
        answered = sum(latest_run(it, runs_dir, read) is not None for it in its)
        out += textwrap.wrap(f"seed {s} — {SEEDS[s]}", WIDTH)
        out += textwrap.wrap(
            f"{len(its)} items: {counts['run']} answered by a run, {counts['partial']} partly, "
            f"{counts['download']} need data or weights to download, {counts['reasoned']} "
            f"answered in words, {counts['absent']} not answered; {answered} with a completed "
            f"run under {runs_dir}",
            WIDTH,
        )
        out.append("=" * min(WIDTH, 100))
        for it in its:
            out += render_item(it, runs_dir, read)
            out.append("")
    return "\n".join(out).rstrip() + "\n"
