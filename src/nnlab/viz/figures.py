"""Figure builders: each returns a `matplotlib.figure.Figure`.

They use the object API (`Figure()`, `fig.subplots()`), never `pyplot`, so they need no GUI
backend and can be called from any thread. Save with `fig.savefig(path)` or `figure_to_png`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np
from matplotlib.figure import Figure

ANNOTATE_MAX_CLASSES = 15


def figure_to_png(fig: Figure, dpi: int = 110, metadata: Mapping[str, str] | None = None) -> bytes:
    """Render `fig` to PNG bytes (no file, no backend state)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=dict(metadata or {}))
    return buf.getvalue()


# --------------------------------------------------------------------------- learning curves


def _is_number(v: object) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def metric_groups(history: Sequence[Mapping], x: str = "step") -> dict[str, list[str]]:
    """Group the numeric keys of `history` (all but `x`) by their suffix after the first `_`.

    `train_loss`, `test_loss` -> "loss"; `train_accuracy` -> "accuracy"; `lr` -> "lr".
    Groups and keys keep the order in which they first appear.
    """
    groups: dict[str, list[str]] = {}
    for row in history:
        for key, value in row.items():
            if key == x or not _is_number(value):
                continue
            group = key.split("_", 1)[1] if "_" in key.strip("_") else key
            keys = groups.setdefault(group, [])
            if key not in keys:
                keys.append(key)
    return groups


def learning_curves(
    history: Sequence[Mapping],
    groups: Mapping[str, Sequence[str]] | None = None,
    x: str = "step",
    title: str = "Learning curves",
    xlabel: str | None = None,
) -> Figure:
    """One panel per group of metrics, one line per metric, against `x` (default `step`),
    labelled `xlabel` (default: the name of `x`).

    `history` is a list of records such as the lines of `metrics.jsonl`; a metric missing from
    a record is simply not plotted there (e.g. test metrics logged every N steps). A record
    without `x` uses its position in `history`.
    """
    groups = dict(groups) if groups is not None else metric_groups(history, x)
    groups = {name: list(keys) for name, keys in groups.items() if keys}
    if not groups:
        raise ValueError("learning_curves: no numeric metrics to plot")

    ncols = min(3, len(groups))
    nrows = math.ceil(len(groups) / ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (name, keys) in zip(axes[: len(groups)], groups.items(), strict=True):
        values: list[float] = []
        for key in keys:
            pts = [
                (row.get(x, i), row[key])
                for i, row in enumerate(history)
                if _is_number(row.get(key)) and _is_number(row.get(x, i))
            ]
            if not pts:
                continue
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, label=key, marker="o" if len(pts) <= 30 else None, markersize=3)
            values.extend(ys)
        finite = [v for v in values if math.isfinite(v)]
        if name.endswith("loss") and finite and min(finite) > 0 and max(finite) / min(finite) > 100:
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel(xlabel or x)
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- confusion matrix


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """`cm[i, j]` = number of samples of true class i predicted as class j (int64, n x n)."""
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (
            not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes
        ):
            raise ValueError(f"{name} must hold integer labels in [0, {n_classes})")
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64)


def _names(class_names: Sequence[str] | None, n: int) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(n)]
    if len(class_names) != n:
        raise ValueError(f"got {len(class_names)} class names for a {n} x {n} matrix")
    return [str(c) for c in class_names]


def _row_normalise(cm: np.ndarray) -> np.ndarray:
    totals = cm.sum(axis=1, keepdims=True).astype(float)
    return np.divide(cm, totals, out=np.zeros(cm.shape, dtype=float), where=totals > 0)


