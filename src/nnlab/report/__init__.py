"""HTML and Markdown reports of one run directory, and an index of many."""

from nnlab.report.render import format_value, read_metrics, read_run, render_index, render_run

__all__ = ["format_value", "read_metrics", "read_run", "render_index", "render_run"]
