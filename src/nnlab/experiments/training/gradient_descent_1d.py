"""gradient-descent-1d: the geometry of x_{k+1} = x_k − η f′(x_k) (seed 001 Problem 1.1).

In one dimension a gradient step follows the tangent line at x_k downhill: the slope f′(x_k)
says which way is down and how steep, and η says how far along x to move. Drawn with the
iterates and their tangents for four step sizes (multiples ``eta_times_curvature`` of 1/L):

* a **quadratic** f(x) = L/2 (x − x*)², where the error obeys x_{k+1} − x* = (1 − ηL)(x_k − x*)
  exactly: every step shrinks it by |1 − ηL| (small η: slow; η = 1/L: one step; 1/L < η < 2/L:
  overshoots and oscillates but converges; η > 2/L: |1 − ηL| > 1, diverges). The run measures
  |x_{k+1} − x*| / |x_k − x*| at every step and sets it beside |1 − ηL|;
* a **non-convex** quartic f(x) = x⁴ − 2x² + ``tilt``·x with two minima, started on the steep
  outer wall of the shallower one (x0 = 1.8) with the same multiples of 1/f″ at its global
  minimum: the small and good steps settle in the nearer, worse minimum, the too-large one
  overshoots the hump into the global minimum, the divergent one is thrown out. Near the
  minimum a run reaches, the same contraction law holds with the local curvature,
  |1 − η f″(x_min)|.
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

STEP_NAMES = ("small", "good", "too large", "divergent")
BLOW_UP = 1e6  # |x| beyond this counts as diverged (the quartic overflows soon after)


@dataclass
class Config(ExperimentConfig):
    curvature: float = param(2.0, low=0.0, low_open=True, high=1e6, help="L of the quadratic")
    minimum: float = param(1.0, low=-1e6, high=1e6, help="x* of the quadratic")
    x0: float = param(-2.0, low=-1e6, high=1e6, help="starting point on the quadratic")
    eta_times_curvature: tuple[float, ...] = param(
        (0.2, 0.8, 1.6, 2.1),
        low=0.0,
        low_open=True,
        high=10.0,
        help="the four steps ηL: small, good, too large, divergent (> 2)",
    )
    steps: int = param(12, low=2, high=100_000, help="gradient steps per run")
    tilt: float = param(0.5, low=-1.5, high=1.5, help="linear term of the quartic (0: symmetric)")
    quartic_x0: float = param(1.8, low=-3.0, high=3.0, help="starting point on the quartic")
    quartic_steps: int = param(40, low=2, high=100_000)

    def check(self) -> None:
        if len(self.eta_times_curvature) != len(STEP_NAMES):
            raise ConfigError(
                f"eta_times_curvature needs {len(STEP_NAMES)} values ({', '.join(STEP_NAMES)}), "
                f"got {len(self.eta_times_curvature)}; e.g. eta_times_curvature=0.2,0.8,1.6,2.1"
            )
        if self.x0 == self.minimum:
            raise ConfigError(
                "x0 equals minimum: start away from x* so there is an error to shrink"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"steps": 8, "quartic_steps": 25},
    "quick": {},
    "full": {"steps": 40, "quartic_steps": 200},
}


# --------------------------------------------------------------------------- the two curves


def quadratic(L: float, x_star: float):
    """(f, f′, f″) of L/2 (x − x*)²."""
    return (
        lambda x: 0.5 * L * (x - x_star) ** 2,
        lambda x: L * (x - x_star),
        lambda x: L + 0.0 * x,
    )


def quartic(tilt: float):
    """(f, f′, f″) of x⁴ − 2x² + tilt·x, which has two minima for |tilt| < 1.54."""
    return (
        lambda x: x**4 - 2 * x**2 + tilt * x,
        lambda x: 4 * x**3 - 4 * x + tilt,
        lambda x: 12 * x**2 - 4,
    )


def quartic_minima(tilt: float) -> np.ndarray:
    """The two local minima of the quartic, left to right (real roots of f′ with f″ > 0)."""
    import numpy as np

    roots = np.roots([4.0, 0.0, -4.0, tilt])
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    return real[12 * real**2 - 4 > 0]


def descend(grad, x0: float, eta: float, steps: int) -> np.ndarray:
    """x_0, ..., x_steps of x_{k+1} = x_k − η f′(x_k); stops early (shorter array) once
    |x| > BLOW_UP."""
    import numpy as np

    xs = [float(x0)]
    for _ in range(steps):
        x = xs[-1] - eta * grad(xs[-1])
        xs.append(float(x))
        if not np.isfinite(x) or abs(x) > BLOW_UP:
            break
    return np.array(xs)


def contraction(xs: np.ndarray, x_star: float) -> np.ndarray:
    """|x_{k+1} − x*| / |x_k − x*| for each step; steps from an error below 1e-9·max(1, |x*|)
    are dropped: there the rounding of x_k (~1e-16·|x*|) is no longer small against it."""
    import numpy as np

    err = np.abs(xs - x_star)
    ok = err[:-1] > 1e-9 * max(1.0, abs(x_star))
    return err[1:][ok] / err[:-1][ok]


def quadratic_runs(cfg: Config) -> list[dict[str, Any]]:
    """One record per step size: iterates, measured and predicted contraction per step."""
    import numpy as np

    _, grad, _ = quadratic(cfg.curvature, cfg.minimum)
    runs = []
    for name, m in zip(STEP_NAMES, cfg.eta_times_curvature, strict=True):
        eta = m / cfg.curvature
        xs = descend(grad, cfg.x0, eta, cfg.steps)
        rho = contraction(xs, cfg.minimum)
        predicted = abs(1 - eta * cfg.curvature)
        runs.append(
            {
                "name": name,
                "eta": eta,
                "eta_times_L": m,
                "iterates": xs,
                "measured": rho,
                "predicted": predicted,
                "max_deviation": float(np.max(np.abs(rho - predicted))) if len(rho) else 0.0,
                "final_error": float(abs(xs[-1] - cfg.minimum)),
                "oscillates": bool(m > 1),
                "converges": bool(predicted < 1),
            }
        )
    return runs


def quartic_runs(cfg: Config) -> tuple[list[dict[str, Any]], np.ndarray, float]:
    """The same multiples of 1/f″(x_global) on the quartic: where each run ends, and its
    contraction over the last steps beside |1 − η f″(x_min)| of the minimum it reached."""
    import numpy as np

    f, grad, hess = quartic(cfg.tilt)
    minima = quartic_minima(cfg.tilt)
    x_global = float(minima[np.argmin(f(minima))])
    L = float(hess(x_global))
    runs = []
    for name, m in zip(STEP_NAMES, cfg.eta_times_curvature, strict=True):
        eta = m / L
        xs = descend(grad, cfg.quartic_x0, eta, cfg.quartic_steps)
        end = xs[-1]
        nearest = float(minima[np.argmin(np.abs(minima - end))])
        reached = bool(np.isfinite(end) and abs(end - nearest) < 1e-3)
        record = {
            "name": name,
            "eta": eta,
            "eta_times_curvature": m,
            "iterates": xs,
            "final_x": float(end),
            "reached_minimum": nearest if reached else None,
            "reached_global": bool(reached and nearest == x_global),
            "diverged": bool(not np.isfinite(end) or abs(end) > BLOW_UP),
        }
        if reached:
            rho = contraction(xs, nearest)
            tail = rho[-5:] if len(rho) >= 5 else rho
            record["local_predicted"] = abs(1 - eta * float(hess(nearest)))
            # geometric mean of the last ratios: the asymptotic rate, before rounding noise
            record["local_measured"] = float(np.exp(np.mean(np.log(tail)))) if len(tail) else 0.0
        runs.append(record)
    return runs, minima, x_global


# --------------------------------------------------------------------------- the recipe


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.viz import text_figure, text_table
    from nnlab.viz.fundamentals import DescentPanel, contraction_figure, descent_figure

    quad = quadratic_runs(cfg)
    quart, minima, x_global = quartic_runs(cfg)
    fq, gq, _ = quadratic(cfg.curvature, cfg.minimum)
    f4, g4, _ = quartic(cfg.tilt)

    def panel(r: dict, f, g, title_eta: str, xlim) -> DescentPanel:
        return DescentPanel(
            f=f, grad=g, iterates=r["iterates"], xlim=xlim, title=f"{r['name']}: {title_eta}"
        )

    span = abs(cfg.x0 - cfg.minimum)
    qlim = (cfg.minimum - 1.6 * span, cfg.minimum + 1.6 * span)
    panels = [
        panel(r, fq, gq, f"ηL = {r['eta_times_L']:g}, |1 − ηL| = {r['predicted']:.2f}", qlim)
        for r in quad
    ]
    panels += [
        panel(r, f4, g4, f"η f″(x_min) = {r['eta_times_curvature']:g}", (-1.9, 1.9)) for r in quart
    ]
    run.figure(
        "descent_paths",
        descent_figure(
            panels,
            ncols=len(STEP_NAMES),
            title="Gradient descent in 1-D: iterates x_k (dots, numbered) and their tangent "
            "lines (each step follows the tangent downhill)",
        ),
        f"Top: the quadratic {cfg.curvature:g}/2 (x − {cfg.minimum:g})² from x0 = {cfg.x0:g}. "
        "Bottom: the quartic x⁴ − 2x² + "
        f"{cfg.tilt:g}x from x0 = {cfg.quartic_x0:g}. Columns: small, good, too large and "
        "divergent steps. Each grey segment is the tangent at x_k; the step moves "
        "−η f′(x_k) along x.",
    )
    run.figure(
        "contraction",
        contraction_figure(
            [
                (f"{r['name']} (ηL = {r['eta_times_L']:g})", r["measured"], r["predicted"])
                for r in quad
            ],
            [(f"{r['name']}", np.abs(r["iterates"] - cfg.minimum)) for r in quad],
        ),
        "Left: measured |x_{k+1} − x*| / |x_k − x*| per step (markers) against the prediction "
        "|1 − ηL| (lines). Right: the error |x_k − x*| on a log scale: a straight line of slope "
        "log |1 − ηL|.",
    )
    rows = [
        (
            r["name"],
            f"{r['eta']:.4g}",
            f"{r['eta_times_L']:g}",
            f"{r['predicted']:.6f}",
            f"{float(np.mean(r['measured'])):.6f}",
            f"{r['max_deviation']:.1e}",
            f"{r['final_error']:.3g}",
        )
        for r in quad
    ]
    lines = text_table(("step", "η", "ηL", "|1 − ηL|", "measured", "max |dev|", "|x_K − x*|"), rows)
    lines += [
        "",
        f"quartic minima: {', '.join(f'{m:.4f}' for m in minima)} (global {x_global:.4f})",
    ]
    lines += text_table(
        ("step", "η", "final x", "reached", "|1 − η f″| local", "measured"),
        [
            (
                r["name"],
                f"{r['eta']:.4g}",
                f"{r['final_x']:.4g}",
                "diverged"
                if r["diverged"]
                else ("none" if r["reached_minimum"] is None else f"{r['reached_minimum']:.4f}"),
                f"{r['local_predicted']:.4f}" if "local_predicted" in r else "–",
                f"{r['local_measured']:.4f}" if "local_measured" in r else "–",
            )
            for r in quart
        ],
    )
    run.figure(
        "contraction_table",
        text_figure(lines, "Contraction per step: measured against |1 − ηL|"),
        "Quadratic: the measured contraction per step equals |1 − ηL| to rounding. Quartic: "
        "where each step size ends, and the local contraction near the minimum it reached.",
    )

    return {
        "curvature": cfg.curvature,
        "max_contraction_deviation": float(max(r["max_deviation"] for r in quad)),
        "quadratic": {
            r["name"]: {
                "eta": r["eta"],
                "eta_times_L": r["eta_times_L"],
                "predicted_contraction": r["predicted"],
                "measured_contraction": [float(v) for v in r["measured"]],
                "max_deviation": r["max_deviation"],
                "final_error": r["final_error"],
                "converges": r["converges"],
                "oscillates": r["oscillates"],
            }
            for r in quad
        },
        "quartic_minima": [float(m) for m in minima],
        "quartic_global_minimum": x_global,
        "quartic": {
            r["name"]: {k: v for k, v in r.items() if k not in ("name", "iterates")} for r in quart
        },
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
