"""xor: why a hidden layer is needed, on the four points of XOR (seed 003, "Learning XOR").

Three models of y = x1 XOR x2 on the inputs {0, 1}²:

(a) the lecture's hand-set two-layer network with a step non-linearity g(z) = [z > 0]::

        v1 = g(-0.5 + x1 - x2)     (x1 AND NOT x2)
        v2 = g(-0.5 - x1 + x2)     (NOT x1 AND x2)
        y  = g(-0.5 + v1 + v2)     (v1 OR v2)

    built from the engine's ``Linear`` layers with those weights: 4/4 correct;
(b) logistic regression, σ(w·x + b), trained by gradient descent: at most 3/4 correct. No line
    separates XOR -- if w·x + b > 0 at (0,1) and (1,0) and ≤ 0 at (0,0) and (1,1), adding the
    first pair gives w1 + w2 + 2b > 0 and adding the second gives w1 + w2 + 2b ≤ 0. The run
    also checks this with a linear program for every subset of the points: the largest subset
    a line can classify correctly has 3 points, so 75% is the best any linear classifier does
    (gradient descent heads for w = 0, b = 0, where every probability is 1/2);
(c) a small network, 2-H-1 (default 2-4-1 sigmoid, full-batch gradient descent with binary
    cross-entropy), trained by the engine: 4/4 correct. The defaults reach 100% from every
    seed tried (``robustness_seeds`` retrains from that many seeds and reports the success
    rate; ``--set hidden=2`` shows how often a 2-2-1 network gets stuck instead).

Optionally (``toy_n > 0``) the same architecture is trained on the noisy 2-D XOR toy set
(``nnlab.data.make_toy("xor")``) and scored on a fresh sample of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run
    from nnlab.scratch import Sequential

#: The plotted square: XOR's corners with a margin, and the noisy toy set.
XOR_RANGE, TOY_RANGE = (-0.5, 1.5), (-1.5, 1.5)
#: The four XOR points and their labels; as arrays ``X_XOR`` (4, 2) and ``Y_XOR`` (4, 1).
XOR_POINTS = ([0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0])
XOR_LABELS = ([0.0], [1.0], [1.0], [0.0])


def __getattr__(name: str) -> Any:
    """``X_XOR`` and ``Y_XOR``, made on first use: importing this module loads no NumPy."""
    if name in ("X_XOR", "Y_XOR"):
        import numpy as np

        return np.array(XOR_POINTS if name == "X_XOR" else XOR_LABELS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


LINEAR_BOUND_PROOF = (
    "if w·x+b > 0 at (0,1) and (1,0) and <= 0 at (0,0) and (1,1), summing each pair gives "
    "w1+w2+2b > 0 and w1+w2+2b <= 0: no line separates XOR, so a linear classifier gets at "
    "most 3 of the 4 points right"
)


@dataclass
class Config(ExperimentConfig):
    hidden: int = param(4, low=1, high=8_192, help="hidden units of the trained 2-H-1 network")
    activation: Literal["sigmoid", "tanh", "relu", "leaky_relu", "softplus"] = "sigmoid"
    lr: float = param(2.0, low=0.0, low_open=True, help="gradient-descent step of the network")
    epochs: int = param(2000, low=1, high=1_000_000, help="full-batch steps of the network")
    logreg_lr: float = param(1.0, low=0.0, low_open=True, help="step of logistic regression")
    logreg_epochs: int = param(2000, low=1, high=1_000_000)
    robustness_seeds: int = param(
        50, low=0, high=10_000, help="retrain the network from this many seeds"
    )
    toy_n: int = param(
        200, low=0, high=1_000_000, help="points of the noisy toy XOR set (0: skip it)"
    )
    toy_noise: float = param(0.1, low=0.0)
    toy_epochs: int = param(2000, low=1, high=1_000_000)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"robustness_seeds": 3, "toy_n": 100, "toy_epochs": 300},
    "quick": {},
    "full": {"robustness_seeds": 500, "toy_n": 1000, "toy_epochs": 5000},
}


# --------------------------------------------------------------------------- models


def hand_set_network() -> Sequential:
    """The lecture's network: v = g(x W1 + b1), y = g(v W2 + b2) with hand-chosen weights."""
    from nnlab.scratch import Linear, Sequential, Step

    first, second = Linear(2, 2, init="zeros"), Linear(2, 1, init="zeros")
    first.params["W"][...] = [[1.0, -1.0], [-1.0, 1.0]]  # column j: weights into v_j
    first.params["b"][...] = [-0.5, -0.5]
    second.params["W"][...] = [[1.0], [1.0]]
    second.params["b"][...] = [-0.5]
    return Sequential([first, Step(), second, Step()])


