"""Every setting of every experiment, fed extreme and malformed values (Hypothesis).

Validation must either reject a value before any work starts -- a one-line ConfigError that
names the setting, which the CLI prints with exit code 2 -- or accept a value the experiment
can run with. The second half is checked by running the smoke preset on a seeded sample of
accepted extremes (each range's ends, one per experiment, among the ends that keep a smoke
run small): every one must run to completion (exit 0).
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
EXAMPLES = 4000


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
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def _one_setting(data):
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


def test_validation_rejects_in_one_line_or_accepts_a_value_in_range():
    CHECKED.update(cases=0, rejected=0)
    _one_setting()  # Hypothesis draws the examples; each asserts on its own
    print(f"settings fuzz: {CHECKED['cases']} cases, {CHECKED['rejected']} rejected")
    # it ran (nearly) all its examples, and they reached both outcomes
    assert CHECKED["cases"] >= EXAMPLES // 2
    assert 0 < CHECKED["rejected"] < CHECKED["cases"]


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


def _accepted(name: str, key: str, value: str) -> bool:
    try:
        EXPERIMENTS[name].make_config("smoke", {key: value})
    except ConfigError:
        return False
    return True


def _small(name: str, key: str, value: str) -> bool:
    """Whether a smoke run stays about as small with `key=value`: an integer setting at most
    4x (or 8 above) the smoke preset's value, a batch size at least a quarter of it (larger
    batches mean fewer steps); floats, choices and zeros ("all") count as small."""
    default = getattr(EXPERIMENTS[name].make_config("smoke", {}), key)
    if isinstance(default, tuple):
        default = max(default, default=1)
    if isinstance(default, bool) or not isinstance(default, int) or float(value) == 0:
        return True
    if "batch" in key:
        return float(value) >= default / 4
    return float(value) <= max(4 * default, default + 8)


# Smoke runs of these take a minute or more even on one thread; they are not sampled.
SLOW_SMOKES = {"ddpm", "deep-ae-vs-pca", "pca-vs-linear-ae", "regularization", "corruption-2d"}
# the cases that once ended in a traceback, then a seeded sample of small accepted ends, one
# per experiment
REPORTED = [("mlp-classifier", "batch_size", "1000000"), ("mlp-autoencoder", "latent", "1")]
SAMPLED = 10


def _sample() -> list[tuple[str, str, str]]:
    ends = [c for c in _extremes() if c[0] not in SLOW_SMOKES and _accepted(*c) and _small(*c)]
    picked, seen = [], {name for name, _, _ in REPORTED}
    for case in random.Random(0).sample(ends, k=len(ends)):
        if case[0] not in seen and len(picked) < SAMPLED:
            seen.add(case[0])
            picked.append(case)
    return picked


RUNS = REPORTED + _sample()
SECONDS = 120  # a hang guard for each run (they take 1-10 s); reaching it fails the case


class _TimeUp(BaseException):
    """Raised by the alarm: the run had not finished when its time was up."""


def test_the_sample_of_extremes_is_accepted_and_not_empty():
    assert len(RUNS) == len(REPORTED) + SAMPLED
    assert len({name for name, _, _ in RUNS}) == len(RUNS)  # one per experiment
    assert all(_accepted(*case) for case in RUNS)  # none can be skipped as rejected


@pytest.mark.slow
@pytest.mark.parametrize(("name", "key", "value"), RUNS)
def test_accepted_extremes_run_to_completion(name, key, value, tmp_path, capsys, one_torch_thread):
    from nnlab.cli import main

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
        pytest.fail(f"{name} --set {key}={value}: still running after {SECONDS} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert code == 0, err
    assert list(tmp_path.glob(f"{name}/*/summary.json")), "no summary.json written"
