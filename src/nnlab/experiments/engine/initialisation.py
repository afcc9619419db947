"""initialisation: scaled (Xavier, He) against unscaled (N(0, 1), N(0, 0.01²)) and zero
initialisation of the same deep network (seed 004 Q2.1.1-Q2.1.3), and the numerical gradient
check run on the Q3 network (Q2.5).

The network is a deep MLP in the NumPy engine, 1024 -> ``hidden`` (ten layers of 128 in the
quick preset) -> 36, on chars36 (standardised pixels: mean 0, variance 1 over the training
set, the input the variance argument assumes), once per hidden ``activation`` (tanh and
ReLU) and initialisation ``scheme``. Every network of one activation sees the same batches,
and the normal schemes draw the same random directions, so the scale is the only difference.

* **Step 0.** One forward and backward pass on ``probe_images`` validation images, before any
  update: the standard deviation of each hidden layer's activations, the fraction of
  saturated tanh units (|a| > 0.99), and the norm of dL/dW of every layer. A unit sums ``n``
  products ``w_i x_i``; with independent weights of variance ``s²`` and inputs of variance ``v``
  the sum has variance ``n s² v``. So N(0, 1) multiplies the signal's scale by ``sqrt(n)`` per
  layer (ReLU explodes, tanh saturates and its derivative vanishes), N(0, 0.01²) by
  ``0.01 sqrt(n)`` (the signal and the gradient fade), Xavier (variance 2 / (n_in + n_out))
  keeps a tanh unit's variance near its input's, He (2 / n_in) does that for ReLU, which zeroes
  half its inputs. Zero weights give every unit of a layer the same value and the same
  update: with tanh or ReLU the hidden units output 0 and get no gradient, so only the output
  bias learns and the network outputs one constant (the class frequencies).
* **Training.** Plain SGD (``lr``, ``batch_size``, ``epochs``) from each initialisation: training
  loss and validation accuracy per epoch. A network whose loss overflows stops there
  (``diverged_epoch``).
* **Gradient check (Q2.5).** The Q3 network exactly as ``numpy-classifier`` builds it (1024-64-36,
  sigmoid, Xavier uniform drawn from the run's seed; float64 here), on ``gradcheck_images``
  training images: central differences (eps = 1e-6) on ``gradcheck_entries`` random entries of
  each weight, bias and the input, against back-propagation. The error per tensor is
  max |analytic - numeric| / max(|analytic|, |numeric|) (``nnlab.scratch.gradcheck``).

The schemes by name (``inits``): ``zeros``, ``small_normal`` (N(0, 0.01²)), ``unit_normal``
(N(0, 1)), ``xavier`` (Glorot uniform) and ``he`` (``nnlab.scratch.initialisation``).
Metrics are logged as ``train_loss@<activation>/<scheme>`` and
``val_accuracy@<activation>/<scheme>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import ExperimentConfig, check_choices, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run

SCHEMES = ("zeros", "small_normal", "unit_normal", "xavier", "he")
ACTIVATIONS = ("tanh", "relu", "sigmoid")
#: The scheme scaled for each activation: Glorot's for tanh and sigmoid, He's for ReLU.
MATCHED = {"tanh": "xavier", "sigmoid": "xavier", "relu": "he"}
LABELS = {
    "zeros": "zeros",
    "small_normal": "N(0, 0.01²)",
    "unit_normal": "N(0, 1)",
    "xavier": "Xavier (Glorot)",
    "he": "He",
}


@dataclass
class Config(ExperimentConfig):
    hidden: tuple[int, ...] = param(
        (128,) * 10, low=1, high=4096, help="hidden widths of the deep network, input to output"
    )
    activations: tuple[str, ...] = param(
        ("tanh", "relu"), help=f"hidden activations, among {', '.join(ACTIVATIONS)}"
    )
    inits: tuple[str, ...] = param(SCHEMES, help=f"initialisations, among {', '.join(SCHEMES)}")
    epochs: int = param(8, low=1, high=10_000, help="training epochs of every network")
    lr: float = param(0.1, low=0.0, low_open=True, help="SGD learning rate")
    batch_size: int = param(64, low=1, high=1_000_000)
    probe_images: int = param(
        512, low=2, high=100_000, help="validation images of the step-0 measurements"
    )
    samples_per_glyph: int = param(10, low=1, high=500, help="chars36 images per (font, character)")
    data_seed: int = param(
        0, low=0, high=2_147_483_647, help="chars36 font split and augmentation seed"
    )
    gradcheck_images: int = param(8, low=1, high=1_000, help="images of the Q3 gradient check")
    gradcheck_entries: int = param(
        100, low=1, high=100_000, help="random entries checked per tensor of the Q3 network"
    )
    threads: int = param(1, low=0, high=256, help="BLAS threads (0: library default)")

    def check(self) -> None:
        if not self.hidden:
            raise ConfigError("setting 'hidden' needs at least one width, e.g. hidden=128,128")
        check_choices("activations", self.activations, ACTIVATIONS)
        check_choices("inits", self.inits, SCHEMES)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "hidden": (64,) * 6,
        "epochs": 2,
        "samples_per_glyph": 2,
        "probe_images": 256,
        "gradcheck_entries": 30,
    },
    "quick": {},
    "full": {"hidden": (256,) * 10, "epochs": 30, "samples_per_glyph": 20},
}


# --------------------------------------------------------------------------- the pieces


def deep_network(hidden: tuple[int, ...], activation: str, scheme: str, seed: int):
    """1024 -> hidden -> 36 in float32, every weight drawn from ``scheme`` with ``seed``."""
    import numpy as np

    from nnlab.scratch import mlp
    from nnlab.scratch.initialisation import initialise

    model = mlp([1024, *hidden, 36], activation, dtype=np.float32, rng=seed)
    return initialise(model, scheme, rng=seed)


def q3_gradcheck(
    x: np.ndarray, y: np.ndarray, *, hidden: int = 64, seed: int = 0, entries: int = 100
) -> dict[str, float]:
    """Relative error of back-propagation against central differences for the Q3 network
    (1024-hidden-36 sigmoid, softmax cross-entropy) as numpy-classifier initialises it from
    ``seed``, in float64, on images ``x`` (N, 1024) with labels ``y``: per tensor ("0.W",
    "0.b", "2.W", "2.b", "input"), ``entries`` random entries of each."""
    import numpy as np

    from nnlab.scratch import gradcheck_model, mlp, softmax_cross_entropy

    model = mlp([1024, hidden, 36], "sigmoid", rng=np.random.default_rng(seed))
    return gradcheck_model(model, softmax_cross_entropy, x, y, max_entries=entries, seed=seed)


def _train(cfg: Config, run: Run, model, name: str, data, seed: int) -> dict[str, Any]:
    """SGD from ``model``'s initial weights, logging each epoch; stops when the loss overflows."""
    import math

    import numpy as np

    from nnlab.scratch import SGD, accuracy, fit, softmax_cross_entropy

    x_train, y_train, x_val, y_val = data
    diverged: list[int] = []

    def log(epoch: int, hist: dict[str, list[float]]) -> bool:
        loss, acc = hist["train_loss"][-1], hist["val_accuracy"][-1]
        if not math.isfinite(loss):
            diverged.append(epoch + 1)
            return True
        run.log(epoch + 1, **{f"train_loss@{name}": loss, f"val_accuracy@{name}": acc})
        return False

    with np.errstate(all="ignore"):  # an exploding network overflows: measured, not warned
        hist = fit(
            model,
            softmax_cross_entropy,
            SGD(model, lr=cfg.lr),
            x_train,
            y_train,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            rng=np.random.default_rng([seed, 1]),
            validation=(x_val, y_val),
            metrics={"accuracy": accuracy},
            callback=log,
        )
    return {"history": hist, "diverged_epoch": diverged[0] if diverged else None}