#: A logit must exceed this to predict class 1. Logistic regression on XOR converges to
#: w = b = 0, where the logits are rounding noise (~1e-16) around 0; they count as ties,
#: predicted 0, instead of letting the sign of the noise decide.
TIE = 1e-9


def _accuracy_of_logits(logits: np.ndarray, target: np.ndarray) -> float:
    from nnlab.scratch import accuracy

    return accuracy(logits, target, threshold=TIE)


def train(
    model: Sequential, X: np.ndarray, y: np.ndarray, lr: float, epochs: int, seed: int
) -> dict[str, list[float]]:
    """Full-batch gradient descent on binary cross-entropy of the model's logits."""
    from nnlab.scratch import SGD, binary_cross_entropy_with_logits, fit

    return fit(
        model,
        binary_cross_entropy_with_logits,
        SGD(model, lr=lr),
        X,
        y,
        epochs=epochs,
        batch_size=len(X),
        rng=seed,
        metrics={"accuracy": _accuracy_of_logits},
    )


def logistic_regression(seed: int) -> Sequential:
    from nnlab.scratch import mlp

    return mlp([2, 1], rng=seed)  # one Linear layer: the logit w·x + b


def network(hidden: int, activation: str, seed: int) -> Sequential:
    from nnlab.scratch import mlp

    return mlp([2, hidden, 1], activation, rng=seed)


def train_xor_network(
    hidden: int, activation: str, lr: float, epochs: int, seed: int
) -> tuple[Sequential, dict[str, list[float]]]:
    """A 2-hidden-1 network trained on the four XOR points; returns (model, history)."""
    import numpy as np

    model = network(hidden, activation, seed)
    return model, train(model, np.array(XOR_POINTS), np.array(XOR_LABELS), lr, epochs, seed)


def _epochs(hist: dict[str, list[float]]) -> range:
    return range(1, len(hist["train_loss"]) + 1)


def _first_epoch_at(values: list[float], target: float) -> int | None:
    """1-based epoch at which ``values`` first reaches ``target`` and stays there."""
    last_below = max((i for i, v in enumerate(values) if v < target), default=-1)
    return last_below + 2 if last_below + 1 < len(values) else None


