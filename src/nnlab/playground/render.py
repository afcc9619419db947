"""What the page draws of a network, and the code that rebuilds it: pure functions of a
`nnlab.scratch` model, its settings and points, with no state of their own (`session` holds the
state and calls them under its lock).

Pictures come from one batched forward pass over a grid covering [-6, 6]^2, quantised to bytes
and base64-encoded: the output heat-map (GRID x GRID) and one thumbnail per input and neuron
(every THUMB_STRIDE-th cell). The warp view maps a regular grid of input lines and the data
through the network up to one hidden layer.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from nnlab.playground.datasets import EXTENT
from nnlab.playground.settings import INPUTS, Settings
from nnlab.scratch import Activation, Dropout, Linear, Sequential, softmax

GRID = 64  # output heat-map is GRID x GRID; thumbnails take every THUMB_STRIDE-th cell
THUMB_STRIDE = 2
WARP_LINES = 13  # the warp view's grid: lines x1 = -6, -5, ..., 6 and the same in x2
WARP_SAMPLES = 49  # points along each line


def features(points: np.ndarray, inputs: list[str]) -> np.ndarray:
    """The chosen input columns for points of shape (n, 2)."""
    x1, x2 = points[:, 0], points[:, 1]
    columns = {
        "x1": lambda: x1,
        "x2": lambda: x2,
        "x1^2": lambda: x1 * x1,
        "x2^2": lambda: x2 * x2,
        "x1*x2": lambda: x1 * x2,
        "sin_x1": lambda: np.sin(x1),
        "sin_x2": lambda: np.sin(x2),
    }
    return np.stack([columns[name]() for name in inputs], axis=1)


def _grid_points(n: int) -> np.ndarray:
    # row 0 is the top of the picture (x2 = +EXTENT), as a canvas draws it
    axis = np.linspace(-EXTENT, EXTENT, n)
    x1, x2 = np.meshgrid(axis, axis[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


GRID_POINTS = _grid_points(GRID)
_THUMB_INDEX = np.arange(GRID * GRID).reshape(GRID, GRID)[::THUMB_STRIDE, ::THUMB_STRIDE].ravel()


def _input_pictures() -> dict[str, str]:
    """Every input feature over the thumbnail grid, each scaled to span [-1, 1]."""
    if not _INPUT_PICTURES:
        columns = features(GRID_POINTS[_THUMB_INDEX], list(INPUTS))
        columns = columns / np.abs(columns).max(axis=0)
        _INPUT_PICTURES.update({name: _bytes(columns[:, j]) for j, name in enumerate(INPUTS)})
    return _INPUT_PICTURES


_INPUT_PICTURES: dict[str, str] = {}


def _warp_lines() -> np.ndarray:
    """(2 * WARP_LINES, WARP_SAMPLES, 2): first the lines x1 = const (bottom to top), then the
    lines x2 = const (left to right), each from -EXTENT to EXTENT."""
    ticks = np.linspace(-EXTENT, EXTENT, WARP_LINES)
    along = np.linspace(-EXTENT, EXTENT, WARP_SAMPLES)
    at_x1 = np.stack(np.broadcast_arrays(ticks[:, None], along[None, :]), axis=-1)
    at_x2 = np.stack(np.broadcast_arrays(along[None, :], ticks[:, None]), axis=-1)
    return np.concatenate([at_x1, at_x2])


_WARP_LINES = _warp_lines()


def _bytes(values: np.ndarray) -> str:
    """Values in [-1, 1] (clipped; NaN -> 0) as base64 of uint8 0..255."""
    v = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0)
    q = np.round((np.clip(v, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def _coordinates(a: np.ndarray) -> list:
    """Rounded to 3 decimals as nested lists; NaN and infinity become None (JSON null)."""
    out = np.round(a, 3).astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def forward(
    model: Sequential, inputs: list[str], points: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """(output, [each hidden layer's activations]) at ``points`` (n, 2), evaluation mode."""
    x = features(points, inputs)
    hidden = []
    with np.errstate(all="ignore"):
        for i, layer in enumerate(model.layers):
            x = layer.forward(x, training=False)
            nxt = model.layers[i + 1] if i + 1 < len(model.layers) else None
            if isinstance(layer, Activation) and isinstance(nxt, (Linear, Dropout)):
                hidden.append(x)
    return x, hidden


def _output_picture(out: np.ndarray, s: Settings) -> dict[str, str]:
    if s.loss == "cross_entropy":
        probs = softmax(out)
        if s.n_classes == 2:
            return {"value": _bytes(2 * probs[:, 1] - 1)}
        return {
            "class": base64.b64encode(np.argmax(probs, 1).astype(np.uint8).tobytes()).decode(),
            "confidence": _bytes(2 * probs.max(axis=1) - 1),
        }
    return {"value": _bytes(out[:, 0])}


def pictures(model: Sequential, settings: Settings) -> dict[str, Any]:
    """The frame's pictures: ``output`` (the heat-map), ``inputs`` (one thumbnail per input
    feature) and ``neurons`` (one per hidden neuron, layer by layer)."""
    out, hidden = forward(model, settings.inputs, GRID_POINTS)
    return {
        "grid": GRID,
        "thumb": GRID // THUMB_STRIDE,
        "output": _output_picture(out, settings),
        "inputs": _input_pictures(),
        "neurons": [[_bytes(h[_THUMB_INDEX, j]) for j in range(h.shape[1])] for h in hidden],
    }


def warp_images(
    model: Sequential, inputs: list[str], points: np.ndarray, layer: int
) -> dict[str, list]:
    """The images under hidden layer ``layer``'s first two neurons of the grid lines
    (``lines``, x1 = const first) and of ``points`` (``points``); non-finite values are None."""
    n_grid = _WARP_LINES.shape[0] * _WARP_LINES.shape[1]
    _, hidden = forward(model, inputs, np.vstack([_WARP_LINES.reshape(-1, 2), points]))
    h = hidden[layer][:, :2]
    return {
        "lines": _coordinates(h[:n_grid].reshape(*_WARP_LINES.shape)),
        "points": _coordinates(h[n_grid:]),
    }


def python_snippet(exported: dict[str, Any]) -> str:
    """Python source that rebuilds an exported network with nnlab.scratch and predicts."""
    s = exported["settings"]
    loss = s["loss"]
    regression = s["dataset"] in ("plane", "multigauss") or s.get("custom_target") == "value"
    if regression:
        decide = "out[:, 0]  # the predicted value"
    elif loss == "cross_entropy":
        decide = "out.argmax(axis=1)  # the class with the largest logit"
    else:
        decide = "(out[:, 0] > 0).astype(int)  # tanh output: class 1 where it is positive"
    state = json.dumps(exported["state"])
    return f'''"""A network trained for {exported["epoch"]} epochs in the nnlab playground
(data: {s["dataset"]}, test loss {exported["latest"]["test_loss"]}), rebuilt with nnlab.scratch."""
import numpy as np

from nnlab.scratch import mlp

INPUTS = {json.dumps(s["inputs"])}
model = mlp(
    {exported["sizes"]},
    {json.dumps(s["activations"])},
    output_activation={exported["output_activation"]!r},
    dropout={s["dropout"]!r},  # only while training; predict() does not drop
)
STATE = {state}
model.load_state_dict({{name: np.array(value) for name, value in STATE.items()}})


def features(points):
    """The network's input columns for points (x1, x2) in [-6, 6]^2."""
    x1, x2 = points[:, 0], points[:, 1]
    columns = {{
        "x1": x1, "x2": x2, "x1^2": x1 * x1, "x2^2": x2 * x2, "x1*x2": x1 * x2,
        "sin_x1": np.sin(x1), "sin_x2": np.sin(x2),
    }}
    return np.stack([columns[name] for name in INPUTS], axis=1)


def predict(points):
    out = model.predict(features(np.asarray(points, dtype=float).reshape(-1, 2)))
    return {decide}


if __name__ == "__main__":
    print(predict([[0.0, 0.0], [3.0, -2.0]]))
'''
