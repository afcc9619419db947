"""Plain-text tables for the terminal and for text figures (no heavy imports: the CLI's
`list`, `describe` and `data list` use it)."""

from __future__ import annotations

import json
import string
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Rows of strings aligned in columns under a header and a rule (a column of numbers
    right-aligned, header included; any other column left-aligned, so a column of
    characters read by OCR keeps its "0" in line with its letters)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        bool(rows)
        and all(isinstance(r[i], (int, float)) or _looks_numeric(str(r[i])) for r in rows)
        for i in range(len(headers))
    ]

    def fmt(row: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(parts).rstrip()

    lines = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    return lines + [fmt(c) for c in cells[1:]]


def _looks_numeric(s: str) -> bool:
    try:
        float(s.replace("−", "-").replace(",", "_"))  # 10,745,088 reads as a number
    except ValueError:
        return False
    return True


def wrapped(text: str, width: int, first: str = "", indent: int = 0) -> list[str]:
    """`first` then `text` in lines of at most `width` characters, continuation lines indented
    by `indent`; broken at spaces only (a longer word gets a line of its own)."""
    head = (first.ljust(indent) if len(first) < indent else first + " ") if first else ""
    return textwrap.wrap(
        text,
        width,
        initial_indent=head or " " * indent,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first]


class _Lenient(string.Formatter):
    """str.format that writes "?" for a missing value or one its format does not fit."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        try:
            return super().get_field(field_name, args, kwargs)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            return None, field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None or isinstance(value, (dict, list)) and not format_spec:
            return "?" if value is None else _printable(json.dumps(value))
        try:
            return _printable(format(value, format_spec))
        except (ValueError, TypeError):
            return "?"


def _printable(text: str, limit: int = 300) -> str:
    """One line of at most `limit` characters: control characters (a hostile summary's escape
    sequences or newlines) become spaces."""
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fill(template: str, values: Mapping[str, Any]) -> str:
    """`template.format(**values)`, but "?" where a value is missing or does not fit its format
    (a teaching answer or a course item filled from a run's summary)."""
    return _Lenient().vformat(template, (), values)
