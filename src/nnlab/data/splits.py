"""`ArraySplits`, what every image loader returns (its own module: the loaders import it, it
imports none of them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ArraySplits:
    """A train/test split of an image dataset: x has shape (N, H, W), y has shape (N,).

    `x_val`, `y_val` hold a validation split when the dataset defines one (chars36), else None.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    name: str
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)
