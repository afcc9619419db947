"""minimal-ratio: what the loss surface looks like where the gradient is almost zero (MLDS
HW1 1-2, "what happens when the gradient is almost zero").

Each of `runs` small tanh networks (float64) fits sin(x) + 0.5x (the seed's function): Adam,
then L-BFGS on the loss until training has converged; then the objective is switched to
‖∇L‖², minimised by Levenberg–Marquardt (`nnlab.dynamics.minimise_gradient_norm`), which
walks to the nearest critical point, minimum or saddle. There the exact Hessian (double
back-propagation with `torch.func`) and its eigenvalues are computed, and

    minimal ratio = (number of eigenvalues > τ) / (number of parameters),

τ = 1e-6 · max|λ| (eigenvalues within τ of 0 are flat directions, counted apart as
`flat_fraction`). A strict local minimum has ratio 1 (and 0 flat directions).

**Why L-BFGS runs long first.** Minimising ‖g‖² stops wherever its own gradient H·g vanishes,
and that includes points where g ≠ 0 lies in the Hessian's (near-)null space: there the loss
still slopes along directions without curvature. Started after 500 L-BFGS iterations, 3 of 30
runs stalled at ‖g‖ = 1.1–1.3e-4 however many Levenberg–Marquardt steps followed (50 or 100
made no difference); after 1500 iterations ‖g‖ is 1e-5–1e-2 when the switch happens and every
one of 16 test runs ended below 2.2e-5.

The seed's student measured instead the fraction of *weights* with |w| < 0.01, which it also
called the minimal ratio. That is a property of the weights' sizes, not of the curvature: it
is computed at the same points (`near_zero_weight_fraction`), plotted beside the real one,
and their correlation over the runs is in the summary. The Hessian of the first run is
checked against central differences of the gradient (`hessian_fd_max_error`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    import torch

    from nnlab.runs.run import Run

EIGEN_TOLERANCE = 1e-6  # relative to the largest |eigenvalue|
SEED_WEIGHT_THRESHOLD = 0.01  # the seed's "near-zero weight"
GRADIENT_GOAL = 1e-4


@dataclass
class Config(ExperimentConfig):
    runs: int = param(100, low=2, high=10_000, help="networks trained to a critical point")
    hidden: tuple[int, ...] = param((8, 8), low=1, high=64, help="tiny: the Hessian is P x P")
    points: int = param(128, low=4, high=10_000, help="training points of sin(x) + 0.5x")
    adam_steps: int = param(1_000, low=0, high=1_000_000)
    lbfgs_steps: int = param(1_500, low=0, high=100_000, help="L-BFGS on the loss")
    gradient_steps: int = param(50, low=1, high=10_000, help="minimising ‖g‖²")
    lr: float = param(1e-2, low=0.0, low_open=True, help="Adam learning rate")
    workers: int = param(1, low=1, high=64, help="worker processes")


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "runs": 3,
        "hidden": (4, 4),
        "points": 32,
        "adam_steps": 200,
        "lbfgs_steps": 100,
        "gradient_steps": 40,
    },  # fmt: skip
    "quick": {"runs": 30, "workers": 2},
    "full": {"workers": 2},
}


def critical_point(
    *, x: torch.Tensor, y: torch.Tensor, hidden: tuple[int, ...], adam_steps: int,
    lbfgs_steps: int, gradient_steps: int, lr: float, seed: int, check: bool,
) -> dict:  # fmt: skip
    """One run: train, go to ‖g‖ ≈ 0, measure the Hessian there (a `train_runs` task)."""
    import torch
    import torch.nn.functional as F

    from nnlab.dynamics import (
        finite_difference_hessian,
        flat_parameters,
        gradient,
        hessian,
        loss_of_parameters,
        minimise_gradient_norm,
        set_flat_parameters,
    )
    from nnlab.models import MLP

    torch.manual_seed(seed)
    model = MLP(1, hidden, 1, "tanh").double()
    # inline, not dynamics.train_regressor: Adam then L-BFGS in float64 on y as it is (that
    # loop standardises y), and the trained model itself is what the Hessian is taken of
    opt = torch.optim.Adam(model.parameters(), lr)
    for _ in range(adam_steps):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if lbfgs_steps:
        lbfgs = torch.optim.LBFGS(
            model.parameters(), lr=1, max_iter=lbfgs_steps, history_size=50,
            line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=0,
        )  # fmt: skip

        def closure() -> torch.Tensor:
            lbfgs.zero_grad()
            value = F.mse_loss(model(x), y)
            value.backward()
            return value

        lbfgs.step(closure)
    f = loss_of_parameters(model, x, y, F.mse_loss)
    converged = flat_parameters(model)
    theta, norms = minimise_gradient_norm(f, converged, gradient_steps)
    set_flat_parameters(model, theta)
    h = hessian(f, theta)
    eig = torch.linalg.eigvalsh(h)
    tol = EIGEN_TOLERANCE * float(eig.abs().max())
    out = {
        "loss": float(f(theta)),
        "grad_norm": float(gradient(f, theta).norm()),
        "grad_norm_before": float(gradient(f, converged).norm()),
        "minimal_ratio": float((eig > tol).double().mean()),
        "flat_fraction": float((eig.abs() <= tol).double().mean()),
        "negative_fraction": float((eig < -tol).double().mean()),
        "near_zero_weight_fraction": float((theta.abs() < SEED_WEIGHT_THRESHOLD).double().mean()),
        "eigenvalues": eig,
        "parameters": len(theta),
    }
    if check:
        fd = finite_difference_hessian(f, theta)
        out["hessian_fd_max_error"] = float((h - fd).abs().max())
        out["hessian_max_abs"] = float(h.abs().max())
    return out


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.dynamics import train_runs
    from nnlab.dynamics.targets import sample_target
    from nnlab.viz import Line, LinePanel, line_panels

    _, x, y = sample_target("sin_half_x", cfg.points, dtype=__import__("torch").float64)
    names = [f"run{i:03d}" for i in range(cfg.runs)]
    tasks = {
        name: dict(x=x, y=y, hidden=cfg.hidden, adam_steps=cfg.adam_steps,
                   lbfgs_steps=cfg.lbfgs_steps,
                   gradient_steps=cfg.gradient_steps, lr=cfg.lr,
                   seed=run.seed * 100_003 + i, check=i == 0)
        for i, name in enumerate(names)
    }  # fmt: skip
    results = train_runs(run, critical_point, tasks, workers=cfg.workers, desc="critical points")
    r = [results[n] for n in names]

    def arr(key: str) -> np.ndarray:
        return np.array([x[key] for x in r])

    loss, ratio, norm = arr("loss"), arr("minimal_ratio"), arr("grad_norm")
    near = arr("near_zero_weight_fraction")
    corr = float(np.corrcoef(ratio, near)[0, 1]) if ratio.std() and near.std() else None
    p = r[0]["parameters"]
    order = np.argsort(norm)
    run.figure(
        "minimal_ratio",
        line_panels(
            [
                LinePanel(
                    [Line(ratio.tolist(), loss.tolist(), None, "o", 4)],
                    "Hessian: fraction of eigenvalues > 0",
                    "training MSE (log)",
                    log=True,
                    xlabel="minimal ratio",
                ),
                LinePanel(
                    [Line(near.tolist(), loss.tolist(), None, "s", 4)],
                    f"the seed's quantity: fraction of |w| < {SEED_WEIGHT_THRESHOLD}",
                    "training MSE (log)",
                    log=True,
                    xlabel="near-zero weight fraction",
                ),
                LinePanel(
                    [Line(list(range(1, len(norm) + 1)), norm[order].tolist(), None, "o-", 3)],
                    "‖∇L‖ at the recorded points",
                    "‖g‖ (log)",
                    log=True,
                    reference=(GRADIENT_GOAL, "goal 1e-4"),
                    xlabel="run (sorted)",
                ),
            ],  # fmt: skip
            title=f"{cfg.runs} tanh nets 1-{'-'.join(map(str, cfg.hidden))}-1 ({p} parameters) "
            "on sin(x)+0.5x, at points where ‖∇L‖ ≈ 0",
        ),
        "Left: loss against the minimal ratio (share of positive Hessian eigenvalues; 1 is a "
        "strict minimum). Middle: the seed's 'minimal ratio', the share of near-zero weights, "
        "at the same points: a different quantity. Right: gradient norms, sorted.",
    )
    first = r[0]
    return {
        "runs": cfg.runs,
        "parameters": p,
        "grad_norm_max": float(norm.max()),
        "grad_norm_median": float(np.median(norm)),
        "grad_norm_min": float(norm.min()),
        "below_goal": int((norm < GRADIENT_GOAL).sum()),
        "grad_norm_before_median": float(np.median(arr("grad_norm_before"))),
        "loss_median": float(np.median(loss)),
        "loss_max": float(loss.max()),
        "minimal_ratio_mean": float(ratio.mean()),
        "minimal_ratio_min": float(ratio.min()),
        "minimal_ratio_max": float(ratio.max()),
        "flat_fraction_mean": float(arr("flat_fraction").mean()),
        "negative_fraction_mean": float(arr("negative_fraction").mean()),
        "saddles": int((arr("negative_fraction") > 0).sum()),
        "near_zero_weight_fraction_mean": float(near.mean()),
        "ratio_vs_near_zero_correlation": corr,
        "hessian_fd_max_error": first["hessian_fd_max_error"],
        "hessian_max_abs": first["hessian_max_abs"],
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
