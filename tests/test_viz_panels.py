"""Decision-boundary panels and per-variant curves: grids, panels, axes and legends."""

import numpy as np
import pytest

from nnlab.viz import (
    BoundaryPanel,
    CurveRow,
    Grid,
    curves_per_variant,
    decision_boundaries,
    grid_points,
    predict_grid,
)


def test_grid_points_are_row_major_with_x_fastest():
    pts = grid_points(np.array([0.0, 1.0, 2.0]), np.array([10.0, 20.0]))
    assert pts.tolist() == [[0, 10], [1, 10], [2, 10], [0, 20], [1, 20], [2, 20]]


def test_predict_grid_places_values_at_their_points():
    grid = predict_grid(lambda p: (p[:, 0] + 10 * p[:, 1])[:, None], (-1.0, 1.0), (0.0, 2.0), n=5)
    assert grid.values.shape == (5, 5)
    i, j = 3, 1  # values[i, j] is the value at (xs[j], ys[i])
    assert grid.values[i, j] == pytest.approx(grid.xs[j] + 10 * grid.ys[i])
    np.testing.assert_array_equal(grid.xs, np.linspace(-1, 1, 5))
    np.testing.assert_array_equal(grid.ys, np.linspace(0, 2, 5))
    square = predict_grid(lambda p: p[:, 0], (-1.0, 1.0), n=3)
    np.testing.assert_array_equal(square.ys, square.xs)


def test_grid_rejects_values_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"\(len\(ys\), len\(xs\)\)"):
        Grid(np.zeros(3), np.zeros(2), np.zeros((3, 2)))


def _panel(title, values=None, lim=(-1.0, 1.0)):
    rng = np.random.default_rng(0)
    X = rng.uniform(*lim, (30, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)[:, None]
    if values is None:
        grid = predict_grid(lambda p: 1 / (1 + np.exp(-5 * p[:, 0] * p[:, 1])), lim, n=41)
    else:
        xs = np.linspace(*lim, 41)
        grid = Grid(xs, xs, np.full((41, 41), values))
    return BoundaryPanel(grid, X, y, title)


def test_decision_boundaries_one_panel_per_model_with_points_and_boundary():
    panels = [_panel("a"), _panel("b", values=0.5), _panel("c", lim=(-2.0, 2.0))]
    fig = decision_boundaries(panels, title="t", colorbar_ticks=[0, 0.5, 1])
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    assert fig.get_suptitle() == "t"
    # a y label on the first panel and where the range changes
    assert [ax.get_ylabel() for ax in axes] == ["x2", "", "x2"]
    assert axes[2].get_xlim() == (-2.0, 2.0)
    # two classes of points per panel, 30 points in all
    for ax in axes:
        sizes = [len(c.get_offsets()) for c in ax.collections if c.get_label().startswith("y =")]
        assert sum(sizes) == 30 and len(sizes) == 2
    # the constant grid says it has no boundary instead of drawing one
    assert "no decision boundary" in axes[1].texts[0].get_text()
    assert not axes[0].texts
    assert len(fig.legends) == 1
    assert len(fig.axes) == 4  # three panels and the colorbar


def test_decision_boundaries_rejects_no_panels_and_mismatched_points():
    with pytest.raises(ValueError, match="no panels"):
        decision_boundaries([])
    p = _panel("a")
    bad = BoundaryPanel(p.grid, p.points, p.labels[:-1], "bad")
    with pytest.raises(ValueError, match="30 points but 29 labels"):
        decision_boundaries([bad])


HISTORY = [
    {"step": e, f"train_loss@{v}": 1.0 / e, f"val_loss@{v}": 1.2 / e}
    | {f"train_accuracy@{v}": 1 - 1 / (e + 1), f"val_accuracy@{v}": 0.9 - 1 / (e + 1)}
    for v in ("a", "b", "c")
    for e in range(1, 6)
]


def test_curves_per_variant_grid_of_rows_and_columns():
    rows = [
        CurveRow("loss", "cross-entropy", log=True),
        CurveRow("accuracy", "accuracy (%)", scale=100, reference=75),
    ]
    fig = curves_per_variant(
        HISTORY,
        ["c", "a"],
        rows,
        title="sweep",
        column_titles={"c": "variant c"},
        marks={"a": (3, "restored epoch")},
    )
    axes = np.array(fig.axes).reshape(2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["variant c", "a"]
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["cross-entropy", "accuracy (%)"]
    assert [ax.get_xlabel() for ax in axes.ravel()] == ["", "", "epoch", "epoch"]
    assert axes[0, 0].get_yscale() == "log" and axes[1, 0].get_yscale() == "linear"
    train, val = axes[1, 1].get_lines()[:2]
    assert train.get_label() == "training" and val.get_label() == "validation"
    np.testing.assert_allclose(train.get_ydata(), [100 * (1 - 1 / (e + 1)) for e in range(1, 6)])
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4, 5])
    # the mark in every panel of its column; legends in the last column
    assert all("restored epoch" in [ln.get_label() for ln in ax.get_lines()] for ax in axes[:, 1])
    assert all(ax.get_legend() is not None for ax in axes[:, 1])
    assert all(ax.get_legend() is None for ax in axes[:, 0])
    assert fig.get_suptitle() == "sweep"


