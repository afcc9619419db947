"""tests/figcheck.py can fail: blank, too small, uncaptioned figures and wrong panel counts
are rejected; the panel counter counts framed axes and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from figcheck import check_figure, count_panels


def save(fig: Figure, path: Path, caption: str | None = "A caption") -> Path:
    """Save like `Run.figure` does (110 dpi, tight box) and record the caption."""
    fig.savefig(path, format="png", dpi=110, bbox_inches="tight")
    if caption is not None:
        captions = path.parent / "captions.json"
        old = json.loads(captions.read_text()) if captions.exists() else {}
        captions.write_text(json.dumps({**old, path.name: caption}))
    return path


def curves(rows: int, cols: int, **kwargs) -> Figure:
    fig = Figure(figsize=(3 * cols, 2.5 * rows), **kwargs)
    axes = fig.subplots(rows, cols, squeeze=False)
    x = np.linspace(0, 1, 50)
    for i, ax in enumerate(axes.flat):
        ax.plot(x, np.sin(x * (i + 1)), label="train")
        ax.plot(x, np.cos(x * (i + 1)), "--", label="val")
        ax.set_title(f"panel {i}")
        ax.grid(alpha=0.3)
    axes.flat[0].legend()
    return fig


@pytest.fixture
def grid23(tmp_path: Path) -> Path:
    return save(curves(2, 3), tmp_path / "grid.png")


def test_a_good_figure_passes_and_reports_what_it_read(grid23):
    fig = check_figure(grid23, min_size=(600, 400), panels=(2, 3), caption="caption")
    assert fig.caption == "A caption" and len(fig.frames) == 6
    check_figure(grid23, panels=6)


@pytest.mark.parametrize(("panels", "message"), [(5, "6 framed panels, not 5"),
                                                 (7, "not 7"), ((3, 2), "not a 3 x 2 grid"),
                                                 ((1, 6), "not a 1 x 6 grid")])  # fmt: skip
def test_wrong_panel_count_fails(grid23, panels, message):
    with pytest.raises(AssertionError, match=message):
        check_figure(grid23, panels=panels)


def test_too_small_fails(grid23, tmp_path):
    with pytest.raises(AssertionError, match="px <"):
        check_figure(grid23, min_size=(5000, 100))
    fig = curves(1, 1)
    fig.set_size_inches(1, 0.8)
    small = save(fig, tmp_path / "small.png")
    with pytest.raises(AssertionError, match="px <"):
        check_figure(small)


def _png(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array.astype(np.uint8)).save(path)
    (path.parent / "captions.json").write_text(json.dumps({path.name: "caption"}))
    return path


def test_blank_figures_fail(tmp_path):
    white = _png(tmp_path / "white.png", np.full((400, 600, 3), 255))
    with pytest.raises(AssertionError, match="blank"):
        check_figure(white)
    grey = _png(tmp_path / "grey.png", np.full((400, 600, 3), 90))
    with pytest.raises(AssertionError, match="blank"):
        check_figure(grey)
    transparent = tmp_path / "transparent.png"
    Image.new("RGBA", (600, 400), (0, 0, 0, 0)).save(transparent)  # black, but invisible
    with pytest.raises(AssertionError, match="blank"):
        check_figure(transparent, caption=False)
    # a few dark strokes on white: the luminance varies, but 99% is one colour
    speck = np.full((400, 600, 3), 255)
    speck[200:204, 100:500] = 0
    speck[50:350, 300:302] = 0
    with pytest.raises(AssertionError, match="almost blank"):
        check_figure(_png(tmp_path / "speck.png", speck), min_std=0.01)
    # two colours in halves: neither blank nor mostly one colour, but not a plot either
    halves = np.full((400, 600, 3), 255)
    halves[:, 300:] = 0
    with pytest.raises(AssertionError, match="only 2 colours"):
        check_figure(_png(tmp_path / "halves.png", halves))
    # an empty matplotlib figure (white canvas, nothing drawn)
    empty = Figure(figsize=(4, 3))
    path = tmp_path / "empty.png"
    empty.savefig(path, dpi=110, facecolor="white")
    with pytest.raises(AssertionError, match="blank"):
        check_figure(path, caption=False)


def test_missing_empty_or_wrong_caption_fails(tmp_path):
    fig = curves(1, 2)
    uncaptioned = save(fig, tmp_path / "a.png", caption=None)
    with pytest.raises(AssertionError, match="no caption"):
        check_figure(uncaptioned)  # no captions.json at all
    save(fig, tmp_path / "b.png", caption="Loss and accuracy")
    with pytest.raises(AssertionError, match="no caption"):
        check_figure(uncaptioned)  # captions.json, but not for a.png
    blank = save(fig, tmp_path / "c.png", caption="  ")
    with pytest.raises(AssertionError, match="no caption"):
        check_figure(blank)
    with pytest.raises(AssertionError, match="lacks 'confusion'"):
        check_figure(tmp_path / "b.png", caption="confusion")
    check_figure(uncaptioned, caption=False, panels=2)
    other = tmp_path / "elsewhere.json"
    other.write_text(json.dumps({"a.png": "from elsewhere"}))
    assert check_figure(uncaptioned, captions_json=other).caption == "from elsewhere"


def test_missing_file_fails(tmp_path):
    with pytest.raises(AssertionError, match="no such figure"):
        check_figure(tmp_path / "nothing.png")


# -------------------------------------------------------------------------- panel counter


def test_grids_of_every_shape(tmp_path):
    for rows, cols in [(1, 1), (1, 2), (1, 5), (2, 1), (2, 2), (3, 4)]:
        path = save(curves(rows, cols), tmp_path / f"g{rows}{cols}.png")
        check_figure(path, panels=(rows, cols))


def test_shared_axes_and_tight_spacing_are_still_separate_panels(tmp_path):
    fig = curves(2, 3, layout="constrained")
    for ax in fig.axes[1:]:
        ax.sharex(fig.axes[0])
    assert count_panels(save(fig, tmp_path / "shared.png")) == 6


def test_colorbars_legends_and_dark_images_are_not_extra_panels(tmp_path):
    fig = Figure(figsize=(9, 3.5))
    left, right = fig.subplots(1, 2)
    rng = np.random.default_rng(0)
    cm = rng.integers(0, 50, (10, 10))
    cm[0, 0] = 200  # dark cell in the corner, against the spines
    im = left.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=left)
    xx, yy = np.meshgrid(np.linspace(-2, 2, 80), np.linspace(-2, 2, 80))
    right.contourf(xx, yy, np.tanh(yy - xx), levels=10, cmap="RdBu_r")  # fills to the spines
    right.contour(xx, yy, yy - xx, levels=[0], colors="k")
    right.scatter([-2, 0, 2], [0, -2, 2], s=40, clip_on=False, zorder=3)  # over the spines
    right.legend(["points"], loc="upper left")
    assert count_panels(save(fig, tmp_path / "cm.png")) == 2


def test_black_image_inside_spines_and_black_axhline(tmp_path):
    fig = Figure(figsize=(9, 3))
    a, b = fig.subplots(1, 2)
    img = np.zeros((20, 20))
    img[:, :12] = 1.0  # 40% black: along the top, bottom and right spines
    a.imshow(img, cmap="gray")
    b.plot([0, 1], [-1, 1])
    b.axhline(0, color="k")  # splits the frame in two: still one panel
    b.axvline(0.5, color="k", linestyle=":")
    assert count_panels(save(fig, tmp_path / "black.png")) == 2


def test_axes_without_frames_are_not_counted(tmp_path):
    fig = Figure(figsize=(8, 3))
    for ax in fig.subplots(2, 6).flat:
        ax.imshow(np.random.default_rng(1).random((8, 8)), cmap="gray")
        ax.axis("off")
    assert count_panels(save(fig, tmp_path / "tiles.png")) == 0
    text = Figure(figsize=(6, 2))
    text.text(0.01, 0.5, "name   value\n-----  -----\nloss   0.123\n" * 3, family="monospace")
    assert count_panels(save(text, tmp_path / "text.png")) == 0


def test_hiding_one_frame_changes_the_count(tmp_path):
    fig = curves(1, 3)
    for spine in fig.axes[1].spines.values():
        spine.set_visible(False)
    path = save(fig, tmp_path / "hidden.png")
    with pytest.raises(AssertionError, match="2 framed panels, not 3"):
        check_figure(path, panels=3)


def test_the_librarys_figure_builders(tmp_path):
    from nnlab.viz import confusion_matrix_figure, image_grid, learning_curves
    from nnlab.viz.text import text_figure

    rng = np.random.default_rng(0)
    cm = np.diag([40, 35, 45]) + rng.integers(0, 4, (3, 3))
    check_figure(save(confusion_matrix_figure(cm, ["a", "b", "c"]), tmp_path / "cm.png"),
                 panels=(1, 2))  # fmt: skip
    history = [{"step": s, "train_loss": 1 / s, "test_loss": 1.1 / s, "test_accuracy": 1 - 1 / s}
               for s in range(1, 6)]  # fmt: skip
    check_figure(save(learning_curves(history), tmp_path / "lc.png"), panels=(1, 2))
    tiles = save(image_grid(rng.random((12, 8, 8)), ncols=6), tmp_path / "tiles.png")
    check_figure(tiles, panels=0)
    table = text_figure(["name   loss", "-----  ----", "adam   0.12", "sgd    0.34"], "table")
    check_figure(save(table, tmp_path / "table.png"), min_size=(100, 50), panels=0)
