"""The playground's state: one typed object that the page keeps in its URL hash and sends to
the server whole. pydantic checks every field (NaN and infinities are refused too); FastAPI turns
a failed check into a 422 whose ``loc`` names the field (``["body", "hidden", 2]``), never a 500.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from nnlab.playground.datasets import EXTENT, MULTICLASS, REGRESSION

MAX_LAYERS, MAX_NEURONS, MAX_POINTS = 8, 32, 2000
INPUTS = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin_x1", "sin_x2")
DATASETS = ("circle", "xor", "gaussians", "spiral", "moons", "blobs", "plane", "multigauss")

Activation = Literal["relu", "leaky_relu", "tanh", "sigmoid", "linear", "softplus"]
Neurons = Annotated[int, Field(ge=1, le=MAX_NEURONS)]


class Settings(BaseModel):
    """Everything that decides what is trained and how (display options live on the page)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    dataset: Literal[DATASETS] | Literal["custom"] = "circle"  # type: ignore[valid-type]
    classes: int = Field(2, ge=2, le=5, description="for spiral, blobs and custom points")
    custom_target: Literal["label", "value"] = Field(
        "label", description="custom points carry a class label, or a real value (regression)"
    )
    n_points: int = Field(500, ge=20, le=MAX_POINTS)
    noise: float = Field(0, ge=0, le=50, description="percent")
    train_share: float = Field(50, ge=10, le=90, description="percent")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    inputs: list[Literal[INPUTS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["x1", "x2"], min_length=1, max_length=len(INPUTS)
    )
    hidden: list[Neurons] = Field(default_factory=lambda: [4, 4], max_length=MAX_LAYERS)
    activations: list[Activation] = Field(
        default_factory=lambda: ["tanh", "tanh"], max_length=MAX_LAYERS
    )
    loss: Literal["squared_error", "cross_entropy"] = "squared_error"
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd"
    learning_rate: float = Field(0.03, ge=1e-5, le=10)
    batch_size: int = Field(10, ge=1, le=MAX_POINTS)
    regularization: Literal["none", "l1", "l2"] = "none"
    reg_rate: float = Field(0.0, ge=0, le=10)
    dropout: float = Field(0.0, ge=0, le=0.9, description="after every hidden layer")
    init: Literal["xavier", "he", "lecun", "zeros"] = "xavier"
    stop_loss: float | None = Field(None, ge=0, le=10, description="pause at test loss below")

    @field_validator("inputs")
    @classmethod
    def _unique_inputs(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each input may appear once")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        # raised as ValueError the message is prefixed by the field it is about, since a model
        # validator's loc is only ["body"]
        if len(self.activations) != len(self.hidden):
            raise ValueError(
                f"activations: {len(self.activations)} given for {len(self.hidden)} hidden layers"
            )
        if self.custom_target == "value" and self.dataset != "custom":
            raise ValueError(
                "custom_target: value is for dataset custom (plane and multigauss are regression)"
            )
        if self.classes > 2 and self.dataset not in (*MULTICLASS, "custom"):
            raise ValueError(f"classes: {self.dataset} has two classes; use spiral or blobs")
        if self.classes > 2 and self.is_regression:
            raise ValueError("classes: regression data has no classes; use 2")
        if self.is_regression and self.loss != "squared_error":
            raise ValueError("loss: regression data sets take squared_error")
        if self.classes > 2 and self.loss != "cross_entropy":
            raise ValueError("loss: more than two classes need cross_entropy")
        return self

    @property
    def is_regression(self) -> bool:
        return self.dataset in REGRESSION or self.custom_target == "value"

    @property
    def n_classes(self) -> int:
        return 0 if self.is_regression else self.classes


class Point(BaseModel):
    """A point the learner clicked onto the picture (it joins the training set)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    x1: float = Field(ge=-6, le=6)
    x2: float = Field(ge=-6, le=6)
    label: int = Field(ge=0, le=4)
    train: bool = True


Coordinate = Annotated[float, Field(ge=-EXTENT, le=EXTENT)]
MAX_VALUE = 1.0  # custom regression targets lie in [-1, 1], the picture's colour scale


class PointSet(BaseModel):
    """All custom points at once, as a shared link carries them: rows (x1, x2, label or value,
    train). They replace the session's points; the data set becomes "custom"."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    target: Literal["label", "value"] = "label"
    points: list[tuple[Coordinate, Coordinate, float, bool]] = Field(max_length=MAX_POINTS)

    @field_validator("points")
    @classmethod
    def _targets(cls, rows: list, info: ValidationInfo) -> list:
        target = info.data.get("target", "label")
        for i, (_, _, v, _) in enumerate(rows):
            if target == "label" and v not in (0, 1, 2, 3, 4):
                raise ValueError(f"point {i}: label must be 0, 1, 2, 3 or 4, got {v!r}")
            if target == "value" and not -MAX_VALUE <= v <= MAX_VALUE:
                raise ValueError(f"point {i}: value must lie in [-1, 1], got {v!r}")
        return rows


class WeightEdit(BaseModel):
    """Set one weight: ``layer`` counts Linear layers from 0 (input to first hidden)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    layer: int = Field(ge=0, le=MAX_LAYERS)
    source: int = Field(ge=0, le=MAX_NEURONS)
    target: int = Field(ge=0, le=MAX_NEURONS)
    value: float = Field(ge=-100, le=100)


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    action: Literal["play", "pause", "step", "reset", "regenerate", "clear"]
