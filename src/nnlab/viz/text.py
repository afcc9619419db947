"""Text as figures: aligned tables of numbers that the report shows beside the plots."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from matplotlib.figure import Figure

from nnlab.report.tables import text_table

__all__ = ["text_figure", "text_table", "wrap_words"]


def text_figure(lines: Sequence[str], title: str, fontsize: float = 10.0) -> Figure:
    """A figure showing monospaced text (e.g. a table from ``text_table``), sized to fit."""
    width = max((len(line) for line in lines), default=20)
    char_w, line_h = 0.0085 * fontsize, 0.0175 * fontsize  # inches per char / per line
    fig = Figure(figsize=(max(4.0, width * char_w + 0.6), len(lines) * line_h + 0.9))
    # figure text rather than an axes: a tight bounding box then crops to the text
    fig.text(0.02, 0.98, "\n".join(lines), family="monospace", fontsize=fontsize, va="top")
    fig.suptitle(title, x=0.02, ha="left", y=0.995, va="bottom", fontsize=fontsize + 2)
    return fig


def wrap_words(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces only (a longer word
    gets a line of its own), e.g. a verdict under a ``text_table``."""
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
