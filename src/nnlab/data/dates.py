"""Dates written the ways people write them, paired with the ISO date they mean: the data of a
sequence-to-sequence translation task (`date-seq2seq`), generated here, seeded, no download.

    sets = date_sets(seed=0, n_train=20_000, val_size=1_000, test_size=2_000)
    sets["train"].texts[0], sets["train"].targets[0]      # ('Mon, Mar 3, 1997', '1997-03-03')

Every day from 1969-01-01 to 2068-12-31 (the century a two-digit year names under the POSIX
rule, so '97' is 1997 and '05' is 2005) goes to exactly one split, so a test date was never seen
in training in any format; each example is a day of its split drawn at random, written in one of
`FORMATS` drawn at random. Month and weekday names are English and do not depend on the locale.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

FIRST, LAST = date(1969, 1, 1), date(2068, 12, 31)
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TARGET_LENGTH = 10  # yyyy-mm-dd


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st, 22nd, 23rd ... 31st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _month(d: date) -> str:
    return MONTHS[d.month - 1]


def _mon(d: date) -> str:
    return MONTHS[d.month - 1][:3]


def _weekday(d: date) -> str:
    return WEEKDAYS[d.weekday()]


FORMATS: tuple[tuple[str, Callable[[date], str]], ...] = (
    ("d Month yyyy", lambda d: f"{d.day} {_month(d)} {d.year}"),
    ("dd/mm/yy", lambda d: f"{d.day:02}/{d.month:02}/{d.year % 100:02}"),
    ("Dow, Mon d, yyyy", lambda d: f"{_weekday(d)[:3]}, {_mon(d)} {d.day}, {d.year}"),
    ("yyyy Month dth", lambda d: f"{d.year} {_month(d)} {ordinal(d.day)}"),
    ("Month d, yyyy", lambda d: f"{_month(d)} {d.day}, {d.year}"),
    ("mm/dd/yyyy", lambda d: f"{d.month:02}/{d.day:02}/{d.year}"),
    ("dd.mm.yyyy", lambda d: f"{d.day:02}.{d.month:02}.{d.year}"),
    ("d-Mon-yy", lambda d: f"{d.day}-{_mon(d)}-{d.year % 100:02}"),
    ("dth of Month yyyy", lambda d: f"{ordinal(d.day)} of {_month(d)} {d.year}"),
    ("Weekday d MONTH yyyy", lambda d: f"{_weekday(d)} {d.day} {_month(d).upper()} {d.year}"),
    ("yyyymmdd", lambda d: f"{d.year}{d.month:02}{d.day:02}"),
    ("yyyy/mm/dd", lambda d: f"{d.year}/{d.month:02}/{d.day:02}"),
    ("mon d 'yy", lambda d: f"{_mon(d).lower()} {d.day} '{d.year % 100:02}"),
    ("dd Mon yyyy", lambda d: f"{d.day:02} {_mon(d)} {d.year}"),
)
"""(name, formatter) of every way a date is written. US month-first (mm/dd/yyyy) and day-first
(dd/mm/yy) both use slashes: the length of the year tells them apart."""

ALPHABET = string.digits + string.ascii_letters + " ,./-'"
"""Every character a formatted date can hold."""
TARGET_ALPHABET = string.digits + "-"


def render(day: date, fmt: int) -> str:
    """`day` written in format number `fmt` of `FORMATS`."""
    return FORMATS[fmt][1](day)


@dataclass(frozen=True)
class DateSet:
    """Examples of one split: the written date, its ISO form, the format's index, the day."""

    texts: tuple[str, ...]
    targets: tuple[str, ...]
    formats: tuple[int, ...]
    days: tuple[date, ...]

    def __len__(self) -> int:
        return len(self.texts)


def date_sets(
    seed: int, n_train: int, val_size: int, test_size: int, held_out: float = 0.1
) -> dict[str, DateSet]:
    """Train, validation and test examples drawn from disjoint days: a fraction `held_out` of
    the days each for validation and test, the rest for training. The same arguments give the
    same examples."""
    rng = random.Random(seed)
    days = [FIRST + timedelta(i) for i in range((LAST - FIRST).days + 1)]
    rng.shuffle(days)
    k = int(len(days) * held_out)
    pools = {"val": days[:k], "test": days[k : 2 * k], "train": days[2 * k :]}
    sizes = {"train": n_train, "val": val_size, "test": test_size}
    out = {}
    for split in ("train", "val", "test"):
        chosen = [rng.choice(pools[split]) for _ in range(sizes[split])]
        fmts = [rng.randrange(len(FORMATS)) for _ in chosen]
        out[split] = DateSet(
            texts=tuple(render(d, f) for d, f in zip(chosen, fmts, strict=True)),
            targets=tuple(d.isoformat() for d in chosen),
            formats=tuple(fmts),
            days=tuple(chosen),
        )
    return out
