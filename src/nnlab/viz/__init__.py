"""Figures for experiments and reports: learning curves, confusion matrices, image grids,
decision boundaries, bars, searches, 2-D codes and denoising fields."""

from nnlab.viz.activations import (
    activations_figure,
)
from nnlab.viz.attention import (
    attention_map,
    cross_attention_maps,
)
from nnlab.viz.bars import (
    accuracy_bars,
    count_bars,
    grouped_bars,
)
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
from nnlab.viz.histograms import (
    Histogram,
    overlaid_histograms,
)
from nnlab.viz.images import (
    filters_figure,
    mosaics_figure,
    reconstruction_rows,
    whitened_images_figure,
)
from nnlab.viz.latent import (
    LatentPanel,
    autoencoder_codes,
    denoising_field,
    latent_scatter,
)
from nnlab.viz.network import (
    backprop_step_figure,
)
from nnlab.viz.runs import (
    moving_average,
    step_and_epoch_curves,
)
from nnlab.viz.search import (
    best_so_far_curves,
    explored_points,
)
from nnlab.viz.text import (
    text_figure,
    text_table,
    wrap_words,
)

__all__ = [
    "attention_map",
    "cross_attention_maps",
    "BoundaryPanel",
    "CurveRow",
    "Grid",
    "Histogram",
    "LatentPanel",
    "Line",
    "LinePanel",
    "ScatterGroup",
    "accuracy_bars",
    "activations_figure",
    "backprop_step_figure",
    "best_so_far_curves",
    "confusion_matrix",
    "confusion_matrix_figure",
    "count_bars",
    "grouped_bars",
    "curves_per_variant",
    "decision_boundaries",
    "denoising_field",
    "draw_decision_boundary",
    "explored_points",
    "figure_to_png",
    "filters_figure",
    "grid_points",
    "history_series",
    "image_grid",
    "autoencoder_codes",
    "latent_scatter",
    "learning_curves",
    "line_panels",
    "metric_groups",
    "mosaics_figure",
    "most_confused_pairs",
    "moving_average",
    "overlaid_histograms",
    "per_class_accuracy",
    "predict_grid",
    "reconstruction_rows",
    "scatter_and_boundaries",
    "step_and_epoch_curves",
    "text_figure",
    "text_table",
    "whitened_images_figure",
    "wrap_words",
]
