"""Figures and figure helpers in nnlab.viz used by the PyTorch experiments."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab.viz import per_class_accuracy


def test_per_class_accuracy_is_the_recall_of_each_class():
    cm = np.array([[3, 1, 0], [0, 0, 0], [2, 0, 6]])
    assert per_class_accuracy(cm, ["a", "b", "c"]) == {"a": 0.75, "b": 0.0, "c": 0.75}
    assert per_class_accuracy(np.array([[1, 2], [0, 3]]), digits=2) == {"0": 0.33, "1": 1.0}
    with pytest.raises(ValueError, match="class names"):
        per_class_accuracy(cm, ["a", "b"])
