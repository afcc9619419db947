"""fundamentals: the small facts every network relies on, each measured on the scratch engine.

Seed 004 Q1-Q2 and seed 003 ask for these on paper; here each one is a number:

* **Activations** -- sigmoid, tanh, ReLU, leaky ReLU, softplus, GELU and their derivatives;
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
* **Back-propagation and cross-entropy identities** (seed 001 Problems 2-3, Nielsen ch. 2-3;
  ``nnlab.numerics.identities``): δᴸ = aᴸ − y for softmax with the log-likelihood cost (central
  differences of −ln a_y against a − y); a network with one SiLU neuron among sigmoids and a
  layer of linear neurons, engine gradients against finite differences (only f′ changes in
  δˡ = (Wˡ⁺¹ᵀ δˡ⁺¹) ⊙ f′(zˡ)); with σ(z) = z throughout the rewritten algorithm
  δˡ = δˡ⁺¹ Wˡ⁺¹ᵀ (no σ′) against the engine; the reversed cross-entropy
  −[a ln y + (1 − a) ln(1 − y)] is infinite at y ∈ {0, 1} for every a ∈ (0, 1) (a ln 0) while
  the correct one stays finite; for y ∈ (0, 1) the numerical minimum of the cross-entropy over
  z is at σ(z) = y with value −[y ln y + (1 − y) ln(1 − y)]; softmax(z / T) tends to the one-hot
  arg-max as T → 0 and T log Σ exp(z / T) to max z: a *soft* version of max, hence the name.
* **Dead ReLUs** (seed 003: "fragile during training ... be careful about learning rates"): a
  64-100-100-10 ReLU network (He init) trained by SGD on the 8x8 digits with a good and with a
  too-large learning rate; a unit is dead when it outputs 0 on every training input, so no
  gradient reaches its weights again.
* **Sigmoid is not zero-centred** (seed 003): a neuron y = w·x with two weights learns
  w* = (1, −1) by SGD, one example per step, on inputs x = σ(z) (all positive) and on
  x = ½ tanh(z / 2) = σ(z) − ½ (tanh, scaled to the same slope: zero-centred, otherwise the
  same), z ~ N(0, 1) (``nnlab.numerics.zigzag``). The gradient (w·x − t) x has one sign in
  every component when x > 0: the share of such steps is exactly 1.0 for sigmoid inputs and
  about 0.5 for centred ones (at the smallest ``zigzag_lrs``). So the sigmoid path zig-zags,
  and the large curvature along (1, 1) that positive inputs bring caps the step size: with
  each input's fastest step size of ``zigzag_lrs``, the steps to get within 1% of w* are
  compared, and both paths are drawn over the loss contours.
* **Outliers** (seed 003 ICE #4 statement 3, "PCA is robust to outliers while autoencoders
  are not"): 1000 points of std 3 along x and 1 along y, then ``outliers`` points near
  (20, 20); the angle by which they turn PCA's first direction and the decoder direction of a
  2-1-2 linear autoencoder trained by gradient descent on the squared error
  (``nnlab.numerics.outliers``). Both minimise the same squared error: they turn alike.
* **Parameter count** (seed 003 ICE #2): an MLP on 100x100 inputs, three hidden layers of
  1000 units and 10 outputs has 10000·1000 + 1000 + 2·(1000·1000 + 1000) + 1000·10 + 10 =
  12,013,010 parameters -- counted by the engine's ``num_parameters`` and by that formula.
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
    from nnlab.scratch import Linear, Sequential

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "gelu")
LABELS = {
    "sigmoid": "sigmoid σ",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "softplus": "softplus",
    "gelu": "GELU",
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
    relu_lrs: tuple[float, ...] = param(
        (0.1, 1.0), low=0.0, low_open=True, help="a good and a too-large SGD step for dead ReLUs"
    )
    relu_epochs: int = param(20, low=1, high=100_000, help="epochs of the dead-ReLU networks")
    relu_width: int = param(100, low=1, high=4_096, help="units per hidden layer (two layers)")
    zigzag_lrs: tuple[float, ...] = param(
        (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
        low=0.0,
        low_open=True,
        help="SGD steps tried on the one-neuron zig-zag (the first also measures the signs)",
    )
    outliers: int = param(
        10, low=0, high=1_000, help="far-off points added to 1000 for PCA vs autoencoder"
    )
    zigzag_steps: int = param(
        2000, low=10, high=1_000_000, help="at most this many SGD steps of the zig-zag neuron"
    )

    def check(self) -> None:
        if len(self.relu_lrs) != 2 or self.relu_lrs[0] >= self.relu_lrs[1]:
            raise ConfigError(
                "relu_lrs needs two learning rates, good then too large, e.g. relu_lrs=0.1,1.0; "
                f"got {','.join(f'{v:g}' for v in self.relu_lrs)}"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"samples": 1000, "trials": 2, "epochs": 200, "relu_epochs": 5},
    "quick": {},
    "full": {"samples": 100000, "trials": 100, "epochs": 5000},
}


# --------------------------------------------------------------------------- measurements


def activation(name: str, alpha: float):
    """(f, f') of an engine activation, with leaky ReLU's slope bound to ``alpha`` (GELU,
    which the engine lacks, from ``nnlab.numerics.identities``)."""
    from nnlab.scratch import get_activation

    if name == "gelu":
        from nnlab.numerics.identities import gelu, gelu_deriv

        return gelu, gelu_deriv

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


#: targets of the cross-entropy minimisation, and the logits of the temperature check
CE_TARGETS = tuple(round(0.05 * k, 2) for k in range(1, 20))
TEMPERATURE_LOGITS = (1.0, 2.0, 3.5, 3.0)
TEMPERATURES = (10.0, 3.0, 1.0, 0.3, 0.1, 0.03, 0.01)


def cross_entropy_checks(rng: np.random.Generator) -> dict[str, Any]:
    """The back-propagation and cross-entropy identities, measured (see the module docstring)."""
    import numpy as np

    from nnlab.numerics import identities as ident

    ys = np.array(CE_TARGETS)
    minimum = ident.cross_entropy_minimum(ys)
    a_grid = np.linspace(0.01, 0.99, 99)  # a in (0, 1), away from the ends
    edges = np.array([0.0, 1.0])
    reversed_at_edges = ident.reversed_cross_entropy(edges[:, None], a_grid[None, :])
    correct_at_edges = ident.cross_entropy(a_grid[None, :], edges[:, None])
    temps = np.array(TEMPERATURES)
    soft = ident.softmax_temperature(np.array(TEMPERATURE_LOGITS), temps)
    grads = ident.modified_neuron_gradcheck(rng)
    return {
        "softmax_delta_error": ident.softmax_delta_error(rng),
        "modified_neuron_gradcheck": grads,
        "modified_neuron_max_error": float(max(grads.values())),
        "linear_backprop_error": ident.linear_backprop_error(rng),
        "reversed_ce_infinite_at_y01": bool(np.all(np.isposinf(reversed_at_edges))),
        "correct_ce_finite_at_y01": bool(np.all(np.isfinite(correct_at_edges))),
        "correct_ce_max_at_y01": float(correct_at_edges.max()),
        "ce_targets": ys,
        "ce_argmin_error": float(np.max(np.abs(minimum["a"] - ys))),
        "ce_minimum_error": float(np.max(np.abs(minimum["minimum"] - minimum["formula"]))),
        "ce_minimum": minimum,
        "temperatures": temps,
        "softmax_temperature": soft,
    }


def dead_relu(lr: float, cfg: Config, seed: int) -> dict[str, Any]:
    """A 64-W-W-10 ReLU network (He init) trained by SGD (batch 32) on the 8x8 digits:
    the fraction of dead units per hidden layer before and after, accuracy, losses."""
    import numpy as np

    from nnlab.data import load_dataset
    from nnlab.scratch import SGD, accuracy, fit, mlp, softmax_cross_entropy

    data = load_dataset("digits")
    X = data.x_train.reshape(len(data.x_train), -1).astype(np.float64)
    y = data.y_train.astype(np.int64)
    model = mlp([X.shape[1], cfg.relu_width, cfg.relu_width, 10], "relu", init="he", rng=seed)

    def dead() -> list[float]:
        a, out = X, []
        for layer in model.layers[:-1]:
            a = layer.forward(a, training=False)
            if layer.__class__.__name__ == "Activation":
                out.append(float(np.mean(np.all(a <= 0, axis=0))))
        return out

    before = dead()
    with np.errstate(over="ignore", invalid="ignore"):
        hist = fit(
            model,
            softmax_cross_entropy,
            SGD(model, lr=lr),
            X,
            y,
            epochs=cfg.relu_epochs,
            batch_size=32,
            rng=seed,
        )
    return {
        "lr": lr,
        "dead_before": before,
        "dead_after": dead(),
        "train_accuracy": accuracy(model.predict(X), y),
        "losses": hist["train_loss"],
    }


#: where the outliers sit (and a spread of 0.5 around it), for data of std 3 along x, 1 along y
OUTLIER_AT = (20.0, 20.0)


def outlier_pull(cfg: Config, seed: int) -> dict[str, float]:
    """How far `cfg.outliers` far-off points turn PCA's first direction and a linear
    autoencoder's, and how far apart the two are (seed 003 ICE #4 statement 3)."""
    import numpy as np

    from nnlab.numerics.outliers import angle_degrees, autoencoder_direction, first_direction

    rng = np.random.default_rng([seed, 4])
    clean = rng.normal(0.0, 1.0, (1000, 2)) * np.array([3.0, 1.0])
    far = np.array(OUTLIER_AT) + rng.normal(0.0, 0.5, (cfg.outliers, 2))
    dirty = np.vstack([clean, far])
    pca = [first_direction(x) for x in (clean, dirty)]
    ae = [autoencoder_direction(x, rng=np.random.default_rng([seed, 5])) for x in (clean, dirty)]
    return {
        "outlier_share": cfg.outliers / len(dirty),
        "outlier_turn_pca_degrees": angle_degrees(*pca),
        "outlier_turn_autoencoder_degrees": angle_degrees(*ae),
        "pca_vs_autoencoder_degrees_clean": angle_degrees(pca[0], ae[0]),
        "pca_vs_autoencoder_degrees_outliers": angle_degrees(pca[1], ae[1]),
    }


#: the zig-zag neuron's optimum: weights of mixed signs
ZIGZAG_OPTIMUM = (1.0, -1.0)
ZIGZAG_LABELS = {"sigmoid": "sigmoid inputs σ(z) > 0", "tanh": "tanh inputs ½tanh(z/2) = σ(z) − ½"}


def zigzag(cfg: Config, seed: int) -> dict[str, dict[str, Any]]:
    """The zig-zag neuron on sigmoid and on centred (tanh) inputs of the same z: the share of
    same-sign updates at the smallest step size, and the fastest step size's path."""
    import numpy as np

    from nnlab.numerics.zigzag import fastest_rate, neuron_sgd_path

    w_star = np.array(ZIGZAG_OPTIMUM)
    z = np.random.default_rng([seed, 3]).normal(0.0, 1.0, (cfg.zigzag_steps, 2))
    sig = 1.0 / (1.0 + np.exp(-z))
    out = {}
    for kind, x in (("sigmoid", sig), ("tanh", 0.5 * np.tanh(z / 2))):
        small = neuron_sgd_path(x, w_star, min(cfg.zigzag_lrs))
        lr, fastest = fastest_rate(x, w_star, cfg.zigzag_lrs)
        if fastest is None:
            raise ConfigError(
                f"no step size of zigzag_lrs reaches the zig-zag optimum within "
                f"{cfg.zigzag_steps} steps on {kind} inputs; raise zigzag_steps or add "
                "larger step sizes"
            )
        out[kind] = {
            "same_sign_fraction": small["same_sign_fraction"],
            "same_sign_fraction_fastest": fastest["same_sign_fraction"],
            "lr": lr,
            "steps": fastest["steps"],
            "path": fastest["path"],
            "second_moment": x.T @ x / len(x),
            "w_star": w_star,
        }
    return out


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
        activations_figure(*activation_curves(cfg.leaky_alpha), derivative_ylim=(-0.2, 1.2)),
        "The six activations and their derivatives (GELU, which the engine lacks, from "
        "nnlab.numerics.identities); circles: central differences of f.",
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

    # back-propagation and cross-entropy identities (seed 001 Problems 2-3)
    from nnlab.numerics.identities import cross_entropy, reversed_cross_entropy
    from nnlab.viz.fundamentals import cross_entropy_figure, dead_units_figure

    ce = cross_entropy_checks(rng)
    a_grid = np.linspace(0.001, 0.999, 999)
    shown = (0.2, 0.5, 0.8)
    ce_min = ce["ce_minimum"]
    near = 10.0 ** -np.arange(1, 13)
    run.figure(
        "cross_entropy",
        cross_entropy_figure(
            [
                (t, a_grid, cross_entropy(a_grid, t), ce_min["a"][i], ce_min["minimum"][i])
                for i, t in enumerate(CE_TARGETS)
                if t in shown
            ],
            (near, cross_entropy(0.3, near), reversed_cross_entropy(near, 0.3), 0.3),
            (ce["temperatures"], ce["softmax_temperature"]["probabilities"]),
        ),
        "(a) The cross-entropy of an output a against a target y ∈ (0, 1) is smallest at a = y "
        "(circles: numerical minima over z, a = σ(z)); dotted: −[y ln y + (1 − y) ln(1 − y)]. "
        "(b) As the target y → 0 the reversed form grows like −a ln y without bound; the correct "
        f"one stays finite. (c) softmax(z / T) of z = {list(TEMPERATURE_LOGITS)} becomes the "
        "one-hot arg-max (class 2) as T → 0, and uniform as T grows.",
    )

    # dead ReLUs: a good and a too-large learning rate
    relu = {lr: dead_relu(lr, cfg, run.seed) for lr in cfg.relu_lrs}
    good_lr, large_lr = cfg.relu_lrs
    names = {good_lr: f"η = {good_lr:g} (good)", large_lr: f"η = {large_lr:g} (too large)"}
    fractions = {"at initialisation": relu[good_lr]["dead_before"]}
    fractions.update({names[lr]: r["dead_after"] for lr, r in relu.items()})
    run.figure(
        "dead_relu",
        dead_units_figure(
            fractions,
            {
                f"{names[lr]}: accuracy {r['train_accuracy']:.0%}": r["losses"]
                for lr, r in relu.items()
            },
            ["hidden layer 1", "hidden layer 2"],
        ),
        f"A 64-{cfg.relu_width}-{cfg.relu_width}-10 ReLU network (He init) after "
        f"{cfg.relu_epochs} epochs of SGD on the 8x8 digits. A unit is dead when it outputs 0 "
        "for every training input: its gradient is 0, so it never recovers. The too-large step "
        "kills most units and the network stops learning.",
    )

    # sigmoid is not zero-centred: the zig-zag of one neuron's updates
    zig = zigzag(cfg, run.seed)
    from nnlab.viz.fundamentals import WeightPathPanel, weight_paths_figure

    run.figure(
        "zigzag",
        weight_paths_figure(
            [
                WeightPathPanel(
                    z["path"],
                    z["w_star"],
                    z["second_moment"],
                    f"{ZIGZAG_LABELS[kind]}: η = {z['lr']:g}, {z['steps']} steps\n"
                    f"{z['same_sign_fraction_fastest']:.0%} of steps change both weights "
                    "the same way",
                )
                for kind, z in zig.items()
            ],
            title="One neuron learning w* = (1, −1) by SGD: positive inputs zig-zag",
        ),
        "SGD paths of a two-weight linear neuron from w = 0 to w* = (1, −1), one example per "
        "step, each with the step size of zigzag_lrs that gets within 1% of w* soonest; grey: "
        "contours of the mean squared error. With sigmoid inputs (all positive) every update "
        "moves both weights the same way (up-right or down-left), so the path zig-zags; "
        "zero-centred inputs move in any direction.",
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
            ("softmax + log-likelihood: δᴸ = aᴸ − y", f"{ce['softmax_delta_error']:.2e}"),
            (
                "SiLU neuron + linear neurons: engine vs FD (rel.)",
                f"{ce['modified_neuron_max_error']:.2e}",
            ),
            ("σ(z) = z: δˡ = δˡ⁺¹ Wᵀ vs engine", f"{ce['linear_backprop_error']:.2e}"),
            ("argmin over σ(z) of C = y", f"{ce['ce_argmin_error']:.2e}"),
            ("min C = −[y ln y + (1−y) ln(1−y)]", f"{ce['ce_minimum_error']:.2e}"),
        ],
    )
    lines += [
        "",
        "reversed −[a ln y + (1−a) ln(1−y)] at y ∈ {0, 1}, a ∈ (0, 1): "
        + ("inf everywhere" if ce["reversed_ce_infinite_at_y01"] else "NOT always inf"),
        "correct −[y ln a + (1−y) ln(1−a)] there: finite, at most "
        f"{ce['correct_ce_max_at_y01']:.3f}",
        "softmax(z/T) distance to one-hot, T = "
        + ", ".join(
            f"{t:g}: {d:.1e}"
            for t, d in zip(
                TEMPERATURES, ce["softmax_temperature"]["distance_to_onehot"], strict=True
            )
        ),
    ]
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
    soft = ce["softmax_temperature"]
    return {
        "softmax_delta_error": ce["softmax_delta_error"],
        "modified_neuron_gradcheck": ce["modified_neuron_gradcheck"],
        "modified_neuron_max_error": ce["modified_neuron_max_error"],
        "linear_backprop_error": ce["linear_backprop_error"],
        "reversed_ce_infinite_at_y01": ce["reversed_ce_infinite_at_y01"],
        "correct_ce_finite_at_y01": ce["correct_ce_finite_at_y01"],
        "correct_ce_max_at_y01": ce["correct_ce_max_at_y01"],
        "ce_targets": list(CE_TARGETS),
        "ce_argmin": [float(v) for v in ce_min["a"]],
        "ce_minimum": [float(v) for v in ce_min["minimum"]],
        "ce_minimum_formula": [float(v) for v in ce_min["formula"]],
        "ce_argmin_error": ce["ce_argmin_error"],
        "ce_minimum_error": ce["ce_minimum_error"],
        "softmax_temperatures": list(TEMPERATURES),
        "softmax_distance_to_onehot": [float(v) for v in soft["distance_to_onehot"]],
        "softmax_soft_max_gap": [float(v) for v in soft["soft_max_gap"]],
        "dead_relu": {
            names[lr]: {
                "lr": lr,
                "dead_fraction_per_layer": r["dead_after"],
                "dead_fraction": float(np.mean(r["dead_after"])),
                "train_accuracy": r["train_accuracy"],
                "final_loss": r["losses"][-1],
            }
            for lr, r in relu.items()
        },
        "dead_relu_at_init": relu[good_lr]["dead_before"],
        "dead_relu_fraction_good_lr": float(np.mean(relu[good_lr]["dead_after"])),
        "dead_relu_fraction_large_lr": float(np.mean(relu[large_lr]["dead_after"])),
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
        **{
            f"zigzag_{key}_{kind}": z[key]
            for kind, z in zig.items()
            for key in ("same_sign_fraction", "lr", "steps")
        },
        "zigzag_speedup": zig["sigmoid"]["steps"] / zig["tanh"]["steps"],
        **outlier_pull(cfg, run.seed),
        "mlp_sizes": sizes,
        "mlp_parameters": counted,
        "mlp_parameters_formula": formula,
        "mlp_parameters_per_layer": per_layer,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
