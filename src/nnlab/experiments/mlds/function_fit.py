"""function-fit: fully connected nets of equal parameter count and different depth fitting
1-D functions (MLDS HW1 1-1, seed 002 "simulating a function").

The homework asks for sin(5πx)/(5πx) and sgn(sin(5πx)) on [0, 1]; the seed's student fitted
sin(x) + 0.5x and cos(x) + 0.5x² on [-10, 10]; all four are here. Every depth gets hidden
widths (w, ..., w, v) whose parameter count is within 1% of `budget` (the last width makes up
the rest), so depth is the only difference. The seed's first model, "31 parameters (1 input
+ 10 outputs + 10 biases)", is miscounted: 1 → 10 → 1 has 10 + 10 + 10 + 1 = 31 weights and
biases, i.e. 20 weights and 11 biases, not one input "parameter". ``--set budget=31`` makes
the depth-1 net exactly that 1-10-1 network (and gives the deeper ones the same 31
parameters). Each net is trained by
full-batch Adam on the mean squared error; the network sees x rescaled to [-1, 1] and fits y
standardised, the losses are in the function's units. The headline is the mean over
functions and depths of MSE / Var(y), the fraction of the variance left unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import Activation, ExperimentConfig, param
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run

FUNCTIONS = ("sin_half_x", "cos_half_x2", "sinc_5pi", "sign_sin_5pi")  # nnlab.dynamics.targets


@dataclass
class Config(ExperimentConfig):
    functions: tuple[str, ...] = param(FUNCTIONS, help=f"from {', '.join(FUNCTIONS)}")
    budget: int = param(1_000, low=10, high=1_000_000, help="parameters of every network")
    depths: tuple[int, ...] = param((1, 2, 4, 8), low=1, high=32, help="hidden layers")
    activation: Activation = "relu"
    points: int = param(256, low=8, high=100_000, help="training points per function")
    steps: int = param(4_000, low=1, high=1_000_000, help="full-batch Adam steps")
    lr: float = param(3e-3, low=0.0, low_open=True)
    workers: int = param(1, low=1, high=64, help="worker processes training the nets")

    def check(self) -> None:
        unknown = [f for f in self.functions if f not in FUNCTIONS]
        if unknown or not self.functions:
            raise ConfigError(
                f"functions must name some of {', '.join(FUNCTIONS)}; got {list(self.functions)}"
            )
        if len(self.depths) < 3 or len(set(self.depths)) != len(self.depths):
            raise ConfigError(
                f"depths must list three or more different depths, got {list(self.depths)}"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "functions": ("sin_half_x", "sinc_5pi"),
        "depths": (1, 2, 4),
        "steps": 200,
        "points": 128,
    },
    "quick": {},
    "full": {"steps": 20_000},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import torch

    from nnlab.dynamics import mlp_widths_for_budget, train_runs
    from nnlab.dynamics.multirun import train_regressor
    from nnlab.dynamics.targets import TARGETS, sample_target
    from nnlab.models import mlp_parameter_count
    from nnlab.viz import Line, LinePanel, line_panels, text_figure, text_table

    try:
        hidden = {d: mlp_widths_for_budget(1, 1, d, cfg.budget) for d in cfg.depths}
    except ValueError as exc:
        raise ConfigError(f"{exc}; raise budget or lower depths") from None
    counts = {d: mlp_parameter_count(1, hidden[d], 1) for d in cfg.depths}
    tasks, grids = {}, {}
    for fn in cfg.functions:
        _, x_in, y = sample_target(fn, cfg.points)
        grids[fn] = sample_target(fn, 1000)
        for d in cfg.depths:
            tasks[f"{fn}-depth{d}"] = dict(
                x=x_in, y=y, x_eval=grids[fn][1], hidden=hidden[d], steps=cfg.steps,
                lr=cfg.lr, seed=run.seed, activation=cfg.activation,
                log_every=max(1, cfg.steps // 400),
            )  # fmt: skip
    results = train_runs(run, train_regressor, tasks, workers=cfg.workers, desc="function fits")
    for name, r in results.items():
        assert r["parameters"] == counts[int(name.rsplit("depth", 1)[1])]

    label = {
        d: f"{d} x {hidden[d][0]}" + (f"+{hidden[d][-1]}" if d > 1 else "") for d in cfg.depths
    }
    loss_panels, fit_panels = [], []
    for fn in cfg.functions:
        formula = TARGETS[fn][0]
        lines = []
        for d in cfg.depths:
            r = results[f"{fn}-depth{d}"]
            lines.append(Line(r["loss_steps"], r["loss"].tolist(), f"depth {d} ({counts[d]} p.)"))
        loss_panels.append(LinePanel(lines, formula, "training MSE (log)", log=True))
        x, _, y = grids[fn]
        truth = [Line(x[:, 0].tolist(), y[:, 0].tolist(), "truth", "k-")]
        preds = [
            Line(x[:, 0].tolist(), results[f"{fn}-depth{d}"]["prediction"].tolist(),
                 f"depth {d}", "--")
            for d in cfg.depths
        ]  # fmt: skip
        fit_panels.append(LinePanel(truth + preds, formula, "y", xlabel="x"))
    title = f"MLPs of ~{cfg.budget} parameters, {cfg.steps} full-batch Adam steps"
    run.figure(
        "loss_curves",
        line_panels(loss_panels, title=title, xlabel="step"),
        "Training mean squared error (log scale) of every depth on each function.",
    )
    run.figure(
        "predictions",
        line_panels(fit_panels, title=f"Predictions after training: {title}", xlabel="x"),
        "Each network's prediction (dashed) against the function (black) on 1000 points.",
    )
    rows = [
        (f"depth {d}", label[d], f"{counts[d]:,}", f"{100 * (counts[d] / cfg.budget - 1):+.2f}%")
        + tuple(f"{results[f'{fn}-depth{d}']['final_loss']:.2e}" for fn in cfg.functions)
        for d in cfg.depths
    ]  # fmt: skip
    table = text_table(
        ["net", "widths", "parameters", "vs budget", *(TARGETS[f][0] for f in cfg.functions)], rows
    )
    run.figure(
        "parameter_counts",
        text_figure(table, "Parameter counts and final training MSE"),
        "Hidden widths (w x depth, last layer +v), parameter counts and final MSE.",
    )
    final = {fn: {f"depth{d}": results[f"{fn}-depth{d}"]["final_loss"] for d in cfg.depths}
             for fn in cfg.functions}  # fmt: skip
    best = {fn: min(final[fn], key=final[fn].get) for fn in cfg.functions}
    # MSE / Var(y): comparable across functions of different scales (0: perfect, 1: a constant)
    unexplained = {
        fn: {k: v / results[f"{fn}-depth{cfg.depths[0]}"]["variance"] for k, v in final[fn].items()}
        for fn in cfg.functions
    }
    flat = [v for f in unexplained.values() for v in f.values()]
    spread = max(counts.values()) / min(counts.values()) - 1
    return {
        "budget": cfg.budget,
        "hidden": {f"depth{d}": list(hidden[d]) for d in cfg.depths},
        "parameters": {f"depth{d}": counts[d] for d in cfg.depths},
        "parameter_spread": round(spread, 6),
        "final_loss": final,
        "best_depth": best,
        "unexplained_variance": unexplained,
        "mean_unexplained_variance": float(torch.tensor(flat).mean()),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
