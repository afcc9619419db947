"""Loaders: dataset name -> NumPy arrays (images float32 in [0, 1], labels int64)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import numpy as np

from nnlab.data.digest import note_dataset, recording_active
from nnlab.data.idx import read_idx
from nnlab.data.registry import DATASETS, entry_point, get, locate
from nnlab.data.splits import ArraySplits
from nnlab.errors import DataError

DIGITS = [str(i) for i in range(10)]
CLASS_NAMES: dict[str, list[str]] = {
    "mnist": DIGITS,
    "fashion-mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    # Kuzushiji-MNIST hiragana, romanised: o ki su tsu na ha ma ya re wo
    "kmnist": ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
    "digits": DIGITS,
}
# IDX datasets whose images are stored transposed (EMNIST: column-major pixels).
TRANSPOSED: set[str] = {"emnist"}


def load_idx_images(
    images: str | os.PathLike, labels: str | os.PathLike, *, transpose: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read an IDX image file and its label file: (N, H, W) float32 in [0, 1], (N,) int64.

    `transpose=True` swaps H and W, which EMNIST needs to show characters upright.
    """
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DataError(
            f"{images} and {labels} do not match: images of shape {x.shape} need labels of "
            f"shape ({len(x)},), got {y.shape}; restore or re-fetch them"
        )
    if transpose:
        x = x.transpose(0, 2, 1)
    x = np.ascontiguousarray(x, dtype=np.float32)
    x /= 255.0
    return x, y.astype(np.int64)


def _load_idx_dataset(name: str, download: bool, progress: bool) -> ArraySplits:
    paths: dict[str, Path] = locate(name, download=download, progress=progress)
    transpose = name in TRANSPOSED
    x_train, y_train = load_idx_images(
        paths["train-images-idx3-ubyte.gz"],
        paths["train-labels-idx1-ubyte.gz"],
        transpose=transpose,
    )
    x_test, y_test = load_idx_images(
        paths["t10k-images-idx3-ubyte.gz"],
        paths["t10k-labels-idx1-ubyte.gz"],
        transpose=transpose,
    )
    return ArraySplits(x_train, y_train, x_test, y_test, list(CLASS_NAMES[name]), name)


def _load_digits() -> ArraySplits:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, stratify=y, random_state=0
    )
    return ArraySplits(x_train, y_train, x_test, y_test, list(DIGITS), "digits")


def load_dataset(name: str, *, download: bool = False, progress: bool = False) -> ArraySplits:
    """Load an image classification dataset: "mnist", "fashion-mnist", "kmnist", "digits", or
    one whose registry entry names its own loader: "cifar10" (images (N, 32, 32, 3)) and
    "chars36" (with its default options; see `nnlab.data.chars36.load_chars36`).

    Files are found (and with `download=True` fetched) and verified by the registry;
    DataError if they are missing or corrupt.
    """
    entry = DATASETS.get(name)
    if entry is not None and entry.loader:  # the entry loads itself and notes its own digest
        return entry_point(entry.loader)(download=download, progress=progress)
    if name == "digits":
        splits = _load_digits()
    elif name in CLASS_NAMES:
        splits = _load_idx_dataset(name, download, progress)
    else:
        _not_an_image_dataset(name)
    if recording_active():
        arrays = {k: getattr(splits, k) for k in ("x_train", "y_train", "x_test", "y_test")}
        note_dataset(name, arrays)
    return splits


def _not_an_image_dataset(name: str) -> NoReturn:
    ds = DATASETS.get(name)
    if name.startswith("emnist"):
        raise DataError(
            f"{name!r} is read through chars36 (its digits and uppercase letters); "
            f"use nnlab.data.load_dataset('chars36')"
        )
    if name in ("natural-images", "ufldl-images"):
        func = "load_natural_images()" if name == "natural-images" else "load_ufldl_images()"
        raise DataError(f"{name!r} is a stack of unlabelled images; use nnlab.data.{func}")
    if ds is not None and ds.origin == "generated":
        raise DataError(f"{name!r} is a 2-D toy set; use nnlab.data.make_toy({name!r})")
    if ds is not None:
        raise DataError(f"{name!r} is a text dataset; use nnlab.data.load_text({name!r})")
    choices = ", ".join([*CLASS_NAMES, *(n for n, d in DATASETS.items() if d.loader)])
    raise DataError(f"unknown image dataset {name!r}; choose one of: {choices}")


def load_text(
    name: str = "tinyshakespeare", *, download: bool = False, progress: bool = False
) -> str:
    """Load a text dataset (one registered file) as a string."""
    ds = get(name)
    if len(ds.files) != 1 or ds.files[0].name.endswith(".gz") or name in CLASS_NAMES:
        raise DataError(f"{name!r} is not a text dataset; use nnlab.data.load_dataset({name!r})")
    path = locate(name, download=download, progress=progress)[ds.files[0].name]
    return path.read_text(encoding="utf-8")
