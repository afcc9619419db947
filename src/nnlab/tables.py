"""Plain-text tables for the terminal and for text figures (no heavy imports: the CLI's
`list`, `describe` and `data list` use it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Rows of strings aligned in columns under a header and a rule (numbers right-aligned)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def fmt(row: Sequence[str], raw: Sequence[Any]) -> str:
        parts = []
        for i, cell in enumerate(row):
            number = isinstance(raw[i], (int, float)) or _looks_numeric(cell)
            parts.append(cell.rjust(widths[i]) if number else cell.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    lines = [fmt(cells[0], headers), "  ".join("-" * w for w in widths)]
    lines += [fmt(c, r) for c, r in zip(cells[1:], rows, strict=True)]
    return lines


def _looks_numeric(s: str) -> bool:
    try:
        float(s.replace("−", "-").replace(",", "_"))  # 10,745,088 reads as a number
    except ValueError:
        return False
    return True
