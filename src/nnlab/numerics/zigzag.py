"""Why zero-centred inputs help a neuron learn (seed 003: "sigmoid is not zero-centred").

A linear neuron y = w·x learns by SGD, one example at a time, with the squared error
½(w·x − t)². Its gradient is (w·x − t) x: one scalar times the input. When every input is
positive (the outputs of a sigmoid layer) every component of that gradient has the same sign,
so each update moves all weights up together or down together. Reaching weights of mixed
signs, such as w* = (1, −1), then takes a zig-zag of ++ and −− steps. Zero-centred inputs
(tanh) allow updates in every direction.

    path = neuron_sgd_path(inputs, w_star=np.array([1.0, -1.0]), lr=0.5)
    path["same_sign_fraction"]   # 1.0 for positive inputs, about 0.5 for centred ones
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def neuron_sgd_path(
    inputs: np.ndarray, w_star: np.ndarray, lr: float, tol: float = 0.01
) -> dict[str, object]:
    """SGD from w = 0 on ½(w·x − w*·x)², one row of ``inputs`` per step, until
    ‖w − w*‖ < tol ‖w*‖ or the rows run out. Returns ``path`` (the weights before every step
    and after the last), ``steps`` (steps taken; None when it never got within tol or
    diverged), ``same_sign_fraction`` (share of the steps whose gradient components all had
    one sign, over the steps taken) and ``diverged``."""
    w = np.zeros_like(w_star, dtype=np.float64)
    path, same = [w.copy()], []
    reached, diverged = False, False
    with np.errstate(over="ignore", invalid="ignore"):
        for x in inputs:
            grad = (x @ w - x @ w_star) * x
            same.append(bool(np.all(grad > 0) or np.all(grad < 0)))
            w = w - lr * grad
            path.append(w.copy())
            if not np.all(np.isfinite(w)) or np.linalg.norm(w) > 1e6:
                diverged = True
                break
            if np.linalg.norm(w - w_star) < tol * np.linalg.norm(w_star):
                reached = True
                break
    return {
        "path": np.array(path),
        "steps": len(same) if reached else None,
        "same_sign_fraction": float(np.mean(same)),
        "diverged": diverged,
    }


def fastest_rate(inputs: np.ndarray, w_star: np.ndarray, lrs: Sequence[float], tol: float = 0.01):
    """(lr, path) of the learning rate in ``lrs`` that reaches w* in the fewest steps (the
    smaller lr on a tie); (None, None) when none reaches it."""
    best = None
    for lr in sorted(lrs):
        path = neuron_sgd_path(inputs, w_star, lr, tol)
        if path["steps"] is not None and (best is None or path["steps"] < best[1]["steps"]):
            best = (lr, path)
    return best if best is not None else (None, None)
