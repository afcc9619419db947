"""Figures for experiments and reports: learning curves, confusion matrices, image grids,
decision boundaries."""

from nnlab.viz.activations import activations_figure
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
)
from nnlab.viz.images import reconstruction_rows
from nnlab.viz.network import backprop_step_figure
from nnlab.viz.text import text_figure, text_table

__all__ = [
    "BoundaryPanel",
    "CurveRow",
    "Grid",
    "Line",
    "LinePanel",
    "ScatterGroup",
    "activations_figure",
    "backprop_step_figure",
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
    "predict_grid",
    "reconstruction_rows",
    "scatter_and_boundaries",
    "text_figure",
    "text_table",
]
