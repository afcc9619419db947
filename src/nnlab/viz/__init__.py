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
from nnlab.viz.histograms import Histogram, overlaid_histograms
from nnlab.viz.images import (
    filters_figure,
    mosaics_figure,
    reconstruction_rows,
    whitened_images_figure,
)
from nnlab.viz.network import backprop_step_figure
from nnlab.viz.text import text_figure, text_table

__all__ = [
    "BoundaryPanel",
    "CurveRow",
    "Grid",
    "Histogram",
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
    "filters_figure",
    "grid_points",
    "history_series",
    "image_grid",
    "learning_curves",
    "line_panels",
    "metric_groups",
    "mosaics_figure",
    "most_confused_pairs",
    "overlaid_histograms",
    "predict_grid",
    "reconstruction_rows",
    "scatter_and_boundaries",
    "text_figure",
    "text_table",
    "whitened_images_figure",
]
