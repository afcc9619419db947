"""layer-gradients: ∂J/∂W = δxᵀ, ∂J/∂x = Wᵀδ and ∂J/∂b = δ for one linear layer, written out
beside PyTorch autograd's values (seed 004 Q1.5).

The layer is the seed's ``y = Wx + b`` with column vectors: ``W`` is (outputs × inputs), 3 inputs
and 2 outputs by default. Its values, the inputs and the targets are drawn from the run's seed
and rounded to one decimal, so the matrices can be checked by hand. The loss is squared error
summed over the batch, ``J = ½ Σ_n ||y_n − t_n||²``, so the gradient arriving at the layer's
output is ``δ_n = ∂J/∂y_n = y_n − t_n``. From δ alone, by the chain rule:

* ``∂J/∂W_ij = Σ_n δ_in x_jn``: the outer product δxᵀ for one example, ΔXᵀ for a batch whose
  examples are the columns of X (k × N Δ times N × d Xᵀ: one sum of outer products);
* ``∂J/∂x = Wᵀδ``: each input collects the δ of every output it feeds, weighted; for a batch
  WᵀΔ, one column per example. The Jacobian ∂y/∂x of the layer *is* W (row i: how y_i moves with
  each input), and Wᵀδ is δ times that Jacobian: back-propagation multiplies by Jacobians
  from the left without ever forming the big ones (∂y/∂W has k × k × d entries, mostly 0);
* ``∂J/∂b = δ``, and for a batch the sum of the columns of Δ (the bias is added to every
  example).

Each is shown for a batch of 1 and of 4 (``batch_sizes``) beside ``torch.autograd``'s gradient of
the same J in float64, with the largest absolute difference; also the full Jacobian ∂y/∂x from
``torch.autograd.functional.jacobian`` against W, and the NumPy engine's ``Linear.backward``
(which stores W transposed, ``x @ W + b`` on rows) against the same formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run

QUANTITIES = ("dW", "dx", "db")
NAMES = {"dW": "∂J/∂W = ΔXᵀ", "dx": "∂J/∂x = WᵀΔ", "db": "∂J/∂b = Δ·1"}


@dataclass
class Config(ExperimentConfig):
    inputs: int = param(3, low=1, high=12, help="inputs of the layer (d)")
    outputs: int = param(2, low=1, high=12, help="outputs of the layer (k)")
    batch_sizes: tuple[int, ...] = param(
        (1, 4), low=1, high=12, help="examples per batch, one table each"
    )

    def check(self) -> None:
        if not self.batch_sizes:
            raise ConfigError("setting 'batch_sizes' needs at least one size, e.g. batch_sizes=1,4")


# The layer is the same in every preset: the presets only exist because every experiment has them.
PRESETS: dict[str, dict[str, Any]] = {"smoke": {}, "quick": {}, "full": {}}


@dataclass
class Layer:
    """A linear layer and one batch, columns as examples: W (k, d), b (k,), X (d, N), T (k, N)."""

    W: np.ndarray
    b: np.ndarray
    X: np.ndarray
    T: np.ndarray


def draw_layer(inputs: int, outputs: int, batch: int, rng: np.random.Generator) -> Layer:
    """Values in [-1, 1] rounded to one decimal (float64)."""

    def draw(*shape: int) -> np.ndarray:
        return rng.integers(-10, 11, size=shape) / 10.0

    return Layer(draw(outputs, inputs), draw(outputs), draw(inputs, batch), draw(outputs, batch))


def by_hand(layer: Layer) -> dict[str, np.ndarray]:
    """The forward pass, δ = y − t, and the three gradients by the formulas of Q1.5."""
    y = layer.W @ layer.X + layer.b[:, None]
    delta = y - layer.T
    return {
        "y": y,
        "delta": delta,
        "dW": delta @ layer.X.T,
        "dx": layer.W.T @ delta,
        "db": delta.sum(axis=1),
    }


def by_autograd(layer: Layer) -> dict[str, np.ndarray]:
    """The same J = ½ Σ ||Wx + b − t||² differentiated by torch.autograd (float64), its δ
    (the gradient reaching y) and the Jacobian ∂y/∂x of the first example."""
    import torch

    W, b, X = (
        torch.tensor(a, dtype=torch.float64, requires_grad=True)
        for a in (layer.W, layer.b, layer.X)
    )
    y = W @ X + b[:, None]
    y.retain_grad()
    J = 0.5 * ((y - torch.tensor(layer.T)) ** 2).sum()
    J.backward()
    x0 = torch.tensor(layer.X[:, 0])
    jac = torch.autograd.functional.jacobian(lambda x: W.detach() @ x + b.detach(), x0)
    return {
        "delta": y.grad.numpy(),
        "dW": W.grad.numpy(),
        "dx": X.grad.numpy(),
        "db": b.grad.numpy(),
        "jacobian": jac.numpy(),
    }


def by_engine(layer: Layer, delta: np.ndarray) -> dict[str, np.ndarray]:
    """nnlab.scratch's Linear (rows as examples, weight stored as Wᵀ) given the same δ, its
    gradients put back in the column convention."""
    from nnlab.scratch import Linear

    k, d = layer.W.shape
    lin = Linear(d, k, init="zeros")
    lin.params["W"][...] = layer.W.T
    lin.params["b"][...] = layer.b
    lin.forward(layer.X.T)
    dx_rows = lin.backward(delta.T)
    return {"dW": lin.grads["W"].T, "dx": dx_rows.T, "db": lin.grads["b"]}


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """The largest |a − b|; arrays of different shapes are an error, never broadcast."""
    import numpy as np

    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b)))


# --------------------------------------------------------------------------- formatting


def matrix_lines(name: str, m: np.ndarray) -> list[str]:
    """``name`` over the rows of ``m`` (a vector is shown as a column), numbers to 2 decimals."""
    rows = m.reshape(-1, 1) if m.ndim == 1 else m
    body = ["[" + " ".join(f"{v:6.2f}" for v in row) + " ]" for row in rows]
    return [name, *body]


def side_by_side(blocks: list[list[str]], gap: int = 4) -> list[str]:
    widths = [max(len(line) for line in block) for block in blocks]
    height = max(len(block) for block in blocks)
    lines = []
    for i in range(height):
        parts = [
            (block[i] if i < len(block) else "").ljust(w)
            for block, w in zip(blocks, widths, strict=True)
        ]
        lines.append((" " * gap).join(parts).rstrip())
    return lines


# --------------------------------------------------------------------------- the recipe


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.viz import text_figure

    rng = np.random.default_rng(run.seed)
    differences: dict[str, dict[str, float]] = {}
    lines: list[str] = []
    for n in cfg.batch_sizes:
        layer = draw_layer(cfg.inputs, cfg.outputs, n, rng)
        hand, auto = by_hand(layer), by_autograd(layer)
        engine = by_engine(layer, hand["delta"])
        diffs = {q: max_abs_diff(hand[q], auto[q]) for q in QUANTITIES}
        diffs["delta"] = max_abs_diff(hand["delta"], auto["delta"])
        diffs["jacobian_is_W"] = max_abs_diff(auto["jacobian"], layer.W)
        diffs["engine"] = max(max_abs_diff(hand[q], engine[q]) for q in QUANTITIES)
        differences[f"batch_{n}"] = diffs

        lines += [f"batch of {n} (examples are columns)", ""]
        lines += side_by_side(
            [
                matrix_lines("W", layer.W),
                matrix_lines("b", layer.b),
                matrix_lines("X", layer.X),
                matrix_lines("T", layer.T),
                matrix_lines("Y = WX + b", hand["y"]),
                matrix_lines("Δ = Y − T", hand["delta"]),
            ]
        )
        lines.append("")
        for q in QUANTITIES:
            lines += side_by_side(
                [
                    matrix_lines(f"{NAMES[q]} (by hand)", hand[q]),
                    matrix_lines("autograd", auto[q]),
                    [f"max |diff| {diffs[q]:.1e}"],
                ]
            )
            lines.append("")
        if n == cfg.batch_sizes[0]:
            lines += side_by_side(
                [
                    matrix_lines("∂y/∂x of example 1 (autograd Jacobian)", auto["jacobian"]),
                    [f"= W within {diffs['jacobian_is_W']:.1e}"],
                ]
            )
            lines.append("")
        lines += [f"engine Linear.backward vs by hand: max |diff| {diffs['engine']:.1e}", ""]
    text = "\n".join(lines).rstrip() + "\n"
    run.write_text("gradients.txt", text)
    if not run.quiet:
        print(text)
    run.figure(
        "gradients",
        text_figure(
            text.splitlines(),
            f"y = Wx + b, {cfg.inputs} inputs → {cfg.outputs} outputs, "
            "J = ½ Σ‖y − t‖²: the gradients by hand beside autograd",
        ),
        "For each batch: the layer (W, b), the inputs X and targets T (one column per "
        "example), the output and δ = ∂J/∂y; then ∂J/∂W = ΔXᵀ, ∂J/∂x = WᵀΔ and ∂J/∂b = Δ·1 "
        "by hand beside torch.autograd, with the largest difference; the Jacobian ∂y/∂x is W.",
    )
    worst = max(
        v for diffs in differences.values() for k, v in diffs.items() if k != "jacobian_is_W"
    )
    return {
        "max_abs_diff": worst,
        "jacobian_is_W": max(d["jacobian_is_W"] for d in differences.values()),
        "differences": differences,
        "inputs": cfg.inputs,
        "outputs": cfg.outputs,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
