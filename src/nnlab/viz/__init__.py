"""Figures for experiments and reports: learning curves, confusion matrices, image grids."""

from nnlab.viz.figures import (
    confusion_matrix,
    confusion_matrix_figure,
    figure_to_png,
    image_grid,
    learning_curves,
    metric_groups,
    most_confused_pairs,
    per_class_accuracy,
)
from nnlab.viz.text import text_figure, text_table

__all__ = [
    "confusion_matrix",
    "confusion_matrix_figure",
    "figure_to_png",
    "image_grid",
    "learning_curves",
    "metric_groups",
    "most_confused_pairs",
    "per_class_accuracy",
    "text_figure",
    "text_table",
]