# --------------------------------------------------------------------------- the recipe


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.data.chars36 import load_chars36
    from nnlab.scratch import accuracy, flatten, softmax_cross_entropy
    from nnlab.scratch.initialisation import distinct_units, step0_statistics
    from nnlab.training.threads import blas_threads
    from nnlab.viz import (
        CurveRow,
        Line,
        LinePanel,
        curves_per_variant,
        line_panels,
        text_figure,
        text_table,
    )

    data = load_chars36(
        source="fonts",
        samples_per_glyph=cfg.samples_per_glyph,
        seed=cfg.data_seed,
        download=run.allow_download,
        progress=not run.quiet,
    )
    raw_train = flatten(data.x_train)
    mean, std = float(raw_train.mean()), float(raw_train.std())

    def standardise(x: np.ndarray) -> np.ndarray:
        return ((flatten(x) - mean) / std).astype(np.float32)

    x_train, x_val, x_test = (standardise(x) for x in (data.x_train, data.x_val, data.x_test))
    y_train, y_val, y_test = data.y_train, data.y_val, data.y_test
    probe = np.random.default_rng([run.seed, 2]).choice(
        len(y_val), size=min(cfg.probe_images, len(y_val)), replace=False
    )

    results: dict[str, dict[str, Any]] = {}
    step0: dict[str, Any] = {}
    bar = run.bar(
        total=len(cfg.activations) * len(cfg.inits), desc="initialisations", unit="network"
    )
    with blas_threads(cfg.threads):
        for act in cfg.activations:
            for scheme in cfg.inits:
                name = f"{act}/{scheme}"
                model = deep_network(cfg.hidden, act, scheme, run.seed)
                with np.errstate(all="ignore"):
                    s0 = step0_statistics(model, softmax_cross_entropy, x_val[probe], y_val[probe])
                with np.errstate(all="ignore"):
                    initial = accuracy(model.predict(x_val), y_val)
                run.log(0, **{f"val_accuracy@{name}": initial})
                trained = _train(cfg, run, model, name, (x_train, y_train, x_val, y_val), run.seed)
                with np.errstate(all="ignore"):
                    val_logits, test_logits = model.predict(x_val), model.predict(x_test)
                step0[name] = s0
                results[name] = {
                    "activation": act,
                    "init": scheme,
                    "first_layer_activation_std": s0.activation_std[0],
                    "last_layer_activation_std": s0.activation_std[-1],
                    "last_layer_saturated": s0.saturated[-1] if act != "relu" else None,
                    "gradient_first_layer": s0.delta_norm[0],
                    "gradient_last_layer": s0.delta_norm[-1],
                    "gradient_ratio": _ratio(s0.delta_norm[0], s0.delta_norm[-1]),
                    "weight_gradient_ratio": _ratio(s0.grad_norm[0], s0.grad_norm[-1]),
                    "val_accuracy": accuracy(val_logits, y_val),
                    "test_accuracy": accuracy(test_logits, y_test),
                    "final_train_loss": _finite(trained["history"]["train_loss"][-1]),
                    "diverged_epoch": trained["diverged_epoch"],
                    "distinct_first_layer_units": distinct_units(model.layers[0]),
                    "distinct_predictions": int(len(np.unique(np.argmax(val_logits, axis=1)))),
                }
                bar.update(1)
    bar.close()

    # the Q3 network's gradient check (Q2.5), on the raw images numpy-classifier trains on
    pick = np.random.default_rng([run.seed, 3]).choice(
        len(y_train), size=min(cfg.gradcheck_images, len(y_train)), replace=False
    )
    errors = q3_gradcheck(
        raw_train[pick].astype(np.float64),
        y_train[pick],
        seed=run.seed,
        entries=cfg.gradcheck_entries,
    )

    # figures
    n_layers = len(cfg.hidden)
    panels = []
    for act in cfg.activations:
        lines: dict[str, list[Line]] = {"std": [], "delta": [], "grad": []}
        for scheme in cfg.inits:
            s0 = step0[f"{act}/{scheme}"]
            label = LABELS[scheme] + (" (0: off the log axis)" if scheme == "zeros" else "")
            hidden_layers, weight_layers = range(1, n_layers + 1), range(1, n_layers + 2)
            for key, xs, ys in (
                ("std", hidden_layers, s0.activation_std),
                ("delta", weight_layers, s0.delta_norm),
                ("grad", weight_layers, s0.grad_norm),
            ):
                shown = label if key == "std" else None  # one legend per row
                lines[key].append(Line(xs, _positive(ys), shown, "o-", 3))
        for key, what, ylabel, xlabel in (
            ("std", "activations", "std of the layer's activations", "hidden layer"),
            ("delta", "back-propagated gradient", "‖∂L/∂z‖ (z = xW + b)", "layer (last: output)"),
            ("grad", "weight gradient", "‖∂L/∂W‖ (Frobenius)", "layer (last: output)"),
        ):
            panels.append(
                LinePanel(
                    lines[key],
                    f"{act}: {what}",
                    ylabel,
                    log=True,
                    integer_x=True,
                    xlabel=xlabel,
                )
            )
    width = "-".join(str(h) for h in sorted(set(cfg.hidden)))
    run.figure(
        "step0_scale",
        line_panels(
            panels,
            title=f"1024-{n_layers}×{width}-36 network on chars36, before training: "
            "scale per layer for each initialisation",
            panel_size=(4.6, 3.8),
            ncols=3,
        ),
        "For each activation (rows), before the first update, on "
        f"{len(probe)} validation images: the standard deviation of every hidden layer's "
        "activations (left), the norm of the gradient sent back to every layer's output "
        "(middle) and of every weight matrix's gradient (right, the product of the forward "
        "and the backward scale); one line per initialisation, log axes. Flat lines keep the "
        "signal's scale; N(0, 0.01²) fades in both directions, N(0, 1) explodes (ReLU) or "
        "saturates (tanh). Zero weights give exactly 0, off the log axis.",
    )
    diverged = {}
    for act in cfg.activations:
        stopped = [
            (r["diverged_epoch"], LABELS[r["init"]])
            for r in results.values()
            if r["activation"] == act and r["diverged_epoch"] is not None
        ]
        if stopped:
            epoch = min(e for e, _ in stopped)
            names = ", ".join(n for e, n in stopped if e == epoch)
            diverged[act] = (epoch, f"{names}: loss overflowed")
    run.figure(
        "learning_curves",
        curves_per_variant(
            run.history(),
            list(cfg.activations),
            [
                CurveRow("train_loss", "training loss (nats)", log=True),
                CurveRow("val_accuracy", "validation accuracy", reference=1 / 36),
            ],
            title=f"SGD (lr {cfg.lr:g}, batch {cfg.batch_size}) from each initialisation "
            "(dotted: chance, 1/36)",
            splits=[(s, LABELS[s], "o-") for s in cfg.inits],
            key="{metric}@{variant}/{split}",
            marks=diverged,
            column_titles={a: f"{a} hidden units" for a in cfg.activations},
        ),
        "Training loss (running mean over each epoch's batches) and validation accuracy before "
        "training (epoch 0) and after every epoch, one line per initialisation, the same "
        "batches for all. A dotted vertical line marks the epoch a network's loss overflowed "
        "(its curves stop there); zero and N(0, 0.01²) stay at chance.",
    )
    rows = [
        (
            r["activation"],
            LABELS[r["init"]],
            f"{r['last_layer_activation_std']:.2g}",
            "-" if r["last_layer_saturated"] is None else f"{r['last_layer_saturated']:.0%}",
            "-" if r["gradient_ratio"] is None else f"{r['gradient_ratio']:.3g}",
            f"{r['val_accuracy']:.3f}",
            "-" if r["diverged_epoch"] is None else str(r["diverged_epoch"]),
        )
        for r in results.values()
    ]
    lines = text_table(
        (
            "activation",
            "init",
            "last std",
            "saturated",
            "‖δ₁‖/‖δ_L‖",
            "val acc",
            "diverged at",
        ),
        rows,
    )
    lines += ["", "Q3 network (1024-64-36 sigmoid) gradient check, relative error per tensor:"]
    lines += [f"  {k:6s} {v:.2e}" for k, v in errors.items()]
    run.figure(
        "summary_table",
        text_figure(lines, f"Initialisations after {cfg.epochs} epochs, and the gradient check"),
        "Per initialisation: the last hidden layer's activation std and saturated share at "
        "step 0, the back-propagated gradient at the first layer over the output layer's, "
        "the final validation accuracy, the epoch the loss overflowed; below, the Q3 "
        "network's gradient check.",
    )

    matched = [
        results[f"{a}/{MATCHED[a]}"]["val_accuracy"]
        for a in cfg.activations
        if f"{a}/{MATCHED[a]}" in results
    ]
    return {
        "scaled_val_accuracy": float(np.mean(matched)) if matched else None,
        "init": results,
        "step0": {
            name: {
                "activation_std": s.activation_std,
                "saturated": s.saturated,
                "delta_norm": s.delta_norm,
                "grad_norm": s.grad_norm,
                "loss": s.loss,
            }
            for name, s in step0.items()
        },
        "gradcheck": errors,
        "gradcheck_max_error": max(errors.values()),
        "gradcheck_images": len(pick),
        "gradcheck_entries": cfg.gradcheck_entries,
        "chance_accuracy": 1 / 36,
        "depth": n_layers,
        "n_train": len(y_train),
        "n_val": len(y_val),
    }


def _finite(v: float) -> float | None:
    import math

    return v if math.isfinite(v) else None


def _ratio(first: float, last: float) -> float | None:
    import math

    return first / last if last > 0 and math.isfinite(first / last) else None


def _positive(values: list[float]) -> list[float]:
    """Values for a log axis: 0 and non-finite values become NaN (a gap in the line)."""
    import math

    return [v if math.isfinite(v) and v > 0 else math.nan for v in values]


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