def test_curves_per_variant_needs_variants_and_rows():
    with pytest.raises(ValueError, match="at least one"):
        curves_per_variant(HISTORY, [], [CurveRow("loss", "loss")], title="t")


def test_backprop_step_figure_labels_every_edge_bias_and_unit():
    from nnlab.viz import backprop_step_figure

    edges = {"w1": ("x1", "h1"), "w2": ("x2", "h1"), "w5": ("h1", "o1")}
    before = {"w1": 0.15, "w2": 0.2, "w5": 0.4, "b1": 0.35, "b2": 0.6}
    after = {k: v - 0.01 for k, v in before.items()}
    units = {"h1": (0.3775, 0.593, 0.0088), "o1": (1.1, 0.75, 0.74)}
    fig = backprop_step_figure(
        {"x1": 0.05, "x2": 0.1}, {"o1": 0.01}, edges, before, after, units, title="step"
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    for k in before:
        assert f"{k}: {before[k]:.6g} → {after[k]:.6g}" in texts
    assert "x1 = 0.05" in texts and "target t1 = 0.01" in texts
    assert any(t.startswith("z = 0.3775\nh1 = σ(z) = 0.593") for t in texts)
    assert fig.get_suptitle() == "step"


def test_line_panels_draw_lines_reference_and_scales():
    from nnlab.viz import Line, LinePanel, history_series, line_panels

    history = [{"step": 1, "loss": 2.0}, {"step": 2}, {"step": 3, "loss": 0.5, "lr": 0.1}]
    xs, ys = history_series(history, "loss")
    assert (xs, ys) == ([1, 3], [2.0, 0.5])
    fig = line_panels(
        [
            LinePanel([Line(xs, ys, "training")], "loss", "nats", log=True, reference=(1.0, "ln")),
            LinePanel([Line(*history_series(history, "lr"), drawstyle="steps-post")], "lr", "lr"),
        ],
        title="run",
        xlabel="step",
    )
    ax_loss, ax_lr = fig.axes
    assert ax_loss.get_yscale() == "log" and ax_lr.get_yscale() == "linear"
    assert [ln.get_label() for ln in ax_loss.get_lines()] == ["training", "ln"]
    assert ax_loss.get_legend() is not None and ax_lr.get_legend() is None  # no labels there
    assert ax_lr.get_lines()[0].get_drawstyle() == "steps-post"
    assert ax_loss.get_xlabel() == "step" and ax_lr.get_ylabel() == "lr"
    with pytest.raises(ValueError, match="no panels"):
        line_panels([])


def test_scatter_and_boundaries_puts_the_scatter_first():
    from nnlab.viz import ScatterGroup, scatter_and_boundaries

    groups = [ScatterGroup(np.zeros(3), np.ones(3), "zeros"), ScatterGroup([1.0], [2.0], "one")]
    fig = scatter_and_boundaries(
        groups,
        [_panel("a"), _panel("b")],
        scatter_title="weights",
        scatter_labels=("w1", "w2"),
        title="t",
        boundary=None,
    )
    ax_points, ax_a, ax_b, _colorbar = fig.axes
    assert ax_points.get_title() == "weights" and ax_points.get_xlabel() == "w1"
    assert [len(c.get_offsets()) for c in ax_points.collections] == [3, 1]
    assert [t.get_text() for t in ax_points.get_legend().get_texts()] == ["zeros", "one"]
    assert (ax_a.get_title(), ax_b.get_title()) == ("a", "b")
    assert not ax_a.texts  # boundary=None: neither a contour nor a "no boundary" note


def test_activations_figure_marks_numeric_derivatives():
    from nnlab.viz import activations_figure

    x = np.linspace(-2, 2, 41)
    xs = np.array([-1.0, 1.0])
    curves = {"tanh": (np.tanh(x), 1 - np.tanh(x) ** 2), "id": (x, np.ones_like(x))}
    fig = activations_figure(x, curves, xs, {"tanh": 1 - np.tanh(xs) ** 2})
    ax_f, ax_d = fig.axes
    assert [ln.get_label() for ln in ax_f.get_lines()][:2] == ["tanh", "id"]
    circles = [ln for ln in ax_d.get_lines() if ln.get_marker() == "o"]
    assert len(circles) == 2  # tanh's estimates and the legend entry
    np.testing.assert_allclose(circles[0].get_ydata(), 1 - np.tanh(xs) ** 2)


def test_reconstruction_rows_alternate_originals_and_reconstructions():
    from nnlab.viz import reconstruction_rows

    originals = np.zeros((3, 16))  # flattened 4x4 images
    recon = np.ones((3, 16))
    fig = reconstruction_rows(originals, recon, ["a", "b", "c"], ["1", "2", "3"], ncols=2)
    shown = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in shown] == ["a", "b", "1", "2", "c", "3"]
    assert shown[2].get_images()[0].get_array().shape == (4, 4)
    assert shown[2].get_images()[0].get_array().max() == 1.0  # a reconstruction
    with pytest.raises(ValueError, match="differ in length"):
        reconstruction_rows(originals, recon[:2], ["a", "b", "c"], ["1", "2", "3"], ncols=2)


