"""Optimizers and learning-rate schedules.

An optimizer is built on a model (anything with ``named_parameters()`` and ``named_grads()``,
e.g. a ``Sequential``) and ``step()`` updates its parameter arrays in place from the gradients
left by the last ``backward``. State (velocities, moment estimates) is kept per parameter name.

The update rules, defaults and the placement of ``eps`` follow ``torch.optim`` exactly, so the
same initial weights and batches give the same trajectory (tested to 1e-9 in float64).

Regularisation, added to the gradient before the update (as ``torch.optim`` does for L2):
* ``weight_decay`` (L2): g += weight_decay * w   (the gradient of 0.5 * wd * ||w||^2)
* ``l1``:                g += l1 * sign(w)        (a subgradient of l1 * ||w||_1)
Both apply to every parameter, biases included, like ``torch.optim``'s ``weight_decay``.

The learning rate is the attribute ``opt.lr``; set it each epoch from a schedule, e.g.
``opt.lr = StepDecay(0.1, every=10, gamma=0.5)(epoch)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

Array = np.ndarray


class HasParameters(Protocol):
    def named_parameters(self) -> Iterator[tuple[str, Array]]: ...

    def named_grads(self) -> Iterator[tuple[str, Array]]: ...


class Optimizer:
    """Base class: subclasses implement ``update(name, w, g)`` for one parameter array."""

    def __init__(
        self, model: HasParameters, lr: float, weight_decay: float = 0.0, l1: float = 0.0
    ) -> None:
        if lr < 0 or weight_decay < 0 or l1 < 0:
            raise ValueError(
                f"lr, weight_decay and l1 must be >= 0, got {lr}, {weight_decay}, {l1}"
            )
        self.model = model
        self.lr = lr
        self.weight_decay = weight_decay
        self.l1 = l1
        self.t = 0  # number of steps taken
        self.state: dict[str, dict[str, Array]] = {}

    def step(self) -> None:
        self.t += 1
        grads = dict(self.model.named_grads())
        for name, w in self.model.named_parameters():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * w
            if self.l1:
                g = g + self.l1 * np.sign(w)
            self.update(name, w, g)

    def update(self, name: str, w: Array, g: Array) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Copies of what changes while training: the step count ``t``, the learning rate and
        the per-parameter buffers, ``{"t": int, "lr": float, "state": {name: {key: array}}}``.
        Hyper-parameters (momentum, betas, ...) are the constructor's, not part of it."""
        return {
            "t": self.t,
            "lr": float(self.lr),
            "state": {
                name: {key: buf.copy() for key, buf in slot.items()}
                for name, slot in self.state.items()
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()`` (copies its arrays): training continues exactly where
        it was saved. Buffer names must be parameters of the model, with their shapes."""
        params = dict(self.model.named_parameters())
        buffers = {name: dict(slot) for name, slot in state["state"].items()}
        for name, slot in buffers.items():
            if name not in params:
                raise ValueError(
                    f"optimizer state has buffers for {name!r}, which is not a parameter of "
                    f"the model ({', '.join(params)})"
                )
            for key, buf in slot.items():
                if np.shape(buf) != params[name].shape:
                    raise ValueError(
                        f"optimizer buffer {name}/{key}: expected shape {params[name].shape}, "
                        f"got {np.shape(buf)}"
                    )
        self.t = int(state["t"])
        self.lr = float(state["lr"])
        self.state = {
            name: {key: np.array(buf, copy=True) for key, buf in slot.items()}
            for name, slot in buffers.items()
        }

    def _buffer(self, name: str, key: str, like: Array) -> Array:
        """A per-parameter state array, created as zeros on first use."""
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = np.zeros_like(like)
        return slot[key]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """w -= lr * g, optionally with momentum (as torch.optim.SGD, dampening 0):

    v = momentum * v + g           (v starts at 0)
    w -= lr * v                    classical
    w -= lr * (g + momentum * v)   nesterov=True
    """

    def __init__(
        self,
        model: HasParameters,
        lr: float = 0.001,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay, l1)
        if nesterov and momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.momentum, self.nesterov = momentum, nesterov

    def update(self, name: str, w: Array, g: Array) -> None:
        if self.momentum:
            v = self._buffer(name, "velocity", w)
            v *= self.momentum
            v += g
            g = g + self.momentum * v if self.nesterov else v
        w -= self.lr * g


class Momentum(SGD):
    """SGD with momentum 0.9 by default. Note: the form ``v = mu v - lr g; w += v`` found in
    many notes is the same trajectory while ``lr`` is constant (its v is -lr times ours).
    Other arguments as `SGD`'s."""

    def __init__(
        self, model: HasParameters, lr: float = 0.001, momentum: float = 0.9, **options: Any
    ) -> None:
        super().__init__(model, lr, momentum, **options)


class Adagrad(Optimizer):
    """G += g^2;  w -= lr * g / (sqrt(G) + eps)   (as torch.optim.Adagrad)."""

    def __init__(
        self,
        model: HasParameters,
        lr: float = 0.01,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay, l1)
        self.eps = eps

    def update(self, name: str, w: Array, g: Array) -> None:
        G = self._buffer(name, "sum_sq", w)
        G += g * g
        w -= self.lr * g / (np.sqrt(G) + self.eps)


class RMSprop(Optimizer):
    """s = alpha s + (1 - alpha) g^2;  w -= lr * g / (sqrt(s) + eps)   (as torch.optim.RMSprop)."""

    def __init__(
        self,
        model: HasParameters,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay, l1)
        self.alpha, self.eps = alpha, eps

    def update(self, name: str, w: Array, g: Array) -> None:
        s = self._buffer(name, "square_avg", w)
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        w -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam (as torch.optim.Adam): with t the step number,

        m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
        w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    Note eps is added *after* the bias correction of sqrt(v).
    """

    def __init__(
        self,
        model: HasParameters,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay, l1)
        self.beta1, self.beta2 = betas
        self.eps = eps

    def update(self, name: str, w: Array, g: Array) -> None:
        m = self._buffer(name, "m", w)
        v = self._buffer(name, "v", w)
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        step_size = self.lr / (1 - self.beta1**self.t)
        denom = np.sqrt(v) / math.sqrt(1 - self.beta2**self.t) + self.eps
        w -= step_size * m / denom


@dataclass(frozen=True)
class StepDecay:
    """lr(epoch) = lr0 * gamma ** (epoch // every): multiply by ``gamma`` every ``every`` epochs
    (epochs count from 0)."""

    lr0: float
    every: int
    gamma: float = 0.1

    def __call__(self, epoch: int) -> float:
        return self.lr0 * self.gamma ** (epoch // self.every)


@dataclass(frozen=True)
class CosineSchedule:
    """lr(epoch) = lr_min + (lr0 - lr_min) * (1 + cos(pi * epoch / epochs)) / 2:
    lr0 at epoch 0, lr_min at ``epochs`` (and after)."""

    lr0: float
    epochs: int
    lr_min: float = 0.0

    def __call__(self, epoch: int) -> float:
        frac = min(epoch, self.epochs) / self.epochs
        return self.lr_min + (self.lr0 - self.lr_min) * (1 + math.cos(math.pi * frac)) / 2


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def get_optimizer(name: str) -> type[Optimizer]:
    try:
        return OPTIMIZERS[name]
    except KeyError:
        valid = ", ".join(sorted(OPTIMIZERS))
        raise ValueError(f"unknown optimizer {name!r}; valid names: {valid}") from None
