"""backprop-by-hand: one gradient-descent step of a 2-2-2 sigmoid network, every number shown.

The network and its parameter names follow Matt Mazur's classic worked example ("A Step by
Step Backpropagation Example", 2015), which is also seed 001 Problem 3::

    inputs      hidden                               outputs
    x1 ──w1──▶ h1 = σ(z_h1),  z_h1 = w1·x1 + w2·x2 + b1    o1 = σ(z_o1),  z_o1 = w5·h1 + w6·h2 + b2
    x2 ──w4──▶ h2 = σ(z_h2),  z_h2 = w3·x1 + w4·x2 + b1    o2 = σ(z_o2),  z_o2 = w7·h1 + w8·h2 + b2

So w1..w4 go input → hidden (w1: x1→h1, w2: x2→h1, w3: x1→h2, w4: x2→h2), w5..w8 go
hidden → output (w5: h1→o1, w6: h2→o1, w7: h1→o2, w8: h2→o2), and **one bias is shared by a
layer**: b1 feeds both hidden units and b2 both outputs, so ∂C/∂b1 = δ_h1 + δ_h2 and
∂C/∂b2 = δ_o1 + δ_o2. In the engine's ``x @ W + b`` convention the hidden layer's weight
matrix is ``[[w1, w3], [w2, w4]]`` (row = input, column = hidden unit) and its bias [b1, b1].

Costs (one training example, summed over the two outputs):

* ``cross_entropy`` (default): C = -Σ_j [t_j ln o_j + (1 - t_j) ln(1 - o_j)], so δ_o = o - t
  (seed 001 Problem 3 asks for this one);
* ``squared_error``: C = ½ Σ_j (t_j - o_j)², so δ_o = (o - t) · o (1 - o) (Mazur's choice).

δ of a unit is ∂C/∂z, its pre-activation; backpropagated, δ_h = σ'(z_h) ⊙ (W2 δ_o).
Then ∂C/∂w = δ(of the unit the weight feeds) × (the activation the weight multiplies).

The forward and backward passes are the scratch engine's (``Linear``, ``Activation("sigmoid")``
and its losses); each gradient is shown beside its central-difference estimate. The update
is one step of gradient descent, θ ← θ - η ∂C/∂θ, on all ten parameters. Mazur leaves the
biases alone; ``update_biases=false`` reproduces that (the weight updates are the same
either way, since every gradient is taken at the old parameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run
    from nnlab.scratch import Activation, Linear

PARAMS = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2")
UNITS = ("h1", "h2", "o1", "o2")

#: What each parameter multiplies and which unit it feeds: (input name, unit name).
EDGES = {
    "w1": ("x1", "h1"),
    "w2": ("x2", "h1"),
    "w3": ("x1", "h2"),
    "w4": ("x2", "h2"),
    "w5": ("h1", "o1"),
    "w6": ("h2", "o1"),
    "w7": ("h1", "o2"),
    "w8": ("h2", "o2"),
}


COST_NAMES = {"cross_entropy": "cross-entropy", "squared_error": "squared error ½Σ(t−o)²"}


@dataclass
class Config(ExperimentConfig):
    x1: float = param(0.05, help="input 1")
    x2: float = param(0.10, help="input 2")
    w1: float = param(0.15, help="weight x1 -> h1")
    w2: float = param(0.20, help="weight x2 -> h1")
    w3: float = param(0.25, help="weight x1 -> h2")
    w4: float = param(0.30, help="weight x2 -> h2")
    w5: float = param(0.40, help="weight h1 -> o1")
    w6: float = param(0.45, help="weight h2 -> o1")
    w7: float = param(0.50, help="weight h1 -> o2")
    w8: float = param(0.55, help="weight h2 -> o2")
    b1: float = param(0.35, help="bias shared by h1 and h2")
    b2: float = param(0.60, help="bias shared by o1 and o2")
    t1: float = param(0.01, low=0.0, high=1.0, help="target of o1")
    t2: float = param(0.99, low=0.0, high=1.0, help="target of o2")
    lr: float = param(0.5, low=0.0, help="learning rate eta")
    cost: Literal["cross_entropy", "squared_error"] = "cross_entropy"
    update_biases: bool = param(True, help="false: update only w1..w8, as Mazur does")
    eps: float = param(1e-5, low=0.0, low_open=True, help="central-difference step")


# One step is one step: the presets only exist because every experiment has them.
PRESETS: dict[str, dict[str, Any]] = {"smoke": {}, "quick": {}, "full": {}}


# --------------------------------------------------------------------------- the network


@dataclass
class Pass:
    """Everything one forward + backward pass computes (1-D arrays of length 2)."""

    z_h: np.ndarray
    h: np.ndarray
    z_o: np.ndarray
    o: np.ndarray
    cost: float
    delta_o: np.ndarray
    delta_h: np.ndarray
    grads: dict[str, float]


def _layers(p: dict[str, float]) -> tuple[Linear, Activation, Linear, Activation]:
    """The engine layers holding the parameters ``p`` (Mazur's names) in float64."""
    from nnlab.scratch import Activation, Linear

    hidden, output = Linear(2, 2, init="zeros"), Linear(2, 2, init="zeros")
    hidden.params["W"][...] = [[p["w1"], p["w3"]], [p["w2"], p["w4"]]]
    hidden.params["b"][...] = [p["b1"], p["b1"]]
    output.params["W"][...] = [[p["w5"], p["w7"]], [p["w6"], p["w8"]]]
    output.params["b"][...] = [p["b2"], p["b2"]]
    return hidden, Activation("sigmoid"), output, Activation("sigmoid")


def forward_backward(
    p: dict[str, float], x: Sequence[float], t: Sequence[float], cost: str
) -> Pass:
    """One forward and backward pass of the engine on one example."""
    import numpy as np

    from nnlab.scratch import binary_cross_entropy_with_logits, squared_error

    hidden, act_h, output, act_o = _layers(p)
    xb = np.asarray([x], dtype=np.float64)
    tb = np.asarray([t], dtype=np.float64)
    z_h = hidden.forward(xb)
    h = act_h.forward(z_h)
    z_o = output.forward(h)
    o = act_o.forward(z_o)
    if cost == "cross_entropy":
        # fused with the output sigmoid: exact for any z, and dC/dz_o = o - t directly
        c, delta_o = binary_cross_entropy_with_logits(z_o, tb)
    elif cost == "squared_error":
        c, dc_do = squared_error(o, tb)
        delta_o = act_o.backward(dc_do)
    else:
        raise ValueError(f"unknown cost {cost!r}; use cross_entropy or squared_error")
    delta_h = act_h.backward(output.backward(delta_o))
    hidden.backward(delta_h)
    (gw1, gw3), (gw2, gw4) = hidden.grads["W"]
    (gw5, gw7), (gw6, gw8) = output.grads["W"]
    grads = dict(zip(PARAMS[:8], (gw1, gw2, gw3, gw4, gw5, gw6, gw7, gw8), strict=True))
    grads["b1"] = hidden.grads["b"].sum()  # b1 is shared: its gradient sums both units'
    grads["b2"] = output.grads["b"].sum()
    return Pass(
        z_h=z_h[0],
        h=h[0],
        z_o=z_o[0],
        o=o[0],
        cost=c,
        delta_o=delta_o[0],
        delta_h=delta_h[0],
        grads={k: float(v) for k, v in grads.items()},
    )


def cost_of(p: dict[str, float], x: Sequence[float], t: Sequence[float], cost: str) -> float:
    return forward_backward(p, x, t, cost).cost


def numerical_gradients(
    p: dict[str, float], x: Sequence[float], t: Sequence[float], cost: str, eps: float
) -> dict[str, float]:
    """Central differences (C(θ + ε) - C(θ - ε)) / 2ε for each of the ten parameters."""
    import numpy as np

    from nnlab.scratch import numerical_gradient

    theta = np.array([p[k] for k in PARAMS], dtype=np.float64)

    def c() -> float:
        return cost_of(dict(zip(PARAMS, theta.tolist(), strict=True)), x, t, cost)

    numeric = numerical_gradient(c, theta, eps=eps)
    return {k: float(v) for k, v in zip(PARAMS, numeric, strict=True)}


def sgd_step(
    p: dict[str, float], grads: dict[str, float], lr: float, update_biases: bool = True
) -> dict[str, float]:
    """θ - η ∂C/∂θ for every parameter (the biases kept when ``update_biases`` is False)."""
    return {
        k: p[k] - lr * grads[k] if (update_biases or k.startswith("w")) else p[k] for k in PARAMS
    }


# --------------------------------------------------------------------------- formatting


def _f(v: float) -> str:
    """Fixed point with 12 decimals, so a right-aligned column lines up at the decimal point."""
    return f"{v:.12f}"


def _g(v: float, digits: int = 6) -> str:
    return f"{v:.{digits}g}"


# --------------------------------------------------------------------------- the recipe


def run(cfg: Config, run: Run) -> dict[str, Any]:
    from nnlab.viz import backprop_step_figure, text_figure, text_table

    p = {k: getattr(cfg, k) for k in PARAMS}
    x, t = (cfg.x1, cfg.x2), (cfg.t1, cfg.t2)
    before = forward_backward(p, x, t, cfg.cost)
    numeric = numerical_gradients(p, x, t, cfg.cost, cfg.eps)
    updated = sgd_step(p, before.grads, cfg.lr, cfg.update_biases)
    after = forward_backward(updated, x, t, cfg.cost)
    diffs = {k: abs(before.grads[k] - numeric[k]) for k in PARAMS}
    run.log(0, cost=before.cost)
    run.log(1, cost=after.cost)

    pre = dict(zip(UNITS, [*before.z_h, *before.z_o], strict=True))
    act = dict(zip(UNITS, [*before.h, *before.o], strict=True))
    deltas = dict(zip(UNITS, [*before.delta_h, *before.delta_o], strict=True))

    def floats(d: dict[str, Any]) -> dict[str, float]:
        return {k: float(v) for k, v in d.items()}

    run.figure(
        "network",
        backprop_step_figure(
            inputs={"x1": cfg.x1, "x2": cfg.x2},
            targets={"o1": cfg.t1, "o2": cfg.t2},
            edges=EDGES,
            before=p,
            after=updated,
            units={u: (pre[u], act[u], deltas[u]) for u in UNITS},
            title=f"One step of backprop, {COST_NAMES[cfg.cost]} cost, η = {_g(cfg.lr)}: "
            f"C = {_g(before.cost, 9)} → {_g(after.cost, 9)}",
        ),
        "The 2-2-2 network (Mazur's convention: w1..w4 input→hidden, w5..w8 hidden→output, "
        "one bias per layer). Edges: weight before → after one gradient step. Nodes: "
        "pre-activation z, activation σ(z) and δ = ∂C/∂z.",
    )
    forward_rows = [(u, _f(pre[u]), _f(act[u]), _f(deltas[u]), _formula(u)) for u in UNITS]
    grad_rows = [
        (
            k,
            _grad_formula(k),
            _f(before.grads[k]),
            _f(numeric[k]),
            f"{diffs[k]:.1e}",
            _g(p[k], 10),
            _f(updated[k]),
        )
        for k in PARAMS
    ]
    lines = [
        *text_table(("unit", "z (pre-activation)", "a = σ(z)", "δ = ∂C/∂z", "z ="), forward_rows),
        "",
        *text_table(
            ("θ", "∂C/∂θ =", "∂C/∂θ (backprop)", "central diff.", "|diff|", "θ", "θ − η ∂C/∂θ"),
            grad_rows,
        ),
        "",
        f"cost before {_g(before.cost, 12)}   after {_g(after.cost, 12)}   "
        f"max |backprop − numeric| {max(diffs.values()):.2e}",
    ]
    run.figure(
        "values",
        text_figure(lines, f"Every value of the step ({cfg.cost}, η = {_g(cfg.lr)})"),
        "Forward pass (z, activation) and δ per unit; each gradient beside its central-difference "
        "estimate; parameters before and after the step.",
    )
    return {
        "cost_function": cfg.cost,
        "convention": "h1=σ(w1x1+w2x2+b1), h2=σ(w3x1+w4x2+b1), "
        "o1=σ(w5h1+w6h2+b2), o2=σ(w7h1+w8h2+b2)",
        "cost_before": before.cost,
        "cost_after": after.cost,
        "pre_activations": floats(pre),
        "activations": floats(act),
        "delta_output": floats({"o1": deltas["o1"], "o2": deltas["o2"]}),
        "delta_hidden": floats({"h1": deltas["h1"], "h2": deltas["h2"]}),
        "gradients": {
            k: {"backprop": before.grads[k], "numeric": numeric[k], "abs_diff": diffs[k]}
            for k in PARAMS
        },
        "max_grad_error": float(max(diffs.values())),
        "updated": floats(updated),
    }


def _formula(unit: str) -> str:
    return {
        "h1": "w1·x1 + w2·x2 + b1",
        "h2": "w3·x1 + w4·x2 + b1",
        "o1": "w5·h1 + w6·h2 + b2",
        "o2": "w7·h1 + w8·h2 + b2",
    }[unit]


def _grad_formula(k: str) -> str:
    if k in EDGES:
        source, unit = EDGES[k]
        return f"δ_{unit}·{source}"
    return "δ_h1 + δ_h2" if k == "b1" else "δ_o1 + δ_o2"


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
