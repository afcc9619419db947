"""sparse-autoencoder: UFLDL's sparse autoencoder learns edge detectors from natural images.

The exercise of Andrew Ng's UFLDL tutorial (seed 000 Problem 3A; seed 003's extra slides):

1. **Data.** 10,000 random 8×8 patches of whitened natural images (``dataset``:
   ``natural-images``, scikit-image's photographs whitened like Olshausen's IMAGES.mat, see
   ``nnlab.data.natural_images``; or ``ufldl-images``, the exercise's own IMAGES.mat), each
   normalised as ``sampleIMAGES.m`` does: its mean removed, truncated to ±3σ, scaled to
   [0.1, 0.9] for the sigmoid outputs.
2. **Model.** 64 → 25 → 64 sigmoid units; cost = mean squared error / 2 + (λ/2)‖W‖² +
   β Σ_j KL(ρ ‖ ρ̂_j), λ = 1e-4, β = 3, ρ = 0.01 (``nnlab.scratch.sparse_autoencoder``:
   NumPy, one vectorised function returns the cost and its gradient).
3. **Gradient check** before training, in float64: central differences, ε = 1e-4, on the
   first ``gradcheck_examples`` (10) patches at the initial parameters, for
   ``gradcheck_params`` (400) entries of θ, a quarter each from W1, W2, b1 and b2 (all 89
   biases here): every formula of the gradient is exercised, and a wrong one shows as
   clearly as in a check of all 3,289. The relative difference ‖num − ana‖ / ‖num + ana‖ is
   reported (UFLDL expects ~1e-9; a bug gives > 1e-3).
4. **Training**: ``scipy.optimize.minimize(method="L-BFGS-B")``, at most 400 iterations, the
   cost and its three terms logged each iteration. The cost's work on the examples runs in
   float32 (``dtype``; ``--set dtype=float64`` for the exact arithmetic): twice as fast, and
   over seeds 0-6 of the quick preset the filters are as edge-like (mean edge fraction 0.95
   against 0.94 in float64, mean median coherence 0.84 both) and the final cost the same
   (mean 0.4032 both; at most 0.4% apart for a seed, while seeds differ by up to 0.6%).
   The summary's costs are float64 evaluations at the initial and final θ.
5. **Is it an edge detector? — a number.** For each filter (a row of W1 as an 8×8 image),
   the *orientation coherence* of its structure tensor J = Σ ∇w ∇wᵀ (summed over the filter):
   c = (λ1 − λ2) / (λ1 + λ2) ∈ [0, 1]: 1 when every gradient of the filter points the same
   way (an oriented edge or grating), ~0 for isotropic structure. A filter counts as
   oriented when c ≥ 0.5 (its gradient energy along the dominant direction is at least 3×
   the orthogonal one; random 8×8 noise exceeds it with probability < 0.001). Reported for
   the trained filters and for the random initial ones.

``--set dataset=mnist`` (or ``fashion-mnist``) runs the UFLDL follow-up instead: the first
``n_patches`` training images, 28×28 = 784 inputs, with UFLDL's hidden = 196, λ = 3e-3,
ρ = 0.1, β = 3 — pen-stroke filters. (On those datasets ``hidden``, ``lam`` and ``rho`` left at
the patch defaults 25, 1e-4, 0.01 take these digit values; other values are kept. The
resolved values are what config.json records.) Such a run does 5 products of 10000×784 by
784×196 per evaluation, 15 GFLOP: about a minute on two cores.

Timings (the median time of one cost-and-gradient evaluation, the training time) are kept
out of summary.json, which is deterministic: they go to status.json (``run.record_time``)
and to the ``training`` text figure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment, Reference

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run

DIGIT_DATASETS = ("mnist", "fashion-mnist")
#: UFLDL's hyper-parameters for 8×8 patches, and for 28×28 digits (the follow-up exercises).
PATCH_DEFAULTS = {"hidden": 25, "lam": 1e-4, "rho": 0.01}
DIGIT_DEFAULTS = {"hidden": 196, "lam": 3e-3, "rho": 0.1}
#: A filter is "oriented" when its structure-tensor coherence reaches this (random 8×8 noise
#: exceeds it with probability < 0.001: see ``nnlab.numerics.imaging.orientation_coherence``).
EDGE_THRESHOLD = 0.5
#: Finite-difference step of the gradient check (UFLDL's).
GRADCHECK_EPS = 1e-4


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["natural-images", "ufldl-images", "mnist", "fashion-mnist"] = "natural-images"
    image_size: int = param(
        256, low=16, high=300, help="natural-images: side of the whitened tiles, pixels"
    )
    patch_size: int = param(8, low=2, high=64, help="side of the square patches (not digits)")
    n_patches: int = param(
        10000,
        low=10,
        high=1_000_000,
        help="training examples: random patches, or the first N digit images",
    )
    hidden: int = param(25, low=1, high=8_192, help="hidden units (digits: 196 when left at 25)")
    lam: float = param(1e-4, low=0.0, help="weight decay λ (digits: 3e-3 when left at 1e-4)")
    beta: float = param(3.0, low=0.0, help="weight β of the sparsity penalty")
    rho: float = param(0.01, help="sparsity target ρ, in (0, 1) (digits: 0.1 when left at 0.01)")
    steps: int = param(400, low=1, high=100_000, help="maximum L-BFGS iterations")
    threads: int = param(
        2,
        low=1,
        high=64,
        help="threads sharing each cost evaluation (blocks of examples split; the result "
        "is the same for any number)",
    )
    dtype: Literal["float32", "float64"] = param(
        "float32",
        help="precision of the training cost's work on the examples: float32 is ~2x faster "
        "and learns the same filters; the gradient check and the summary's costs are float64",
    )
    gradcheck_examples: int = param(
        10, low=0, high=100_000, help="examples in the gradient check before training (0: skip it)"
    )
    gradcheck_params: int = param(
        400,
        low=1,
        high=1_000_000,
        help="check about this many parameters: a seeded random subset, a quarter each from "
        "W1, W2, b1, b2 (all of a smaller group)",
    )

    def check(self) -> None:
        if not 0.0 < self.rho < 1.0:
            raise ConfigError(
                f"setting 'rho' (the sparsity target, a mean activation) must be strictly "
                f"between 0 and 1; got {self.rho}"
            )
        if self.gradcheck_examples > self.n_patches:
            raise ConfigError(
                f"gradcheck_examples ({self.gradcheck_examples}) cannot exceed n_patches "
                f"({self.n_patches}); lower it or set it to 0 to skip the check"
            )
        if self.dataset in DIGIT_DATASETS:
            for key, value in DIGIT_DEFAULTS.items():
                if getattr(self, key) == PATCH_DEFAULTS[key]:
                    object.__setattr__(self, key, value)


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"n_patches": 3000, "steps": 300},
    "quick": {},  # the UFLDL exercise: 10,000 patches, 400 iterations, on embedded images
    "full": {"dataset": "ufldl-images"},  # the same on the exercise's own IMAGES.mat
}

#: The seed's costs before and after training (seed 000 Problem 3A: "48.85 ... 0.481"), measured
#: on the exercise's own images with its configuration, the `full` preset.
SEED_COSTS = {
    "cost_initial": Reference(
        48.85, "the seed's cost of the untrained network (seed 000 Problem 3A)", "ufldl-images"
    ),
    "cost_final": Reference(
        0.481, "the seed's cost after L-BFGS (seed 000 Problem 3A)", "ufldl-images"
    ),
}
#: Settings that do not change what is trained: a run differing from the `full` preset only in
#: these still has the seed's configuration.
RESULT_FREE = ("threads", "gradcheck_examples", "gradcheck_params")


def seed_configuration(cfg: Config) -> bool:
    """Whether `cfg` trains what the seed did: the `full` preset's settings (any preset name;
    `--preset quick --set dataset=ufldl-images` is the same run)."""
    import dataclasses

    full = dataclasses.asdict(Config(**PRESETS["full"]))
    ours = dataclasses.asdict(cfg)
    return all(ours[k] == v for k, v in full.items() if k not in RESULT_FREE)


def seed_costs(cfg: Config, measured: dict[str, float]) -> list[dict[str, Any]]:
    """The run's costs beside the seed's, each marked comparable only on the seed's
    configuration (a table in the report)."""
    preset = "full" if seed_configuration(cfg) else None
    rows = []
    for key, ref in SEED_COSTS.items():
        same = ref.comparable({"dataset": cfg.dataset}, preset)
        rows.append(
            {
                "cost": key,
                "nnlab": measured[key],
                "seed": ref.value,
                "difference": measured[key] - ref.value if same else None,
                "comparable": same,
                "source": ref.source,
            }
        )
    return rows


# --------------------------------------------------------------------------- data


def training_data(cfg: Config, run: Run) -> tuple[np.ndarray, int, str, np.ndarray | None]:
    """(examples (m, side²) in [0, 1], side, description, source images or None)."""
    import numpy as np

    from nnlab.data import load_dataset
    from nnlab.data.natural_images import (
        NATURAL_IMAGE_NAMES,
        load_natural_images,
        load_ufldl_images,
        normalize_patches,
        sample_patches,
    )

    if cfg.dataset in DIGIT_DATASETS:
        data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
        x = data.x_train[: cfg.n_patches]
        if len(x) < cfg.n_patches:
            raise ConfigError(
                f"n_patches={cfg.n_patches} but {cfg.dataset} has {len(x)} training images"
            )
        side = x.shape[1]
        what = f"the first {len(x)} {cfg.dataset} training images, raw pixels in [0, 1]"
        return np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float64), side, what, None
    if cfg.dataset == "ufldl-images":
        images = load_ufldl_images(download=run.allow_download, progress=not run.quiet)
        source = "UFLDL's IMAGES.mat"
    else:
        images = load_natural_images(cfg.image_size)
        source = f"tiles of scikit-image's {', '.join(NATURAL_IMAGE_NAMES)}"
    if cfg.patch_size > min(images.shape[1:]):
        raise ConfigError(
            f"patch_size={cfg.patch_size} exceeds the {images.shape[1]}x{images.shape[2]} "
            "images; choose a smaller patch_size"
        )
    patches = sample_patches(
        images, cfg.patch_size, cfg.n_patches, rng=np.random.default_rng([run.seed, 0])
    )
    what = (
        f"{cfg.n_patches} random {cfg.patch_size}x{cfg.patch_size} patches of {len(images)} "
        f"whitened {images.shape[1]}x{images.shape[2]} images ({source})"
    )
    return normalize_patches(patches), cfg.patch_size, what, images


# --------------------------------------------------------------------------- the recipe


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.numerics.imaging import orientation_coherence
    from nnlab.scratch.sparse_autoencoder import (
        SparseAutoencoderCost,
        check_gradient,
        encode,
        filters,
        gradcheck_indices,
        initialize_parameters,
        reconstruct,
        train,
    )
    from nnlab.viz import (
        Histogram,
        filters_figure,
        learning_curves,
        mosaics_figure,
        overlaid_histograms,
        text_figure,
        text_table,
        whitened_images_figure,
    )

    run.load_checkpoint()  # L-BFGS-B cannot be checkpointed: a resume starts over from here
    data, side, what, images = training_data(cfg, run)
    m, visible = data.shape
    theta0 = initialize_parameters(visible, cfg.hidden, rng=np.random.default_rng([run.seed, 1]))

    # gradient check at the initial parameters, on a few examples
    gradcheck: dict[str, Any] = {}
    if cfg.gradcheck_examples:
        small = SparseAutoencoderCost(
            data[: cfg.gradcheck_examples], cfg.hidden, cfg.lam, cfg.beta, cfg.rho, threads=1
        )
        rng = np.random.default_rng([run.seed, 2])
        indices = gradcheck_indices(visible, cfg.hidden, cfg.gradcheck_params, rng)
        started = time.perf_counter()
        difference, _, _ = check_gradient(small, theta0, GRADCHECK_EPS, indices, small.value)
        run.record_time("gradcheck_seconds", time.perf_counter() - started)
        gradcheck = {
            "gradcheck_relative_difference": difference,
            "gradcheck_examples": cfg.gradcheck_examples,
            "gradcheck_parameters": len(indices),
            "gradcheck_eps": GRADCHECK_EPS,
        }

    # training, in cfg.dtype
    hyper = (cfg.hidden, cfg.lam, cfg.beta, cfg.rho, cfg.threads)
    cost = SparseAutoencoderCost(data, *hyper, dtype=cfg.dtype)
    seconds: list[float] = []

    def timed(theta: np.ndarray) -> tuple[float, np.ndarray]:
        started = time.perf_counter()
        out = cost(theta)
        seconds.append(time.perf_counter() - started)
        return out

    timed(theta0)
    parts0 = cost.parts
    run.log(
        0,
        cost=parts0.total,
        reconstruction=parts0.reconstruction,
        weight_decay=parts0.weight_decay,
        sparsity=parts0.sparsity,
    )
    bar = run.bar(total=cfg.steps, desc=f"L-BFGS {visible}-{cfg.hidden}-{visible}", unit="it")
    iteration = 0

    def log_iteration(intermediate_result: Any) -> None:
        nonlocal iteration
        iteration += 1
        x = intermediate_result.x
        # L-BFGS-B's last evaluation is normally at the accepted point; if not, evaluate it
        if cost.parts is None or abs(cost.parts.total - intermediate_result.fun) > 0:
            timed(x)
        parts = cost.parts
        run.log(
            iteration,
            cost=intermediate_result.fun,
            reconstruction=parts.reconstruction,
            weight_decay=parts.weight_decay,
            sparsity=parts.sparsity,
        )
        bar.update(1)
        bar.set_postfix(cost=f"{intermediate_result.fun:.4f}")

    started = time.perf_counter()
    result = train(timed, theta0, maxiter=cfg.steps, callback=log_iteration)
    train_seconds = time.perf_counter() - started
    bar.close()
    theta = result.x
    cost.close()
    # the costs of the summary: float64 evaluations
    exact = SparseAutoencoderCost(data, *hyper) if cfg.dtype != "float64" else cost
    cost_initial, _ = exact(theta0)
    rho_hat_initial = exact.rho_hat.copy()
    cost_final, _ = exact(theta)
    costs = seed_costs(cfg, {"cost_initial": cost_initial, "cost_final": cost_final})
    parts, rho_hat = exact.parts, exact.rho_hat.copy()
    exact.close()
    per_eval = float(np.median(seconds))
    run.record_time("train_seconds", train_seconds)
    run.record_time("seconds_per_evaluation_median", per_eval)

    # what was learned
    w_trained = filters(theta, visible, cfg.hidden).reshape(-1, side, side)
    w_random = filters(theta0, visible, cfg.hidden).reshape(-1, side, side)
    c_trained, c_random = orientation_coherence(w_trained), orientation_coherence(w_random)
    frac_trained = float(np.mean(c_trained >= EDGE_THRESHOLD))
    frac_random = float(np.mean(c_random >= EDGE_THRESHOLD))
    recon = reconstruct(theta, data, cfg.hidden)
    centred = data - data.mean(axis=0)
    r2 = 1.0 - float(np.sum((recon - data) ** 2) / np.sum(centred**2))
    hidden_act = encode(theta, data[:1000], cfg.hidden)

    arch = f"{visible}-{cfg.hidden}-{visible}"
    digits = cfg.dataset in DIGIT_DATASETS
    kind = "pen strokes" if digits else "edge detectors"
    expected = (
        "UFLDL's follow-up exercise finds pen strokes: a stroke has one dominant direction, "
        "so it scores a high coherence; loops and whole-digit templates score lower."
        if digits
        else "UFLDL's exercise finds oriented edges (Gabor-like): localised, one direction."
    )
    n_shown = min(m, 25 if side <= 12 else 16)  # reconstructed examples shown
    run.figure(
        "filters",
        filters_figure(
            [w_trained, w_random],
            [
                f"trained: {frac_trained:.0%} oriented (c >= {EDGE_THRESHOLD})",
                f"random initial: {frac_random:.0%} oriented",
            ],
            f"The {cfg.hidden} filters (rows of W1); each divided by its own max |weight|",
        ),
        f"Left: the {cfg.hidden} learned features of the {arch} autoencoder, each row of W1 "
        f"shown as a {side}x{side} image divided by its largest |weight| (grey = 0). Right: "
        f"the random initial weights, shown the same way. {expected} {frac_trained:.0%} of "
        f"the trained and {frac_random:.0%} of the random filters are oriented "
        f"(orientation coherence c >= {EDGE_THRESHOLD}; median c {np.median(c_trained):.2f} "
        f"trained, {np.median(c_random):.2f} random).",
    )
    run.figure(
        "filters_coherence",
        overlaid_histograms(
            [
                Histogram(c_random, f"random initial (median {np.median(c_random):.2f})", "0.65"),
                Histogram(
                    c_trained, f"trained (median {np.median(c_trained):.2f})", "#2166ac", 0.85
                ),
            ],
            np.linspace(0.0, 1.0, 21),
            title=f"Are the filters oriented {kind}?",
            xlabel="orientation coherence c = (λ1 − λ2)/(λ1 + λ2) of the filter's structure tensor",
            ylabel="filters",
            marker=(EDGE_THRESHOLD, f"threshold {EDGE_THRESHOLD}"),
            xlim=(0.0, 1.0),
            legend_loc="upper center",
        ),
        "Orientation coherence of each filter's structure tensor J = Σ ∇w ∇wᵀ: 1 when all "
        f"of a filter's gradients are parallel (an oriented {'stroke' if digits else 'edge'}), "
        "near 0 without a dominant "
        f"orientation. Threshold {EDGE_THRESHOLD}: the dominant direction holds >= 3x the "
        "gradient energy of the orthogonal one.",
    )
    run.figure(
        "sparsity",
        overlaid_histograms(
            [
                Histogram(rho_hat_initial, "random initial weights", "0.65"),
                Histogram(rho_hat, "trained", "#2166ac", 0.85),
            ],
            np.geomspace(max(min(rho_hat.min(), rho_hat_initial.min(), cfg.rho) / 2, 1e-6), 1, 41),
            title="Sparsity: mean hidden activations against the target ρ",
            xlabel="mean activation of a hidden unit over the training examples (log scale)",
            ylabel="hidden units",
            marker=(cfg.rho, f"target ρ = {cfg.rho:g}"),
            log_x=True,
        ),
        f"Mean activation of each hidden unit over the {m} training examples, before (grey) "
        f"and after training (blue); the KL penalty pulls them towards ρ = {cfg.rho:g}.",
    )
    run.figure(
        "reconstructions",
        mosaics_figure(
            [x[:n_shown].reshape(n_shown, side, side) for x in (data, recon)],
            [f"{n_shown} training inputs", "their reconstructions"],
            "Inputs and reconstructions (pixel values 0..1, same scale)",
            background=1.0,
        ),
        f"Training examples (left) and the autoencoder's reconstructions (right), tile by "
        f"tile; over all examples the reconstruction explains {r2:.1%} of the pixel variance.",
    )
    history = run.history()
    run.figure(
        "learning_curves",
        learning_curves(
            history,
            groups={
                "total loss": ["cost"],
                "terms of the loss": ["reconstruction", "weight_decay", "sparsity"],
            },
            title=f"Sparse autoencoder cost J per L-BFGS iteration ({arch})",
            xlabel="L-BFGS iteration",
        ),
        "The cost J (left) and its three terms (right): squared error / 2, (λ/2)‖W‖², "
        "β Σ KL(ρ‖ρ̂). Iteration 0 is the random initialisation.",
    )
    if images is not None:
        run.figure(
            "images",
            whitened_images_figure(images),
            f"Some of the whitened images the patches come from ({what}), each shown within "
            "±3 of its standard deviations.",
        )
    lines = text_table(
        ("quantity", "value"),
        [
            ("data", f"{m} examples x {visible} pixels"),
            ("model", f"{arch} sigmoid, λ={cfg.lam:g}, β={cfg.beta:g}, ρ={cfg.rho:g}"),
            ("precision", f"{cfg.dtype} training; float64 check and costs below"),
            (
                "gradient check |num-ana|/|num+ana|",
                _fmt(gradcheck.get("gradcheck_relative_difference")),
            ),
            *[
                (
                    f"cost {'before' if c['cost'] == 'cost_initial' else 'after'} training",
                    f"{c['nnlab']:.6f}   (seed: {c['seed']:g}"
                    + (")" if c["comparable"] else "; not its configuration)"),
                )
                for c in costs
            ],
            (
                "  reconstruction / decay / sparsity",
                f"{parts.reconstruction:.4f} / {parts.weight_decay:.4f} / {parts.sparsity:.4f}",
            ),
            ("L-BFGS iterations / evaluations", f"{result.nit} / {result.nfev}"),
            ("stopped because", str(result.message)),
            ("median time per cost+gradient", f"{per_eval * 1e3:.2f} ms"),
            ("training time", f"{train_seconds:.2f} s"),
            (
                f"filters with coherence >= {EDGE_THRESHOLD}",
                f"trained {frac_trained:.0%}, random {frac_random:.0%}",
            ),
            ("mean hidden activation", f"{rho_hat.mean():.4f} (target {cfg.rho:g})"),
            ("hidden activation > 0.5", f"{np.mean(hidden_act > 0.5):.2%} of unit-examples"),
        ],
    )
    run.figure(
        "training",
        text_figure(lines, "Sparse autoencoder: training summary"),
        f"Numbers of this run. Timings (this machine, this run; not in summary.json): median "
        f"{per_eval * 1e3:.2f} ms per cost-and-gradient evaluation, {train_seconds:.2f} s of "
        "L-BFGS in all.",
    )

    return {
        "dataset": cfg.dataset,
        "data": what,
        "examples": m,
        "visible": visible,
        "hidden": cfg.hidden,
        "lam": cfg.lam,
        "beta": cfg.beta,
        "rho": cfg.rho,
        "dtype": cfg.dtype,
        **gradcheck,
        "cost_initial": cost_initial,
        "cost_final": cost_final,
        "seed_costs": costs,
        "seed_costs_comparable": costs[0]["comparable"],
        "seed_costs_note": "the seed's configuration"
        if costs[0]["comparable"]
        else "not comparable: the seed trained on the exercise's IMAGES.mat, "
        "`nnlab run sparse-autoencoder --preset full`",
        "reconstruction_final": parts.reconstruction,
        "weight_decay_final": parts.weight_decay,
        "sparsity_final": parts.sparsity,
        "reconstruction_r2": r2,
        "iterations": int(result.nit),
        "evaluations": int(result.nfev),
        "optimizer_message": str(result.message),
        "mean_activation": float(rho_hat.mean()),
        "mean_activation_min": float(rho_hat.min()),
        "mean_activation_max": float(rho_hat.max()),
        "edge_threshold": EDGE_THRESHOLD,
        "edge_fraction_trained": frac_trained,
        "edge_fraction_random": frac_random,
        "coherence_median_trained": float(np.median(c_trained)),
        "coherence_median_random": float(np.median(c_random)),
    }


def _fmt(value: float | None) -> str:
    return "skipped" if value is None else f"{value:.2e}"


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
