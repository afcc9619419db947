"""The course: one subpackage per chapter, in `CHAPTERS` order, one recipe module per experiment
(each chapter's `ORDER` lists them in teaching order); the registry finds them there.

An experiment module reads like a recipe: a `Config` dataclass (an `ExperimentConfig`),
`PRESETS` (overrides of the defaults for `smoke`, `quick` and `full`), and `run(cfg, run)`
returning the summary metrics. It ends with one line,

    EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)

which joins that code to what the course says about the experiment, read from its sidecar
`<module>.toml` beside it: every other `Experiment` field (the registry sets `chapter`), in
field order with the tables last, fields at their default left out. From
`training/mlp_classifier.toml`, shortened:

    name = "mlp-classifier"
    description = "PyTorch MLP classifier with curves, confusion matrix and confused pairs"
    reproduces = "Fashion-MNIST benchmark MLPs (Xiao et al. 2017); seed 001 Problem 4"
    headline = "test_accuracy"
    data_parallel = true

    [tour]                      # tour, tour_mnist: settings as for --set; an array is the
    dataset = "digits"          # tuple a setting holds (hidden = [64, 32, 16])

    [teaching]                  # a Teaching: question, answer (a str.format template)
    question = "Seed 001 Problem 4 ...: how well does a plain fully-connected network ...?"
    answer = "A {parameters:,}-parameter MLP ... gets {test_accuracy:.1%} of the test images right"

    [teaching.figures]          # figure name (as given to run.figure) -> what to look for
    learning_curves = "Training and test loss per epoch: a widening gap is over-fitting."

    [[teaching.try_next]]       # one table per command to try next
    command = "nnlab run mlp-classifier --set dropout=0.5"
    shows = "dropout narrows the train-test gap"

Prose longer than a line is a TOML multi-line basic string, wrapped at spaces: each line but
the last ends in a backslash, which joins it to the next. A `[reference]` table (after
`[tour_mnist]`, before `[teaching]`) holds a `Reference`'s `value`, `source`, `data` and
`preset`: see `engine/numpy_classifier.toml`.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the same parser, before it joined the standard library
    import tomli as tomllib

from nnlab.config import ExperimentConfig, build_config, parse_overrides
from nnlab.errors import ConfigError

PRESET_NAMES = ("smoke", "quick", "full")

CHAPTERS = (
    "neurons",
    "training",
    "engine",
    "convnets",
    "autoencoders",
    "mlds",
    "sequences",
    "diffusion",
    "applications",
)
"""The chapters' subpackages in the order the course teaches them."""


@dataclasses.dataclass(frozen=True)
class Reference:
    """The published number an experiment's headline metric is compared with, in the metric's
    own unit (a fraction stays a fraction: 0.774, not 77.4), and where it comes from:
    `Reference(0.774, "64-unit network in the course (seed 004 Q3)")`. It describes the `full`
    preset, the seed's configuration; smaller presets are not expected to reach it."""

    value: float
    source: str
    data: str | None = None
    """The data set (or corpus) the reference was measured on; a run on other data is not
    compared with it (None: any)."""
    preset: str = "full"
    """The preset that reproduces the reference's configuration."""

    def comparable(self, settings: dict[str, Any], preset: str | None) -> bool:
        """Whether a run with these settings and preset measures what the reference does."""
        data = settings.get("dataset", settings.get("corpus"))
        return preset == self.preset and (self.data is None or data == self.data)

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise TypeError(f"Reference value must be a number, got {self.value!r}")
        if not isinstance(self.source, str) or not self.source.strip():
            raise TypeError("Reference source must name where the number comes from")


@dataclasses.dataclass(frozen=True)
class Teaching:
    """What a learner reads first in a run's report (and in the atlas, `nnlab describe`):

    - `question`: the question the experiment answers, with its seed reference;
    - `answer`: the answer as a `str.format` template filled from the run's own summary, so
      it is true for every run: `"{test_accuracy:.1%} of test digits are right"`;
    - `figures`: figure name (as given to `run.figure`) -> what to look for in it;
    - `try_next`: two or three (command, what it shows) pairs.
    """

    question: str
    answer: str
    figures: dict[str, str] = dataclasses.field(default_factory=dict)
    try_next: tuple[tuple[str, str], ...] = ()

    def answer_for(self, summary: dict[str, Any] | None) -> str:
        """The answer with the summary's numbers in it ("?" where a value is missing or does
        not fit its format, e.g. a failed run)."""
        from nnlab.report.tables import fill

        return fill(self.answer, summary or {})


