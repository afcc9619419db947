"""Figures for experiments and reports: learning curves, confusion matrices, image grids,
decision boundaries."""

from nnlab.viz.boundaries import (
    BoundaryPanel,
    Grid,
    ScatterGroup,
    decision_boundaries,
    draw_decision_boundary,
    grid_points,
    predict_grid,
    scatter_and_boundaries,
)
from nnlab.viz.curves import (
    CurveRow,
    Line,
    LinePanel,
    curves_per_variant,
    history_series,
    line_panels,
)
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
    "BoundaryPanel",
    "CurveRow",
    "Grid",
    "Line",
    "LinePanel",
    "ScatterGroup",
    "confusion_matrix",
    "confusion_matrix_figure",
    "curves_per_variant",
    "decision_boundaries",
    "draw_decision_boundary",
    "figure_to_png",
    "grid_points",
    "history_series",
    "image_grid",
    "learning_curves",
    "line_panels",
    "metric_groups",
    "most_confused_pairs",
    "per_class_accuracy",
    "predict_grid",
    "scatter_and_boundaries",
    "text_figure",
    "text_table",
]
