"""perceptron: Rosenblatt's learning rule on OR, AND and XOR (seed 003, "Perceptron").

A perceptron predicts ŷ = [w·x + b > 0] and, after each example, moves its weights by
w ← w + η (y − ŷ) x, b ← b + η (y − ŷ): nothing when it is right, towards x when it said 0 to
a 1, away from x when it said 1 to a 0. The rule is sequential by nature (each update changes
the next prediction), so it visits the four points one at a time, in a fixed order per epoch.

* **OR** and **AND** are linearly separable: the convergence theorem promises an epoch without
  mistakes after finitely many updates; the run reports that epoch and the separating line.
* **XOR** is not: every epoch makes mistakes, and since the weights only ever take values on the
  lattice η·ℤ³ the sequence of weights at the start of each epoch must repeat: the run finds the
  first repeat, i.e. the cycle (its length in epochs) the weight vector goes round for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run

#: Truth tables on the inputs (0,0), (0,1), (1,0), (1,1), in that order.
GATES = {"OR": (0, 1, 1, 1), "AND": (0, 0, 0, 1), "XOR": (0, 1, 1, 0)}


@dataclass
class Config(ExperimentConfig):
    lr: float = param(1.0, low=0.0, low_open=True, high=100.0, help="η of the learning rule")
    epochs: int = param(30, low=1, high=100_000, help="passes over the four points at most")
    init: tuple[float, ...] = param(
        (0.0, 0.0, 0.0), low=-100.0, high=100.0, help="starting w1, w2, b"
    )

    def check(self) -> None:
        from nnlab.errors import ConfigError

        if len(self.init) != 3:
            raise ConfigError(f"init needs three numbers w1,w2,b, e.g. init=0,0,0; got {self.init}")


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"epochs": 15},
    "quick": {},
    "full": {"epochs": 1000},
}


def train_perceptron(
    X: np.ndarray, y: np.ndarray, lr: float, epochs: int, init: tuple[float, ...]
) -> dict[str, Any]:
    """The perceptron rule, one example at a time, for at most ``epochs`` epochs; stops after
    an epoch without mistakes. ``cycle``: the first epoch whose starting weights come back, and
    after how many epochs (from then on the run repeats itself exactly)."""
    import numpy as np

    w = np.array(init, dtype=np.float64)  # (w1, w2, b)
    Xb = np.column_stack([X, np.ones(len(X))])
    mistakes, starts, path = [], [tuple(w)], [w.copy()]
    converged_at = cycle = None
    for epoch in range(1, epochs + 1):
        wrong = 0
        for x, target in zip(Xb, y, strict=True):
            error = target - float(x @ w > 0)
            if error:
                w += lr * error * x
                wrong += 1
            path.append(w.copy())
        mistakes.append(wrong)
        if wrong == 0:
            converged_at = epoch
            break
        if cycle is None and tuple(w) in starts:
            first = starts.index(tuple(w))
            cycle = {"from_epoch": first + 1, "length": epoch - first}
        starts.append(tuple(w))
    return {
        "weights": w,
        "mistakes_per_epoch": mistakes,
        "converged_at_epoch": converged_at,
        "updates": int(sum(mistakes)),
        "cycle": cycle,
        "path": np.array(path),
        "accuracy": float(np.mean((Xb @ w > 0) == y)),
    }


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.viz import text_figure, text_table
    from nnlab.viz.fundamentals import perceptron_figure

    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    results = {
        gate: train_perceptron(X, np.array(t, dtype=np.float64), cfg.lr, cfg.epochs, cfg.init)
        for gate, t in GATES.items()
    }
    xor = results["XOR"]
    run.figure(
        "perceptron",
        perceptron_figure(
            {g: r["mistakes_per_epoch"] for g, r in results.items()},
            xor["path"][: 4 * 10 + 1],  # the first ten epochs: the loop is already plain
            {g: (r["weights"], np.array(GATES[g])) for g, r in results.items()},
            X,
        ),
        f"Left: mistakes per epoch (η = {cfg.lr:g}, start w = {list(cfg.init)}); OR and AND reach "
        "an epoch without mistakes, XOR never does (its weights go round a cycle). "
        "Middle: XOR's weights after every example of the first ten epochs: the same loop again "
        "and again. Right: the final line w·x + b = 0 of each gate (a point on the line is "
        "predicted 0: the rule uses w·x + b > 0).",
    )
    rows = [
        (
            g,
            "".join(map(str, GATES[g])),
            str(r["converged_at_epoch"] or "never"),
            r["updates"],
            " ".join(map(str, r["mistakes_per_epoch"])),
            "–"
            if r["cycle"] is None
            else f"length {r['cycle']['length']} from epoch {r['cycle']['from_epoch']}",
            f"{r['accuracy']:.0%}",
        )
        for g, r in results.items()
    ]
    run.figure(
        "epochs_table",
        text_figure(
            text_table(
                ("gate", "y", "converged", "updates", "mistakes per epoch", "cycle", "acc"), rows
            ),
            "Perceptron rule: epochs to converge, or the cycle",
        ),
        "Epoch of the first pass without mistakes, total updates, mistakes in every epoch, and "
        "the cycle of the weights (XOR).",
    )
    return {
        **{
            gate.lower(): {
                "converged": r["converged_at_epoch"] is not None,
                "epochs_to_converge": r["converged_at_epoch"],
                "updates": r["updates"],
                "mistakes_per_epoch": r["mistakes_per_epoch"],
                "final_weights": [float(v) for v in r["weights"]],
                "accuracy": r["accuracy"],
                "cycle": r["cycle"],
            }
            for gate, r in results.items()
        },
        "xor_min_mistakes_per_epoch": int(min(xor["mistakes_per_epoch"])),
        "gates_converged": sum(r["converged_at_epoch"] is not None for r in results.values()),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