@dataclasses.dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    reproduces: str
    config: type[ExperimentConfig]
    presets: dict[str, dict[str, Any]]
    run: Callable[..., dict[str, Any]]
    headline: str
    mode: str = "max"
    tour: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Overrides that make the quick preset run on embedded data, for `nnlab tour`."""
    uses_torch: bool = True
    """False for experiments on the NumPy engine alone: their runs never import PyTorch."""
    tour_mnist: dict[str, Any] | None = None
    """Overrides for `nnlab tour` when the shared data they train on is present: MNIST, or
    Tiny Shakespeare for the character models (None: `tour` is used either way)."""
    reference: Reference | None = None
    """The number the headline reproduces, shown beside it in reports and the atlas."""
    key_figure: str | None = None
    """Name of the figure (as passed to `run.figure`) that stands for the experiment in the
    atlas; None: its first figure in file-name order (the first one its report shows)."""
    teaching: Teaching | None = None
    """The question, the answer from the run's summary, what to look for, what to try next."""
    chapter: str = ""
    """The chapter's subpackage (set by the registry from where the module lives)."""
    data_parallel: bool = False
    """True when `run` trains through `nnlab.training.distributed.world()` (shards each global
    batch,
    wraps its model, averages its metrics), so it can run on several processes under torchrun;
    others refuse to, rather than repeat the whole run in every process."""

    def __post_init__(self) -> None:
        if self.reference is not None and not isinstance(self.reference, Reference):
            raise TypeError(f"experiment {self.name}: reference must be a Reference(value, source)")
        if self.key_figure is not None and (
            not isinstance(self.key_figure, str) or not self.key_figure or "/" in self.key_figure
        ):
            raise TypeError(
                f"experiment {self.name}: key_figure must be a figure name as given to "
                "run.figure, such as 'confusion_matrix'"
            )
        if self.data_parallel and not self.uses_torch:
            raise TypeError(f"experiment {self.name}: data_parallel training needs uses_torch")
        missing = set(PRESET_NAMES) - set(self.presets)
        if missing:
            raise TypeError(f"experiment {self.name} lacks presets {sorted(missing)}")

    @classmethod
    def load(
        cls,
        module: str,
        *,
        config: type[ExperimentConfig],
        presets: dict[str, dict[str, Any]],
        run: Callable[..., dict[str, Any]],
    ) -> Experiment:
        """The experiment of recipe module `module` (its `__name__`): its code given here, what
        the course says about it read from its sidecar, `<module>.toml` beside it (every other
        field but `chapter`, which the registry sets)."""
        path = Path(sys.modules[module].__file__).with_suffix(".toml")
        try:
            with path.open("rb") as file:
                data = tomllib.load(file)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        try:
            return cls(**_declared(data), config=config, presets=presets, run=run)
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def answers_seed(self, seed: str) -> bool:
        """Whether `reproduces` names seed document `seed` ("004"; "seeds 001 and 004" too)."""
        import re

        return bool(re.search(rf"\bseeds? (?:[0-9, and]*\b)?{seed}\b", self.reproduces))

    def record(self) -> dict[str, Any]:
        """Every field of the declaration as JSON values (`nnlab list --json`)."""
        presets = {
            name: {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()}
            for name, overrides in self.presets.items()
        }
        ref, teaching = self.reference, self.teaching
        return {
            "name": self.name,
            "chapter": self.chapter,
            "chapter_title": chapter_title(self.chapter) if self.chapter else "",
            "description": self.description,
            "reproduces": self.reproduces,
            "presets": presets,
            "headline": {"metric": self.headline, "mode": self.mode},
            "reference": None if ref is None else dataclasses.asdict(ref),
            "key_figure": self.key_figure,
            "uses_torch": self.uses_torch,
            "data_parallel": self.data_parallel,
            "teaching": None if teaching is None else dataclasses.asdict(teaching),
        }

    def make_config(
        self,
        preset: str = "quick",
        overrides: list[str] | dict | None = None,
    ) -> ExperimentConfig:
        """The preset's config with `--set` overrides applied and validated."""
        if preset not in self.presets:
            raise ConfigError(f"unknown preset '{preset}'; choose one of {', '.join(PRESET_NAMES)}")
        pairs = overrides if isinstance(overrides, dict) else parse_overrides(overrides or [])
        return build_config(self.config, self.presets[preset], pairs, experiment=self.name)


