"""Experiment registry: every module in this package that defines `EXPERIMENT` is registered.

An experiment module reads like a recipe: a `Config` dataclass (an `ExperimentConfig`),
`PRESETS` (overrides of the defaults for `smoke`, `quick` and `full`), and `run(cfg, run)`
returning the summary metrics. See `mlp_classifier.py`.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from nnlab.config import ExperimentConfig, build_config, parse_overrides
from nnlab.errors import ConfigError

PRESET_NAMES = ("smoke", "quick", "full")


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
    tour_mnist: dict[str, Any] | None = None
    """Overrides for `nnlab tour` when MNIST is present (None: `tour` is used either way)."""

    def __post_init__(self) -> None:
        missing = set(PRESET_NAMES) - set(self.presets)
        if missing:
            raise TypeError(f"experiment {self.name} lacks presets {sorted(missing)}")

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


def registry() -> dict[str, Experiment]:
    """Every registered experiment by name, in module order."""
    found: dict[str, Experiment] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        exp = getattr(module, "EXPERIMENT", None)
        if isinstance(exp, Experiment):
            found[exp.name] = exp
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
