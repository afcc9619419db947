"""fundamentals: the small facts every network relies on, each measured on the scratch engine.

Seed 004 Q1-Q2 and seed 003 ask for these on paper; here each one is a number:

* **Activations** -- sigmoid, tanh, ReLU, leaky ReLU, softplus and their derivatives (figure);
  each engine derivative against central differences (f(x + h) - f(x - h)) / 2h, h = 1e-5,
  on a grid that avoids the kinks of ReLU and leaky ReLU at 0. In particular σ' = σ(1 - σ).
* **Identities** (max absolute error over many random inputs): tanh(x) = 2σ(2x) - 1;
  softmax(x + c) = softmax(x) for a constant c per row; softmax lies in (0, 1) and sums to 1;
  the row-max subtraction is what keeps softmax finite at logits of 1000 (the naive formula
  gives inf / inf = NaN). A network with linear activations is one affine map: with the
  engine's ``x @ W + b`` convention, W = W1 W2 ... WL and b = (...(b1 W2 + b2) W3 + ...) WL + bL,
  and its outputs match the network's.
* **Vanishing gradients** -- the norm of ∂C/∂W1 (the first layer) of a freshly initialised
  stack of ``depth`` hidden layers, depth 1..20, averaged over ``trials`` random networks and
  batches: sigmoid (Xavier init) loses a factor of ~4 per layer, since σ' <= 1/4; tanh (Xavier)
  and ReLU (He init) keep it roughly constant.
* **Zero initialisation** -- a 2-H-1 sigmoid network started from all zeros gets identical
  gradients for every hidden unit, so after training all hidden units are still the same
  unit (the maximum distance between their incoming weight vectors [w; b] is exactly 0.0 and
  the network does no better than a single hidden unit), while Xavier's random start breaks
  the symmetry. Exactly 0.0 holds in floating point too, as long as BLAS treats every column
  alike: the default width 8 is a multiple of every SIMD width; an odd width such as 33 can
  show ~1e-15 from kernel edge cases.
* **Parameter count** (seed 003 ICE #2): an MLP on 100x100 inputs, three hidden layers of
  1000 units and 10 outputs has 10000·1000 + 1000 + 2·(1000·1000 + 1000) + 1000·10 + 10 =
  12,013,010 parameters -- counted by the engine's ``num_parameters`` and by that formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run
    from nnlab.scratch import Linear, Sequential

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus")
LABELS = {
    "sigmoid": "sigmoid σ",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "softplus": "softplus",
}
#: (activation, init) pairs of the vanishing-gradient comparison.
STACKS = (("sigmoid", "xavier"), ("tanh", "xavier"), ("relu", "he"))
H = 1e-5  # central-difference step


@dataclass
class Config(ExperimentConfig):
    leaky_alpha: float = param(0.1, low=0.0, high=1.0, help="slope of leaky ReLU for x < 0")
    samples: int = param(10000, low=10, high=1_000_000, help="random inputs per identity check")
    depth_max: int = param(20, low=2, high=60, help="deepest stack of the vanishing gradient")
    width: int = param(32, low=1, high=4_096, help="units per layer of the stacks")
    trials: int = param(10, low=1, high=1_000, help="random networks averaged per depth")
    hidden: int = param(
        8, low=2, high=1_024, help="hidden units of the zero-initialisation network"
    )
    epochs: int = param(
        1000, low=1, high=1_000_000, help="training epochs of the zero-initialisation networks"
    )
    lr: float = param(1.0, low=0.0, low_open=True)
    count_input: int = param(
        100 * 100, low=1, high=1_000_000_000, help="inputs of the counted MLP (100x100 image)"
    )
    count_hidden: tuple[int, ...] = param(
        (1000, 1000, 1000), low=1, high=1_000_000_000, help="its hidden widths"
    )
    count_outputs: int = param(10, low=1, high=1_000_000_000)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"samples": 1000, "trials": 2, "epochs": 200},
    "quick": {},
    "full": {"samples": 100000, "trials": 100, "epochs": 5000},
}


# --------------------------------------------------------------------------- measurements


def activation(name: str, alpha: float):
    """(f, f') of an engine activation, with leaky ReLU's slope bound to ``alpha``."""
    from nnlab.scratch import get_activation

    fn, deriv = get_activation(name)
    if name == "leaky_relu":
        return (lambda x: fn(x, alpha=alpha)), (lambda x: deriv(x, alpha=alpha))
    return fn, deriv


def central_difference(fn, x: np.ndarray, h: float = H) -> np.ndarray:
    return (fn(x + h) - fn(x - h)) / (2 * h)


def derivative_errors(alpha: float, x: np.ndarray) -> dict[str, float]:
    """max |f'(x) - central difference| per activation, on points at least 2h from 0."""
    import numpy as np

    x = x[np.abs(x) > 2 * H]
    errors = {}
    for name in ACTIVATION_NAMES:
        fn, deriv = activation(name, alpha)
        errors[name] = float(np.max(np.abs(deriv(x) - central_difference(fn, x))))
    return errors


def identity_errors(samples: int, rng: np.random.Generator) -> dict[str, Any]:
    """Max absolute errors of the identities; softmax on rows of 10 logits."""
    import numpy as np

    from nnlab.scratch import sigmoid, softmax

    x = rng.uniform(-20, 20, samples)
    logits = rng.normal(0.0, 5.0, (samples, 10))
    shift = rng.uniform(-100, 100, (samples, 1))
    p = softmax(logits)
    with np.errstate(over="ignore", invalid="ignore"):
        big = np.array([[1000.0, 0.0]])
        naive = np.exp(big) / np.exp(big).sum(axis=1, keepdims=True)
    return {
        "tanh_identity": float(np.max(np.abs(np.tanh(x) - (2 * sigmoid(2 * x) - 1)))),
        "softmax_shift": float(np.max(np.abs(softmax(logits + shift) - p))),
        "softmax_sum": float(np.max(np.abs(p.sum(axis=1) - 1))),
        "softmax_min": float(p.min()),
        "softmax_max": float(p.max()),
        "naive_softmax_finite_at_1000": bool(np.all(np.isfinite(naive))),
        "stable_softmax_at_1000": [float(v) for v in softmax(big)[0]],
    }


def linear_collapse_error(rng: np.random.Generator, samples: int) -> tuple[float, tuple]:
    """A 4-layer linear-activation network vs its collapsed affine map: max |difference|."""
    import numpy as np

    from nnlab.scratch import collapse_linear, mlp

    sizes = [8, 16, 16, 16, 4]
    model = mlp(sizes, activation="linear", rng=rng)
    for _, p in model.named_parameters():  # random biases too, so b matters
        if p.ndim == 1:
            p[...] = rng.normal(0.0, 1.0, p.shape)
    W, b = collapse_linear(model)
    X = rng.normal(0.0, 1.0, (samples, sizes[0]))
    return float(np.max(np.abs(model.predict(X) - (X @ W + b)))), W.shape


def layer_grad_norms(
    act: str, init: str, depth: int, width: int, rng: np.random.Generator
) -> np.ndarray:
    """||∂C/∂W_l|| for every layer l of a fresh net with ``depth`` hidden layers of ``width``
    (softmax cross-entropy, 10 classes, random labels, a batch of 64 standard-normal inputs)."""
    import numpy as np

    from nnlab.scratch import mlp, softmax_cross_entropy

    model = mlp([width] * (depth + 1) + [10], act, init=init, rng=rng)
    X = rng.normal(0.0, 1.0, (64, width))
    labels = rng.integers(0, 10, 64)
    _, grad = softmax_cross_entropy(model.forward(X), labels)
    model.backward(grad, input_grad=False)
    return np.array([np.linalg.norm(layer.grads["W"]) for layer in model.layers[:-1:2]])


def unit_vectors(layer: Linear) -> np.ndarray:
    """Each hidden unit's incoming weights and bias, one row per unit: [w_1, ..., w_in, b]."""
    import numpy as np

    return np.vstack([layer.params["W"], layer.params["b"]]).T


def train_symmetry(
    init: str, hidden: int, epochs: int, lr: float, seed: int
) -> tuple[Sequential, dict[str, Any]]:
    """A 2-hidden-1 sigmoid network trained on the toy 'circle' set from ``init``."""
    import numpy as np
    from scipy.spatial.distance import pdist

    from nnlab.data import make_toy
    from nnlab.scratch import SGD, accuracy, binary_cross_entropy_with_logits, fit, mlp

    X, y = make_toy("circle", n=200, noise=0.05, seed=seed)
    y = y[:, None].astype(np.float64)
    model = mlp([2, hidden, 1], "sigmoid", init=init, rng=seed)
    fit(
        model,
        binary_cross_entropy_with_logits,
        SGD(model, lr=lr),
        X,
        y,
        epochs=epochs,
        batch_size=32,
        rng=seed,
    )
    vectors = unit_vectors(model.layers[0])
    distances = pdist(vectors)
    return model, {
        "max_pairwise_distance": float(distances.max()),
        "min_pairwise_distance": float(distances.min()),
        "distinct_hidden_units": int(len(np.unique(vectors, axis=0))),
        "first_layer_norm": float(np.linalg.norm(vectors)),
        "accuracy": accuracy(model.predict(X), y, threshold=0.0),
        "X": X,
        "y": y,
    }


def activation_curves(alpha: float) -> tuple[np.ndarray, dict, np.ndarray, dict]:
    """The arguments of ``activations_figure``: every activation and its derivative on
    [-5, 5], and central differences of each at 20 points."""
    import numpy as np

    x = np.linspace(-5, 5, 1001)
    xs = np.linspace(-4.75, 4.75, 20)
    curves, numeric = {}, {}
    for name in ACTIVATION_NAMES:
        fn, deriv = activation(name, alpha)
        label = LABELS[name] + (f" (α = {alpha:g})" if name == "leaky_relu" else "")
        curves[label] = (fn(x), deriv(x))
        numeric[label] = central_difference(fn, xs)
    return x, curves, xs, numeric


def symmetry_figure(results: dict[str, tuple[Sequential, dict[str, Any]]]):
    """Hidden units' incoming weights after training from each init, and each network's
    P(y = 1) over the plane."""
    from nnlab.scratch import sigmoid
    from nnlab.viz import BoundaryPanel, ScatterGroup, predict_grid, scatter_and_boundaries

    styles = {"zeros": ("o", "#d95f02", 90), "xavier": ("^", "#1b9e77", 40)}
    groups, panels = [], []
    for init, (model, info) in results.items():
        W = model.layers[0].params["W"]
        marker, colour, size = styles[init]
        label = f"{init} init: {info['distinct_hidden_units']} distinct of {W.shape[1]} units"
        groups.append(ScatterGroup(W[0], W[1], label, marker, colour, size))
        grid = predict_grid(lambda p, m=model: sigmoid(m.predict(p)), (-1.2, 1.2), n=161)
        title = f"{init} init: training accuracy {info['accuracy']:.0%}"
        panels.append(BoundaryPanel(grid, info["X"], info["y"], title))
    return scatter_and_boundaries(
        groups,
        panels,
        scatter_title="Hidden units' incoming weights after training",
        scatter_labels=("weight from x1", "weight from x2"),
        title="Zero initialisation: every hidden unit stays the same unit",
        colorbar_label="P(y = 1)",
        boundary=None,
        point_size=10,
    )


def parameter_count(sizes: list[int]) -> tuple[int, int, list[int]]:
    """(engine's num_parameters, the formula Σ n_in·n_out + n_out, per-layer counts)."""
    import numpy as np

    from nnlab.scratch import mlp

    model = mlp(sizes, init="zeros", dtype=np.float32)  # zeros: nothing random to draw
    per_layer = [a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return model.num_parameters(), sum(per_layer), per_layer


# --------------------------------------------------------------------------- the recipe


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.viz import Line, LinePanel, activations_figure, line_panels, text_figure, text_table

    rng = np.random.default_rng(run.seed)

    # activations, derivatives and identities
    grid = np.linspace(-20, 20, 4000)  # an even count: 0 is not on the grid
    deriv_errors = derivative_errors(cfg.leaky_alpha, grid)
    ident = identity_errors(cfg.samples, rng)
    collapse_error, collapsed_shape = linear_collapse_error(rng, cfg.samples)
    exact = {
        "tanh(x) = 2σ(2x) − 1": ident["tanh_identity"],
        "softmax(x + c) = softmax(x)": ident["softmax_shift"],
        "Σ softmax(x) = 1": ident["softmax_sum"],
        "linear net = one affine map": collapse_error,
    }
    run.figure(
        "activations",
        activations_figure(*activation_curves(cfg.leaky_alpha)),
        "The five activations and their derivatives; circles: central differences of f.",
    )

    # vanishing gradients
    depths = np.arange(1, cfg.depth_max + 1)
    norms: dict[str, np.ndarray] = {}
    deepest: dict[str, np.ndarray] = {}
    bar = run.bar(total=len(STACKS) * len(depths) * cfg.trials, desc="stacks", unit="net")
    for act, init in STACKS:
        name = f"{act} ({init} init)"
        per_depth = []
        for depth in depths:
            trials = []  # one row of per-layer gradient norms per random network
            for _ in range(cfg.trials):
                trials.append(layer_grad_norms(act, init, depth, cfg.width, rng))
                bar.update(1)
            per_depth.append(np.mean([g[0] for g in trials]))
        norms[name] = np.array(per_depth)
        deepest[name] = np.mean(trials, axis=0)  # the last depth is the deepest
    bar.close()
    run.figure(
        "vanishing_gradient",
        line_panels(
            [
                LinePanel(
                    [Line(depths, v, name, "o-", 4) for name, v in norms.items()],
                    "First-layer gradient vs depth",
                    "‖∂C/∂W₁‖ (Frobenius, log scale)",
                    log=True,
                    integer_x=True,
                    xlabel="number of hidden layers",
                ),
                LinePanel(
                    [
                        Line(np.arange(1, len(v) + 1), v, name, "o-", 4)
                        for name, v in deepest.items()
                    ],
                    f"Every layer of the deepest stack ({depths[-1]} hidden layers)",
                    "‖∂C/∂W_l‖ (log scale)",
                    log=True,
                    integer_x=True,
                    xlabel="layer l (1 = first)",
                ),
            ],
            panel_size=(5.5, 4.2),
        ),
        f"Left: norm of the first layer's weight gradient vs the number of hidden layers "
        f"(width {cfg.width}, mean of {cfg.trials} random networks). Right: every layer's "
        "gradient norm in the deepest stack. σ' ≤ ¼ shrinks the sigmoid's gradient ~4x per layer.",
    )

    # zero initialisation vs Xavier
    sym = {
        init: train_symmetry(init, cfg.hidden, cfg.epochs, cfg.lr, run.seed)
        for init in ("zeros", "xavier")
    }
    run.figure(
        "zero_initialisation",
        symmetry_figure(sym),
        f"A 2-{cfg.hidden}-1 sigmoid network trained on the toy circle set from zero and from "
        "Xavier initialisation. From zeros all hidden units stay identical (one point), so the "
        "network is no better than one hidden unit.",
    )

    # the parameter count of the lecture's MLP
    sizes = [cfg.count_input, *cfg.count_hidden, cfg.count_outputs]
    counted, formula, per_layer = parameter_count(sizes)

    sigmoid_norms = norms["sigmoid (xavier init)"]
    lines = text_table(
        ("check", "max abs error"),
        [
            *[(k, f"{v:.2e}") for k, v in exact.items()],
            *[(f"{LABELS[k]}' vs central difference", f"{v:.2e}") for k, v in deriv_errors.items()],
        ],
    )
    lines += [
        "",
        f"softmax of {cfg.samples} random rows: min {ident['softmax_min']:.3g}, "
        f"max {ident['softmax_max']:.12f} (inside (0, 1))",
        "softmax([1000, 0]): naive exp/sum = NaN (inf/inf); engine (row max subtracted) = "
        f"{ident['stable_softmax_at_1000']}",
        "",
        *text_table(
            ("layer", "inputs × outputs + biases", "parameters"),
            [
                (f"{i + 1}", f"{a} × {b} + {b}", f"{n:,}")
                for i, (a, b, n) in enumerate(zip(sizes[:-1], sizes[1:], per_layer, strict=True))
            ]
            + [("total", "engine num_parameters()", f"{counted:,}")],
        ),
    ]
    run.figure(
        "checks",
        text_figure(lines, "Identities (max abs error over random inputs) and the parameter count"),
        "Measured errors of the identities and derivatives, and the lecture quiz's parameter "
        "count layer by layer.",
    )

    zeros, xavier = sym["zeros"][1], sym["xavier"][1]
    return {
        "max_identity_error": float(max(exact.values())),
        "tanh_identity_error": ident["tanh_identity"],
        "softmax_shift_error": ident["softmax_shift"],
        "softmax_sum_error": ident["softmax_sum"],
        "softmax_min": ident["softmax_min"],
        "softmax_max": ident["softmax_max"],
        "naive_softmax_finite_at_1000": ident["naive_softmax_finite_at_1000"],
        "stable_softmax_at_1000": ident["stable_softmax_at_1000"],
        "linear_collapse_error": collapse_error,
        "linear_collapse_shape": list(collapsed_shape),
        "sigmoid_deriv_error": deriv_errors["sigmoid"],  # σ(1 − σ) vs central differences
        "activation_deriv_errors": deriv_errors,
        "vanishing_depths": [int(d) for d in depths],
        **{
            f"grad_norm_layer1_{act}": [float(v) for v in norms[name]]
            for (act, _), name in zip(STACKS, norms, strict=True)
        },
        "sigmoid_grad_ratio_deepest_vs_1": float(sigmoid_norms[-1] / sigmoid_norms[0]),
        "sigmoid_grad_factor_per_layer": float(
            (sigmoid_norms[-1] / sigmoid_norms[0]) ** (1 / (len(sigmoid_norms) - 1))
        ),
        "zero_init_max_pairwise_distance": zeros["max_pairwise_distance"],
        "zero_init_distinct_hidden_units": zeros["distinct_hidden_units"],
        "zero_init_first_layer_norm": zeros["first_layer_norm"],
        "zero_init_accuracy": zeros["accuracy"],
        "xavier_min_pairwise_distance": xavier["min_pairwise_distance"],
        "xavier_max_pairwise_distance": xavier["max_pairwise_distance"],
        "xavier_distinct_hidden_units": xavier["distinct_hidden_units"],
        "xavier_accuracy": xavier["accuracy"],
        "mlp_sizes": sizes,
        "mlp_parameters": counted,
        "mlp_parameters_formula": formula,
        "mlp_parameters_per_layer": per_layer,
    }


EXPERIMENT = Experiment(
    name="fundamentals",
    description="Activations and their derivatives, softmax and tanh identities, vanishing "
    "gradients, zero-init symmetry, parameter counting",
    reproduces="seed 004 Q1-Q2; seed 003 (activations, ICE #2 parameter count)",
    config=Config,
    presets=PRESETS,
    run=run,
    headline="max_identity_error",
    mode="min",
    uses_torch=False,
)
