"""The training settings every classifier recipe shares, declared once: a recipe's `Config`
subclasses `ClassifierTraining`, changes a default with `default(...)`, and passes
`fit_settings(cfg)` to `fit_classifier` / `fit_classifiers`. Light: imports no PyTorch.

    @dataclass
    class Config(ClassifierTraining):
        hidden: tuple[int, ...] = (512, 256)
        epochs: int = default("epochs", 5)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from nnlab.config import ExperimentConfig, Optimizer, Schedule, param

Precision = Literal["auto", "fp32", "bf16"]
PRECISION_HELP = (
    "auto: bfloat16 autocast where this CPU or GPU measurably runs it faster, else float32 "
    "(nnlab precision shows the probe)"
)


def precision_setting() -> Any:
    """The `precision` field of a torch experiment's Config: "auto" by default
    (`nnlab.training.precision.resolve`)."""
    return param("auto", help=PRECISION_HELP)


@dataclass
class ClassifierTraining(ExperimentConfig):
    optimizer: Optimizer = "adamw"
    lr: float = param(2e-3, low=0.0, low_open=True, help="learning rate (peak for onecycle)")
    weight_decay: float = param(1e-4, low=0.0)
    label_smoothing: float = param(0.1, low=0.0, high=0.5, help="cross-entropy label smoothing")
    schedule: Schedule = "onecycle"
    batch_size: int = param(128, low=1, high=1_000_000)
    epochs: int = param(25, low=1, high=10_000)
    precision: Precision = precision_setting()


def default(name: str, value: Any) -> Any:
    """`ClassifierTraining`'s field `name` (its bounds and help) with another default."""
    field = next(f for f in dataclasses.fields(ClassifierTraining) if f.name == name)
    return dataclasses.field(default=value, metadata=field.metadata)


def fit_settings(cfg: ClassifierTraining) -> dict[str, Any]:
    """The keyword arguments of `fit_classifier` that the settings hold."""
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(ClassifierTraining)}
