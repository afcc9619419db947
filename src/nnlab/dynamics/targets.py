"""The 1-D functions of the function-fitting experiment, each with its domain.

The seed's student fitted sin(x) + 0.5x and cos(x) + 0.5x² on [-10, 10]; the homework asks
for sin(5πx)/(5πx) and sgn(sin(5πx)) on [0, 1] (sinc is 1 at x = 0, its limit).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

TARGETS: dict[str, tuple[str, Callable[[torch.Tensor], torch.Tensor], tuple[float, float]]] = {
    "sin_half_x": ("sin(x) + 0.5x", lambda x: torch.sin(x) + 0.5 * x, (-10.0, 10.0)),
    "cos_half_x2": ("cos(x) + 0.5x²", lambda x: torch.cos(x) + 0.5 * x**2, (-10.0, 10.0)),
    "sinc_5pi": ("sin(5πx)/(5πx)", lambda x: torch.sinc(5 * x), (0.0, 1.0)),
    "sign_sin_5pi": (
        "sgn(sin(5πx))",
        lambda x: torch.sign(torch.sin(5 * torch.pi * x)),
        (0.0, 1.0),
    ),
}
"""name → (formula, f, domain)."""


def sample_target(
    name: str, n: int, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, ...]:
    """(x, network input, y) at `n` evenly spaced points of the domain, as (n, 1) columns; the
    network sees x rescaled to [-1, 1] (a domain of [-10, 10] would saturate a tanh and slow
    a ReLU net's fit), the loss is in the function's own units."""
    _, f, (lo, hi) = TARGETS[name]
    x = torch.linspace(lo, hi, n, dtype=torch.float64)[:, None]
    return x.to(dtype), (2 * (x - lo) / (hi - lo) - 1).to(dtype), f(x).to(dtype)
