"""Plain-text tables for the terminal and for text figures (no heavy imports: the CLI's
`list`, `describe` and `data list` use it)."""

from __future__ import annotations

from collections.abc import Sequence
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