def test_overlaid_histograms_share_bins_and_mark_the_threshold():
    from nnlab.viz import Histogram, overlaid_histograms

    bins = np.linspace(0, 1, 11)
    fig = overlaid_histograms(
        [Histogram(np.full(5, 0.15), "before", "0.65"), Histogram([0.85, 0.95], "after", "b", 0.8)],
        bins,
        title="t",
        xlabel="x",
        ylabel="n",
        marker=(0.5, "threshold"),
        xlim=(0, 1),
    )
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 20 and sum(heights) == 7 and heights[1] == 5  # 0.15 in bin 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["before", "after", "threshold"]
    assert ax.get_lines()[0].get_xdata()[0] == 0.5


def test_mosaic_figures_one_image_per_set():
    from nnlab.viz import filters_figure, mosaics_figure, whitened_images_figure

    rng = np.random.default_rng(0)
    filters = rng.normal(size=(25, 8, 8))
    fig = filters_figure([filters, 2 * filters], ["trained", "random"], "filters")
    shown = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in shown] == ["trained", "random"]
    tile = shown[1].get_images()[0].get_array()
    assert tile.shape == (5 * 9 + 1, 5 * 9 + 1)  # 5 x 5 filters of 8 x 8, 1 pixel apart
    assert tile.min() == -1.0 and tile.max() <= 1.0  # each filter divided by its max |w|
    assert fig.get_size_inches()[1] == pytest.approx(3.0 + 0.9)
    fig = mosaics_figure([np.zeros((4, 3, 3)), np.ones((4, 3, 3))], ["in", "out"], background=1)
    assert len([ax for ax in fig.axes if ax.get_images()]) == 2
    fig = whitened_images_figure(rng.normal(size=(12, 16, 16)))
    (ax,) = [ax for ax in fig.axes if ax.get_images()]
    image = ax.get_images()[0].get_array()
    assert image.shape == (3 * 20 + 4, 3 * 20 + 4)  # 9 of the 12 images, 4 pixels apart
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert fig.get_suptitle() == "Whitened source images (16x16)"