SIDECAR_KEYS = tuple(
    f.name
    for f in dataclasses.fields(Experiment)
    if f.name not in ("config", "presets", "run", "chapter")
)
"""The fields of an `Experiment` its sidecar declares, in the file's order (tables last)."""

TRY_NEXT_KEYS = ("command", "shows")


def _table(data: Any, where: str, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """`data` checked to be a table (of some of `keys` only, unless None)."""
    if not isinstance(data, dict):
        raise TypeError(f"{where or 'the file'} must be a table, got {data!r}")
    unknown = [k for k in data if keys is not None and k not in keys]
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise TypeError(f"unknown key '{key}'; {where or 'the file'} may hold {', '.join(keys)}")
    return data


def _tuples(value: Any) -> Any:
    """TOML arrays as the tuples a declaration holds (`hidden = [64, 32]` -> (64, 32))."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _declared(data: dict[str, Any]) -> dict[str, Any]:
    """A sidecar's tables as the values of `Experiment`'s fields."""
    out = dict(_table(data, "", SIDECAR_KEYS))
    for key in ("tour", "tour_mnist"):
        if key in out:
            out[key] = {k: _tuples(v) for k, v in _table(out[key], key).items()}
    if "reference" in out:
        keys = tuple(f.name for f in dataclasses.fields(Reference))
        out["reference"] = Reference(**_table(out["reference"], "reference", keys))
    if "teaching" in out:
        keys = tuple(f.name for f in dataclasses.fields(Teaching))
        teaching = dict(_table(out["teaching"], "teaching", keys))
        pairs = [
            _table(p, "teaching.try_next", TRY_NEXT_KEYS) for p in teaching.get("try_next", ())
        ]
        if any(len(p) != len(TRY_NEXT_KEYS) for p in pairs):
            raise TypeError(f"each [[teaching.try_next]] needs {' and '.join(TRY_NEXT_KEYS)}")
        teaching["try_next"] = tuple(tuple(p[k] for k in TRY_NEXT_KEYS) for p in pairs)
        out["teaching"] = Teaching(**teaching)
    return out


def chapter_modules() -> list[tuple[str, str]]:
    """(chapter, module path) of every experiment module, in course order."""
    out = []
    for chapter in CHAPTERS:
        package = importlib.import_module(f"{__name__}.{chapter}")
        out += [(chapter, f"{package.__name__}.{m}") for m in package.ORDER]
    return out


def chapter_title(chapter: str) -> str:
    return importlib.import_module(f"{__name__}.{chapter}").TITLE


def registry() -> dict[str, Experiment]:
    """Every registered experiment by name, in course order (chapter by chapter)."""
    found: dict[str, Experiment] = {}
    for chapter, path in chapter_modules():
        exp = getattr(importlib.import_module(path), "EXPERIMENT", None)
        if isinstance(exp, Experiment):
            found[exp.name] = dataclasses.replace(exp, chapter=chapter)
    return found


def get(name: str) -> Experiment:
    experiments = registry()
    if name not in experiments:
        near = difflib.get_close_matches(name, experiments, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ConfigError(
            f"unknown experiment '{name}'{hint}; `nnlab list` shows all: {', '.join(experiments)}"
        )
    return experiments[name]


def by_chapter() -> dict[str, list[str]]:
    """Experiment names grouped by chapter, `{chapter title: [names]}`, in course order."""
    grouped: dict[str, list[str]] = {chapter_title(c): [] for c in CHAPTERS}
    for exp in registry().values():
        grouped[chapter_title(exp.chapter)].append(exp.name)
    return grouped


class _Package(types.ModuleType):
    """This package, callable: `nnlab.experiments()` is `by_chapter()` (the notebook API's
    listing; a function of that name in `nnlab` would be shadowed by this package)."""

    def __call__(self) -> dict[str, list[str]]:
        return by_chapter()


sys.modules[__name__].__class__ = _Package