# --------------------------------------------------------------------------- the recipe


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.data import make_toy
    from nnlab.numerics.metrics import max_linear_accuracy
    from nnlab.scratch import accuracy, sigmoid
    from nnlab.viz import (
        BoundaryPanel,
        Line,
        LinePanel,
        decision_boundaries,
        line_panels,
        predict_grid,
        text_figure,
        text_table,
    )

    X_XOR, Y_XOR = np.array(XOR_POINTS), np.array(XOR_LABELS)
    #: colour levels of P(y = 1); 0.5 sits inside a band, so P = 0.5 +- rounding is one colour
    levels = [0.0, *np.linspace(0.05, 0.95, 10), 1.0]
    arch = f"2-{cfg.hidden}-1 {cfg.activation}"

    # (a) hand-set step network
    hand = hand_set_network()
    v = hand.layers[1].forward(hand.layers[0].forward(X_XOR))
    y_hand = hand.predict(X_XOR)
    truth_table = [
        {
            "x1": int(x[0]),
            "x2": int(x[1]),
            "v1": int(vv[0]),
            "v2": int(vv[1]),
            "y": int(yy[0]),
            "target": int(t[0]),
        }
        for x, vv, yy, t in zip(X_XOR, v, y_hand, Y_XOR, strict=True)
    ]
    hand_acc = accuracy(y_hand, Y_XOR)

    # (b) logistic regression
    logreg = logistic_regression(run.seed)
    logreg_hist = train(logreg, X_XOR, Y_XOR, cfg.logreg_lr, cfg.logreg_epochs, run.seed)
    logreg_logits = logreg.predict(X_XOR)
    logreg_acc = _accuracy_of_logits(logreg_logits, Y_XOR)
    best_linear = max_linear_accuracy(X_XOR, Y_XOR)

    # (c) a trained network, and how robustly its architecture learns XOR
    net, net_hist = train_xor_network(cfg.hidden, cfg.activation, cfg.lr, cfg.epochs, run.seed)
    net_logits = net.predict(X_XOR)
    net_acc = _accuracy_of_logits(net_logits, Y_XOR)
    successes = 0
    for seed in run.bar(range(cfg.robustness_seeds), desc=f"{arch} seeds", unit="seed"):
        model, _ = train_xor_network(cfg.hidden, cfg.activation, cfg.lr, cfg.epochs, seed)
        successes += _accuracy_of_logits(model.predict(X_XOR), Y_XOR) == 1.0

    curves = {"logistic regression": logreg_hist, f"network {arch}": net_hist}

    def panel(model: Sequential, title: str, X, y, lim: tuple[float, float], logits=True):
        """The model's P(y = 1) over the square lim x lim, with the points (X, y)."""
        prob = (lambda p: sigmoid(model.predict(p))) if logits else model.predict
        return BoundaryPanel(predict_grid(prob, lim), X, y, title)

    panels = [
        panel(hand, f"(a) hand-set step network: {hand_acc:.0%}", X_XOR, Y_XOR, XOR_RANGE, False),
        panel(logreg, f"(b) logistic regression: {logreg_acc:.0%}", X_XOR, Y_XOR, XOR_RANGE),
        panel(net, f"(c) trained {arch}: {net_acc:.0%}", X_XOR, Y_XOR, XOR_RANGE),
    ]

    toy: dict[str, Any] = {}
    if cfg.toy_n:
        X_toy, y_toy = make_toy("xor", n=cfg.toy_n, noise=cfg.toy_noise, seed=run.seed)
        X_test, y_test = make_toy("xor", n=1000, noise=cfg.toy_noise, seed=run.seed + 1)
        y_toy, y_test = y_toy[:, None].astype(float), y_test[:, None].astype(float)
        toy_net = network(cfg.hidden, cfg.activation, run.seed)
        toy_hist = train(toy_net, X_toy, y_toy, cfg.lr, cfg.toy_epochs, run.seed)
        toy = {
            "toy_train_accuracy": _accuracy_of_logits(toy_net.predict(X_toy), y_toy),
            "toy_test_accuracy": _accuracy_of_logits(toy_net.predict(X_test), y_test),
            "toy_train_loss": toy_hist["train_loss"][-1],
        }
        curves[f"noisy toy XOR ({cfg.toy_n} points)"] = toy_hist
        panels.append(
            panel(
                toy_net,
                f"noisy toy XOR ({cfg.toy_n} points), {arch}: test {toy['toy_test_accuracy']:.1%}",
                X_toy,
                y_toy,
                TOY_RANGE,
            )
        )

    keys = {"logistic regression": "logreg", f"network {arch}": "network"}
    longest = max(len(h["train_loss"]) for h in curves.values())
    every = max(1, longest // 200)
    for epoch in range(every - 1, longest, every):
        metrics = {}
        for name, hist in curves.items():
            key = keys.get(name, "toy")
            if epoch < len(hist["train_loss"]):
                metrics[f"{key}_loss"] = hist["train_loss"][epoch]
                metrics[f"{key}_accuracy"] = hist["train_accuracy"][epoch]
        run.log(epoch + 1, **metrics)

    run.figure(
        "decision_boundaries",
        decision_boundaries(
            panels,
            title="XOR decision boundaries (black line: P = 0.5)",
            levels=levels,
            colorbar_label="model output P(y = 1)",
            colorbar_ticks=[0.0, 0.25, 0.5, 0.75, 1.0],
            panel_size=(4.3, 4.4),
        ),
        "Model output over the input plane; black: the P = 0.5 decision boundary. (a) the "
        "lecture's step network carves out the two XOR corners; (b) one line cannot; "
        f"(c) a trained {arch} network can.",
    )
    run.figure(
        "loss_curves",
        line_panels(
            [
                LinePanel(
                    [Line(_epochs(h), h["train_loss"], name) for name, h in curves.items()],
                    "Training loss",
                    "binary cross-entropy (nats, log scale)",
                    log=True,
                    reference=(float(np.log(2)), "ln 2 (P = ½ everywhere)"),
                ),
                LinePanel(
                    [Line(_epochs(h), h["train_accuracy"], name) for name, h in curves.items()],
                    "Training accuracy",
                    "training accuracy",
                    ylim=(-0.02, 1.02),
                ),
            ],
            xlabel="epoch (full-batch step)",
            panel_size=(5.0, 3.8),
        ),
        "Training loss (log scale) and accuracy. Logistic regression stalls at ln 2, the loss "
        "of predicting ½ everywhere; the network's loss keeps falling.",
    )
    p_logreg, p_net = sigmoid(logreg_logits).ravel(), sigmoid(net_logits).ravel()
    rows = [
        (
            r["x1"],
            r["x2"],
            r["target"],
            r["v1"],
            r["v2"],
            r["y"],
            f"{p_logreg[i]:.4f}",
            int(logreg_logits[i, 0] > TIE),
            f"{p_net[i]:.4f}",
            int(net_logits[i, 0] > TIE),
        )
        for i, r in enumerate(truth_table)
    ]
    lines = text_table(
        ("x1", "x2", "XOR", "v1", "v2", "y (a)", "P (b)", "ŷ (b)", "P (c)", "ŷ (c)"), rows
    )
    lines += [
        "",
        f"accuracy: (a) {hand_acc:.2f}   (b) {logreg_acc:.2f}   (c) {net_acc:.2f}",
        f"best accuracy of any linear classifier (linear programs): {best_linear:.2f}",
        f"(c) {arch} reached 100% from {successes} of {cfg.robustness_seeds} seeds",
    ]
    run.figure(
        "truth_tables",
        text_figure(lines, "XOR truth table: (a) hand-set, (b) logistic regression, (c) network"),
        "Every input: the hand-set network's hidden units v1, v2 and output y; the probability "
        "and prediction of logistic regression and of the trained network.",
    )

    (w1, w2), b = logreg.layers[0].params["W"][:, 0], logreg.layers[0].params["b"][0]
    return {
        "hand_set_accuracy": hand_acc,
        "hand_set_truth_table": truth_table,
        "logreg_accuracy": logreg_acc,
        "logreg_loss": logreg_hist["train_loss"][-1],
        "logreg_weights": {"w1": float(w1), "w2": float(w2), "b": float(b)},
        "logreg_probabilities": [float(p) for p in p_logreg],
        "logreg_best_accuracy_during_training": max(logreg_hist["train_accuracy"]),
        "max_linear_accuracy": best_linear,
        "xor_linearly_separable": best_linear == 1.0,
        "linear_bound_proof": LINEAR_BOUND_PROOF,
        "trained_network": arch,
        "trained_network_accuracy": net_acc,
        "trained_network_loss": net_hist["train_loss"][-1],
        "trained_network_probabilities": [float(p) for p in p_net],
        "trained_network_epochs_to_100": _first_epoch_at(net_hist["train_accuracy"], 1.0),
        "robustness_seeds": cfg.robustness_seeds,
        "robustness_success_rate": successes / cfg.robustness_seeds
        if cfg.robustness_seeds
        else None,
        **toy,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
