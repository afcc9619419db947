"""Side-by-side timing for the benchmarks: each case runs in turn within every round, so slow
spells of a shared machine fall on all of them alike; ratios are taken round by round."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call every case once per round, in turn; each returns its work done (items, tokens,
    images) and is timed. {name: [items per second, one per round]}."""
    rates: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            began = time.perf_counter()
            work = case()
            rates[name].append(work / (time.perf_counter() - began))
    return rates


def ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """Round-by-round ratios of two cases' rates."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def spread(values: list[float], fmt: str = ",.0f") -> str:
    """ "median (min-max)" of one case's values."""
    lo, hi = min(values), max(values)
    return f"{statistics.median(values):{fmt}} ({lo:{fmt}}-{hi:{fmt}})"
