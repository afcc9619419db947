"""The named choices that experiment configs offer, defined once.

Each is a ``Literal`` type for a config field (``optimizer: Optimizer = "adamw"``: `--set`
checks the value and `nnlab describe` lists the choices) and a tuple of the names for the
library (``OPTIMIZERS``), which implements them. This module imports nothing heavy, so a
config costs nothing to import: `nnlab list` and `describe` stay fast.
"""

from __future__ import annotations

from typing import Literal, get_args

Optimizer = Literal["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
"""`nnlab.training.make_optimizer`: momentum and nesterov are SGD with momentum 0.9."""

Schedule = Literal["constant", "onecycle", "cosine"]
"""`nnlab.training.make_schedule`, stepped once per batch."""

Activation = Literal["relu", "gelu", "tanh", "sigmoid", "leaky_relu"]
"""`nnlab.models.mlp.activation`."""

Sampler = Literal["grid", "random", "tpe"]
"""`nnlab.hpo.make_sampler`: Optuna's grid, random and TPE (Bayesian) samplers."""

Pretrained = Literal["resnet18", "squeezenet1_1"]
"""ImageNet torchvision models whose classifier `nnlab.models.pretrained` can replace."""

OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
SAMPLERS: tuple[str, ...] = get_args(Sampler)
PRETRAINED: tuple[str, ...] = get_args(Pretrained)
