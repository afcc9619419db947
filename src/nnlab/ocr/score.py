"""Scoring a reading against a generated page's truth.

* `character_accuracy(true, read)`: 1 - Levenshtein distance / len(true) (clipped at 0),
  with `whitespace=False` after removing spaces and newlines from both texts.
* `match_boxes(true, found)`: one-to-one pairs of boxes with intersection over union of at
  least `IOU` (greedy, best pairs first); box recall = pairs / true boxes, precision =
  pairs / boxes found. The pairs also say which true character each box was read as.
"""

from __future__ import annotations

from typing import Any

import numpy as np

IOU = 0.5


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions of one character each),
    one vectorised row of the dynamic programme per character of `a`."""
    if not a or not b:
        return max(len(a), len(b))
    target = np.frombuffer(b.encode("utf-32-le"), np.uint32)
    ramp = np.arange(len(b) + 1)
    row = ramp.copy()
    for char in a:
        cost = (target != ord(char)).astype(np.int64)
        diagonal = np.minimum(row[1:] + 1, row[:-1] + cost)  # deletion or substitution
        new = np.concatenate([[row[0] + 1], diagonal])
        # insertions run left to right: new[j] = min over k <= j of new[k] + (j - k)
        row = np.minimum.accumulate(new - ramp) + ramp
    return int(row[-1])


def character_accuracy(true: str, read: str, *, whitespace: bool = True) -> float:
    if not whitespace:
        true, read = "".join(true.split()), "".join(read.split())
    if not true:
        return 1.0 if not read else 0.0
    return max(0.0, 1.0 - edit_distance(true, read) / len(true))


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    rows = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    cols = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(rows, 0, None) * np.clip(cols, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-9)


def match_boxes(true: np.ndarray, found: np.ndarray, iou: float = IOU) -> np.ndarray:
    """(P, 2) index pairs (true, found), each box in at most one pair, IoU >= `iou`."""
    m = iou_matrix(true, found)
    i, j = np.nonzero(m >= iou)
    order = np.argsort(-m[i, j], kind="stable")
    used_t, used_f, pairs = set(), set(), []
    for t, f in zip(i[order].tolist(), j[order].tolist(), strict=True):
        if t not in used_t and f not in used_f:
            used_t.add(t)
            used_f.add(f)
            pairs.append((t, f))
    return np.array(sorted(pairs), np.int64).reshape(-1, 2)


def score_reading(page: Any, reading: Any) -> dict[str, Any]:
    """How a `Reading` of a generated `Page` compares with its truth: character accuracy
    with and without whitespace (and the edit distances and lengths behind them, to pool
    pages), box recall and precision, the (true, read) characters of matched boxes read
    wrongly, and of the true punctuation marks how many were found and read right."""
    pairs = match_boxes(page.boxes, reading.boxes)
    true_chars = np.array(page.chars, dtype=object)
    read_chars = np.array(reading.chars, dtype=object)
    t, f = pairs[:, 0], pairs[:, 1]
    wrong = true_chars[t] != read_chars[f] if len(pairs) else np.zeros(0, bool)
    squeezed = "".join(page.text.split()), "".join(reading.text.split())
    is_mark = np.isin(true_chars, list(".,-'")) if len(true_chars) else np.zeros(0, bool)
    marks_right = int(np.sum(is_mark[t] & ~wrong)) if len(pairs) else 0
    return {
        "characters": len(page.text),
        "letters": len(page.boxes),
        "accuracy": character_accuracy(page.text, reading.text),
        "accuracy_no_whitespace": character_accuracy(page.text, reading.text, whitespace=False),
        "edits": edit_distance(page.text, reading.text),
        "edits_no_whitespace": edit_distance(*squeezed),
        "length_no_whitespace": len(squeezed[0]),
        "box_recall": len(pairs) / max(len(page.boxes), 1),
        "box_precision": len(pairs) / max(len(reading.boxes), 1) if len(reading.boxes) else 1.0,
        "boxes_found": len(reading.boxes),
        "boxes_matched": len(pairs),
        "confusions": [
            (str(a), str(b))
            for a, b in zip(true_chars[t][wrong], read_chars[f][wrong], strict=True)
        ],
        "punctuation_true": int(is_mark.sum()),
        "punctuation_read": marks_right,
    }