def confusion_matrix_figure(
    cm: np.ndarray,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion matrix",
) -> Figure:
    """Two panels: raw counts and row-normalised rates (recall on the diagonal)."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion matrix must be square, got shape {cm.shape}")
    n = cm.shape[0]
    names = _names(class_names, n)
    side = min(max(4.0, 0.45 * n + 2.5), 14.0)
    fig = Figure(figsize=(2 * side + 1.5, side), layout="constrained")
    ax_counts, ax_rates = fig.subplots(1, 2)
    panels = [
        (ax_counts, cm, "counts", "samples", "d"),
        (
            ax_rates,
            _row_normalise(cm),
            "row-normalised (recall on diagonal)",
            "fraction of true class",
            ".2f",
        ),
    ]
    for ax, values, subtitle, unit, fmt in panels:
        vmax = 1.0 if fmt != "d" else max(float(values.max()), 1.0)
        im = ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax)
        fig.colorbar(im, ax=ax, shrink=0.8, label=unit)
        ax.set_title(subtitle)
        ax.set_xlabel("predicted label")
        ax.set_ylabel("true label")
        ax.set_xticks(range(n), names, rotation=45, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(n), names)
        if n <= ANNOTATE_MAX_CLASSES:
            for i in range(n):
                for j in range(n):
                    v = values[i, j]
                    color = "white" if v > 0.6 * vmax else "black"
                    ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=8, color=color)
    fig.suptitle(title)
    return fig


def most_confused_pairs(
    cm: np.ndarray, class_names: Sequence[str] | None = None, k: int = 3
) -> list[dict]:
    """The `k` largest off-diagonal cells, largest first; ties by true then predicted index.

    Each item: `{"true": name, "predicted": name, "count": int, "rate": float}` where `rate`
    is the fraction of that true class predicted as `predicted`. Zero cells are left out.
    """
    cm = np.asarray(cm)
    n = cm.shape[0]
    names = _names(class_names, n)
    rates = _row_normalise(cm)
    cells = [(int(cm[i, j]), i, j) for i in range(n) for j in range(n) if i != j and cm[i, j] > 0]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [
        {"true": names[i], "predicted": names[j], "count": count, "rate": float(rates[i, j])}
        for count, i, j in cells[:k]
    ]


def per_class_accuracy(
    cm: np.ndarray, class_names: Sequence[str] | None = None, digits: int = 6
) -> dict[str, float]:
    """Each class's recall (the fraction of its samples predicted as it: the diagonal of the
    row-normalised matrix), rounded to `digits`; 0 for a class without samples."""
    cm = np.asarray(cm)
    recall = cm.diagonal() / np.maximum(cm.sum(axis=1), 1)
    names = _names(class_names, cm.shape[0])
    return {name: round(float(r), digits) for name, r in zip(names, recall, strict=True)}


# --------------------------------------------------------------------------- image grid


def image_grid(
    images: np.ndarray,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    title: str = "Images",
    cmap: str = "gray",
    normalize: str | None = "each",
) -> Figure:
    """A grid of images, e.g. the first-layer weights of a network reshaped to (N, H, W).

    `images`: (N, H, W) greyscale or (N, H, W, 3|4) colour.
    `normalize`: "each" stretches every image to its own min..max; "global" uses one range
    for all (shown by a colorbar, so magnitudes compare across tiles); None shows values
    as they are (floats in [0, 1], integers in [0, 255]).
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (3, 4)):
        raise ValueError(f"images must be (N, H, W) or (N, H, W, 3|4), got shape {images.shape}")
    if normalize not in ("each", "global", None):
        raise ValueError(f"normalize must be 'each', 'global' or None, got {normalize!r}")
    n = images.shape[0]
    if n == 0:
        raise ValueError("image_grid: no images")
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images")
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    tile = max(0.9, min(2.0, 12.0 / ncols))
    fig = Figure(figsize=(ncols * tile + 1.0, nrows * tile + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)

    data = images.astype(float)
    if normalize is None:
        lo, hi = (0.0, 255.0) if np.issubdtype(images.dtype, np.integer) else (0.0, 1.0)
    else:
        lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    colour = images.ndim == 4
    im = None
    for idx, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if idx >= n:
            continue
        img = data[idx]
        a, b = (float(np.nanmin(img)), float(np.nanmax(img))) if normalize == "each" else (lo, hi)
        if colour:  # imshow ignores vmin/vmax for RGB: rescale by hand
            ax.imshow(np.clip((img - a) / (b - a or 1.0), 0.0, 1.0))
        else:
            im = ax.imshow(img, cmap=cmap, vmin=a, vmax=b if b > a else a + 1e-12)
        if titles is not None:
            ax.set_title(str(titles[idx]), fontsize=8)
    if im is not None and normalize != "each":
        fig.colorbar(im, ax=axes, shrink=0.8, label="value")
    fig.suptitle(title)
    return fig
