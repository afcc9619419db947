"""Every setting of every experiment, fed extreme and malformed values (Hypothesis).

Validation must either reject a value before any work starts -- a one-line ConfigError that
names the setting, which the CLI prints with exit code 2 -- or accept a value the experiment
can run with. The second half is checked by running the smoke preset on a seeded sample of
accepted extremes (each range's ends): the run completes, stops with a one-line UserError,
or is still working cleanly when its time is up; it never raises anything else.
"""

from __future__ import annotations

import dataclasses
import math
import random
import signal
import typing
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnlab.config import parse_overrides
from nnlab.errors import ConfigError
from nnlab.experiments import registry

EXPERIMENTS = registry()
FIELDS = [
    (name, f, typing.get_type_hints(exp.config)[f.name])
    for name, exp in EXPERIMENTS.items()
    for f in dataclasses.fields(exp.config)
]
MALFORMED = ["", " ", "nan", "-inf", "inf", "1e400", "0x10", "1,,2", "None", "[]", "=", "é", "½"]
HUGE = [10**20, -(10**20), 2**63, 2**31, -1, 0, 1]
CHECKED = {"cases": 0, "rejected": 0}


def _numbers(f: dataclasses.Field, tp: Any) -> st.SearchStrategy:
    low, high = f.metadata.get("low"), f.metadata.get("high")
    ends = [v for v in (low, high) if v is not None]
    near = [v + d for v in ends for d in (-1, 0, 1)] + [v * 10 for v in ends]
    if tp is int:
        return st.integers(-(10**25), 10**25) | st.sampled_from(HUGE + [int(v) for v in near])
    return st.floats() | st.sampled_from([1e-300, 1e300, -0.0, *map(float, HUGE + near)])


def raw_values(f: dataclasses.Field, tp: Any) -> st.SearchStrategy[str]:
    junk = st.sampled_from(MALFORMED) | st.text(max_size=8)
    if get_origin(tp) is Literal:
        return st.sampled_from([str(c) for c in get_args(tp)]) | junk
    if get_origin(tp) is tuple:
        item = get_args(tp)[0]
        items = _numbers(f, item) if item in (int, float) else st.text(max_size=6)
        return st.lists(items.map(str), max_size=5).map(",".join) | junk
    if tp in (int, float):
        return _numbers(f, tp).map(repr) | junk
    if tp is bool:
        return st.sampled_from(["true", "false", "yes", "off", "2"]) | junk
    return st.text(max_size=16) | junk


def _in_range(f: dataclasses.Field, value: Any) -> bool:
    low, high = f.metadata.get("low"), f.metadata.get("high")
    values = value if isinstance(value, tuple) else (value,)
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return all(
        (low is None or v >= low) and (high is None or v <= high) and math.isfinite(v)
        for v in numbers
    )


@settings(
    max_examples=4000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_validation_rejects_in_one_line_or_accepts_a_value_in_range(data):
    name, f, tp = data.draw(st.sampled_from(FIELDS), label="setting")
    raw = data.draw(raw_values(f, tp), label="value")
    CHECKED["cases"] += 1
    try:
        cfg = EXPERIMENTS[name].make_config("smoke", parse_overrides([f"{f.name}={raw}"]))
    except ConfigError as exc:
        CHECKED["rejected"] += 1
        message = str(exc)
        assert "\n" not in message and f.name in message, message
        return
    assert _in_range(f, getattr(cfg, f.name)), f"{name}: {f.name}={raw!r} accepted out of range"


def test_every_integer_setting_has_a_declared_range():
    unbounded = [
        f"{name}.{f.name}"
        for name, f, tp in FIELDS
        if (tp is int or tp == tuple[int, ...])
        and (f.metadata.get("low") is None or f.metadata.get("high") is None)
    ]
    assert not unbounded, f"integer settings without low/high: {unbounded}"


def _extremes() -> list[tuple[str, str, str]]:
    """(experiment, setting, value): the ends of every declared numeric range."""
    cases = []
    for name, f, tp in FIELDS:
        item = get_args(tp)[0] if get_origin(tp) is tuple else tp
        if item not in (int, float) or isinstance(f.default, bool):
            continue
        for end in (f.metadata.get("low"), f.metadata.get("high")):
            if end is None or (end == f.metadata.get("low") and f.metadata.get("low_open")):
                continue
            value = int(end) if item is int else float(end)
            cases.append((name, f.name, str(value)))
    return cases


# the case that once ended in a traceback, then a seeded sample of the other ends
REPORTED = [("mlp-classifier", "batch_size", "1000000")]
RUNS = REPORTED + random.Random(0).sample(_extremes(), k=min(13, len(_extremes())))
SECONDS = 10  # of each run: bad settings fail while the run is built, long before this


class _TimeUp(BaseException):
    """Raised by the alarm: the run was still working cleanly when its time was up."""


@pytest.mark.slow
@pytest.mark.parametrize(("name", "key", "value"), RUNS)
def test_accepted_extremes_run(name, key, value, tmp_path, capsys):
    from nnlab.cli import main

    try:
        EXPERIMENTS[name].make_config("smoke", {key: value})
    except ConfigError:
        pytest.skip(f"{key}={value} is rejected with the smoke preset's other settings")

    def time_up(*_):
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, time_up)
    signal.alarm(SECONDS)
    try:
        code = main(
            [
                "run",
                name,
                "--preset",
                "smoke",
                "--quiet",
                "--set",
                f"{key}={value}",
                "--out",
                str(tmp_path),
            ]
        )
    except _TimeUp:
        code = None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert code in (0, 2, None), err
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("nnlab: error: "), err


def test_zz_report_how_many_cases_ran():
    print(f"settings fuzz: {CHECKED['cases']} cases, {CHECKED['rejected']} rejected")
    assert CHECKED["cases"] == 0 or CHECKED["cases"] >= 1000
