import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from nnlab.viz import (
    confusion_matrix,
    confusion_matrix_figure,
    figure_to_png,
    image_grid,
    learning_curves,
    metric_groups,
    most_confused_pairs,
)

HISTORY = [
    {"step": s, "train_loss": 2.0 / (s + 1), "train_accuracy": 1 - 1 / (s + 2), "lr": 0.1}
    | ({"test_loss": 2.2 / (s + 1), "test_accuracy": 1 - 1.2 / (s + 2)} if s % 5 == 0 else {})
    for s in range(20)
]


def test_confusion_matrix_matches_sklearn():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 7, size=500)
    y_pred = rng.integers(0, 7, size=500)
    cm = confusion_matrix(y_true, y_pred, 7)
    np.testing.assert_array_equal(cm, sk_confusion_matrix(y_true, y_pred, labels=range(7)))
    assert cm.sum() == 500


def test_confusion_matrix_keeps_absent_classes_and_rejects_bad_labels():
    cm = confusion_matrix(np.array([0, 0]), np.array([0, 1]), 4)
    assert cm.shape == (4, 4) and cm[0, 0] == 1 and cm[0, 1] == 1 and cm.sum() == 2
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="labels"):
        confusion_matrix(np.array([0, 1, 2]), np.array([0, 1]), 3)


def test_most_confused_pairs_on_a_hand_made_matrix():
    cm = np.array(
        [
            [50, 3, 7],  # a: 60 samples, 7 -> c
            [7, 40, 3],  # b: 50 samples, 7 -> a (ties with a->c, later row)
            [0, 10, 10],  # c: 20 samples, 10 -> b
        ]
    )
    pairs = most_confused_pairs(cm, ["a", "b", "c"], k=3)
    assert pairs == [
        {"true": "c", "predicted": "b", "count": 10, "rate": 0.5},
        {"true": "a", "predicted": "c", "count": 7, "rate": pytest.approx(7 / 60)},
        {"true": "b", "predicted": "a", "count": 7, "rate": pytest.approx(7 / 50)},
    ]
    assert len(most_confused_pairs(cm, k=100)) == 5  # zero cells are left out
    assert most_confused_pairs(np.eye(3, dtype=int) * 5) == []


def test_metric_groups_by_suffix():
    assert metric_groups(HISTORY) == {
        "loss": ["train_loss", "test_loss"],
        "accuracy": ["train_accuracy", "test_accuracy"],
        "lr": ["lr"],
    }


def test_learning_curves_panels_lines_and_labels():
    fig = learning_curves(HISTORY, title="MLP on digits")
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == "MLP on digits"
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy", "lr"]
    loss = axes[0]
    assert loss.get_xlabel() == "step" and loss.get_ylabel() == "loss"
    lines = {line.get_label(): line for line in loss.get_lines()}
    assert set(lines) == {"train_loss", "test_loss"}
    assert len(lines["train_loss"].get_xdata()) == 20
    np.testing.assert_array_equal(lines["test_loss"].get_xdata(), [0, 5, 10, 15])
    assert loss.get_legend() is not None
    assert figure_to_png(fig).startswith(b"\x89PNG")


def test_learning_curves_explicit_groups_and_no_metrics():
    fig = learning_curves(HISTORY, groups={"errors": ["train_loss"]})
    assert [ax.get_title() for ax in fig.axes] == ["errors"]
    with pytest.raises(ValueError, match="no numeric metrics"):
        learning_curves([{"step": 0, "phase": "warmup"}])


def test_confusion_matrix_figure_labels_and_annotations():
    cm = np.array([[5, 1], [2, 8]])
    fig = confusion_matrix_figure(cm, ["cat", "dog"], title="Test set")
    assert fig.get_suptitle() == "Test set"
    counts, rates = fig.axes[:2]  # the other axes are the colorbars
    assert len(fig.axes) == 4
    for ax in (counts, rates):
        assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog"]
    assert counts.get_title() == "counts" and "row-normalised" in rates.get_title()
    assert [t.get_text() for t in counts.texts] == ["5", "1", "2", "8"]
    assert [t.get_text() for t in rates.texts] == ["0.83", "0.17", "0.20", "0.80"]
    assert fig.axes[2].get_ylabel() == "samples"


def test_confusion_matrix_figure_omits_annotations_for_many_classes():
    cm = np.random.default_rng(0).integers(0, 9, size=(20, 20))
    fig = confusion_matrix_figure(cm)
    assert len(fig.axes[0].texts) == 0
    with pytest.raises(ValueError, match="class names"):
        confusion_matrix_figure(cm, ["a", "b"])


@pytest.mark.parametrize("normalize", ["each", "global", None])
def test_image_grid(normalize):
    images = np.random.default_rng(0).normal(size=(10, 8, 8))
    titles = [f"unit {i}" for i in range(10)]
    fig = image_grid(images, titles=titles, title="First-layer weights", normalize=normalize)
    assert fig.get_suptitle() == "First-layer weights"
    tiles = [ax for ax in fig.axes if ax.images]
    assert len(tiles) == 10
    assert [ax.get_title() for ax in tiles] == titles
    # ceil(sqrt(10)) = 4 columns x 3 rows, plus one shared colorbar unless tiles have own ranges
    assert len(fig.axes) == 12 + (normalize != "each")
    if normalize == "each":
        im = tiles[3].images[0]
        assert im.get_clim() == (images[3].min(), images[3].max())


def test_image_grid_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        image_grid(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="normalize"):
        image_grid(np.zeros((2, 8, 8)), normalize="minmax")
