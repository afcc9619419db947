"""Experiment configs: plain dataclasses whose fields are validated on construction.

A field's type says how a `--set key=value` string is parsed; `param()` adds the allowed
range or a help text. Supported types: bool, int, float, str, Literal[...], tuple[int, ...],
tuple[float, ...] and tuple[str, ...] (written `key=a,b,c` on the command line).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import sys
import typing
from collections.abc import Sequence
from typing import Any, Literal, get_args, get_origin

from nnlab.errors import ConfigError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def param(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    help: str = "",
) -> Any:
    """A config field with an allowed range [low, high] (or (low, high] with `low_open`)."""
    meta = {"low": low, "high": high, "low_open": low_open, "help": help}
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass
class ExperimentConfig:
    """Base class: subclasses are dataclasses whose fields are checked when constructed."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _coerce(f.name, _field_types(type(self))[f.name], getattr(self, f.name))
            object.__setattr__(self, f.name, value)
            _check_range(f, value)
        self.check()

    def check(self) -> None:
        """Cross-field constraints; raise ConfigError. Override when needed."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


def check_choices(name: str, chosen: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """ConfigError unless setting `name` lists one or more different names from `allowed`."""
    if not chosen or any(c not in allowed for c in chosen) or len(set(chosen)) != len(chosen):
        raise ConfigError(
            f"setting '{name}' must list different names among {', '.join(allowed)}; "
            f"got {','.join(chosen) or 'nothing'}"
        )


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def describe_type(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(tp))
    if get_origin(tp) is tuple:
        return f"a comma-separated list of {get_args(tp)[0].__name__}"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        tp, str(tp)
    )


def _bad(name: str, tp: Any, value: Any) -> ConfigError:
    return ConfigError(f"setting '{name}' must be {describe_type(tp)}; got {value!r}")


def _coerce(name: str, tp: Any, value: Any) -> Any:
    """Turn a string (from --set) or JSON value (from config.json) into the field's type."""
    if get_origin(tp) is Literal:
        choices = get_args(tp)
        for choice in choices:
            if value == choice or (isinstance(value, str) and str(choice) == value):
                return choice
        raise _bad(name, tp, value)
    if get_origin(tp) is tuple:
        item_tp = get_args(tp)[0]
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise _bad(name, tp, value)
        try:
            return tuple(_coerce(name, item_tp, v) for v in value)
        except ConfigError:
            raise _bad(name, tp, value) from None
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise _bad(name, tp, value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise _bad(name, tp, value)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        elif isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise _bad(name, tp, value) from None
        else:
            raise _bad(name, tp, value)
        if not math.isfinite(value):
            raise ConfigError(f"setting '{name}' must be a finite number; got {value!r}")
        return value
    if tp is str:
        if isinstance(value, str):
            return value
        raise _bad(name, tp, value)
    raise TypeError(f"config field '{name}' has unsupported type {tp!r}")


def _check_range(f: dataclasses.Field, value: Any) -> None:
    low, high = f.metadata.get("low"), f.metadata.get("high")
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if not isinstance(v, (int, float)):
            continue
        too_low = low is not None and (v <= low if f.metadata.get("low_open") else v < low)
        too_high = high is not None and v > high
        if too_low or too_high:
            left = "(" if f.metadata.get("low_open") else "["
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf" if high is None else f"{high:g}"
            raise ConfigError(f"setting '{f.name}' must be in {left}{lo}, {hi}]; got {v!r}")


def check_bounds(cls: type[ExperimentConfig], values: dict[str, Any], source: str) -> None:
    """Check `values` (e.g. architecture settings read from a checkpoint) against the bounds
    that `cls`'s fields declare; ConfigError naming `source`. Keys `cls` lacks are skipped."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in values.items():
        if key in fields:
            try:
                _check_range(fields[key], value)
            except ConfigError as exc:
                raise ConfigError(f"{source}: {exc}") from None


def field_help(cls: type[ExperimentConfig]) -> list[tuple[str, str, Any, str]]:
    """(name, type description, default, help) for every field, for `--help` style listings."""
    types = _field_types(cls)
    rows = []
    for f in dataclasses.fields(cls):
        rows.append((f.name, describe_type(types[f.name]), f.default, f.metadata.get("help", "")))
    return rows


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """`["lr=0.1", "hidden=256,128"]` → `{"lr": "0.1", "hidden": "256,128"}`."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


RENAMED: dict[str, str] = {
    "max_iters": "steps",
    "iterations": "steps",
    "lbfgs_iterations": "lbfgs_steps",
    "gradient_iterations": "gradient_steps",
    "warmup_iters": "warmup_steps",
    "decay_iters": "decay_steps",
    "eval_interval": "eval_every",
    "eval_iters": "eval_batches",
    "max_epochs": "epochs",
    "trial_epochs": "epochs",
    "train_size": "train_subset",
    "blas_threads": "threads",
    "batchnorm": "batch_norm",
    "alpha_min": "alpha_low",
    "alpha_max": "alpha_high",
}
"""Old setting names and the one name each now has (SETTINGS.md): an old name in `--set`,
`--config`, `nnlab.run(...)` or an old run's config.json still works, with a one-line note."""


def current_names(settings: dict[str, Any], names: Sequence[str] = ()) -> dict[str, Any]:
    """`settings` with old names (`RENAMED`) replaced by the current ones, silently; with
    `names`, only where the current name is one of them."""
    return {
        RENAMED[k] if k in RENAMED and (not names or RENAMED[k] in names) else k: v
        for k, v in settings.items()
    }


def build_config(
    cls: type[ExperimentConfig], *layers: dict[str, Any], experiment: str = ""
) -> ExperimentConfig:
    """Defaults of `cls`, updated by each layer of overrides in turn, then validated."""
    names = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key not in names and RENAMED.get(key) in names:
                print(
                    f"note: setting '{key}' is now called '{RENAMED[key]}' (src/nnlab/SETTINGS.md)",
                    file=sys.stderr,
                )
                key = RENAMED[key]
            if key not in names:
                near = difflib.get_close_matches(key, names, n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                where = f" for {experiment}" if experiment else ""
                raise ConfigError(
                    f"unknown setting '{key}'{where}{hint}; valid keys: {', '.join(names)}"
                )
            values[key] = value
    return cls(**values)


def settings_for(cls: type, source: Any, **values: Any) -> Any:
    """An instance of dataclass `cls` whose fields take `source`'s values of the same name
    (settings share their names with the library's dataclasses), then `values`."""
    names = [f.name for f in dataclasses.fields(cls)]
    return cls(**{n: getattr(source, n) for n in names if hasattr(source, n)} | values)


# ------------------------------------------------------------------ named choices
# Each is a `Literal` type for a config field (`optimizer: Optimizer = "adamw"`: `--set` checks
# the value and `nnlab describe` lists the choices) and a tuple of the names for the library
# (`OPTIMIZERS`), which implements them.

Optimizer = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
"""`nnlab.training.optim.make_optimizer`: momentum and nesterov are SGD with momentum 0.9."""

Schedule = Literal["constant", "onecycle", "cosine"]
"""`nnlab.training.optim.make_schedule`, stepped once per batch."""

Activation = Literal["relu", "gelu", "tanh", "sigmoid", "leaky_relu"]
"""`nnlab.models.mlp.activation`."""

Sampler = Literal["grid", "random", "tpe"]
"""`nnlab.training.hpo.make_sampler`: Optuna's grid, random and TPE (Bayesian) samplers."""

Pretrained = Literal["resnet18", "squeezenet1_1"]
"""ImageNet torchvision models whose classifier `nnlab.models.pretrained` can replace."""

OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
SAMPLERS: tuple[str, ...] = get_args(Sampler)
PRETRAINED: tuple[str, ...] = get_args(Pretrained)
