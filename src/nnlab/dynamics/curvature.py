"""Derivatives for the training-dynamics lab, with `torch.func`: the loss as a function of
the flat parameter vector, its gradient and exact Hessian (double back-propagation), input
Jacobians of a classifier, and Keskar et al.'s ε-sharpness.

    f = loss_of_parameters(model, x, y)          # f(theta) -> scalar, theta flat
    H = hessian(f, flat_parameters(model))       # (P, P)
    J = input_jacobian(model, x_test)            # (N, classes, features), one vmap
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

from nnlab.dynamics.params import unflatten

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def loss_of_parameters(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: Loss = F.cross_entropy
) -> Callable[[torch.Tensor], torch.Tensor]:
    """`f(theta)`: `loss(model(x), y)` with the model's parameters replaced by the flat vector
    `theta` (its buffers, e.g. BatchNorm statistics, stay the model's). The model's mode
    (train/eval) is used as it is."""
    buffers = dict(model.named_buffers())

    def f(theta: torch.Tensor) -> torch.Tensor:
        return loss(functional_call(model, (unflatten(model, theta), buffers), (x,)), y)

    return f


def gradient(f: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor) -> torch.Tensor:
    return grad(f)(theta)


def hessian(f: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor) -> torch.Tensor:
    """The exact (P, P) Hessian of `f` at `theta`: reverse-mode twice (double
    back-propagation; `jacrev(grad(f))`), symmetrised against round-off. P² memory: for small
    networks."""
    h = jacrev(grad(f))(theta)
    return (h + h.T) / 2


def input_jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """∂f(x_i)/∂x_i for every row of `x`: (N, outputs, *input shape), by `vmap` over a
    per-example `jacrev` (no loop over examples). Evaluate in eval mode for a deterministic
    f."""
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = dict(model.named_buffers())

    def single(xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, (params, buffers), (xi.unsqueeze(0),)).squeeze(0)

    return vmap(jacrev(single))(x)


def loss_input_gradients(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: Loss = F.cross_entropy
) -> torch.Tensor:
    """∂ℓ_i/∂x_i for every example: (N, *input shape), where ℓ_i is example i's own loss
    (one backward pass of the summed loss: in eval mode example i's loss depends on x_i
    only)."""
    x = x.detach().clone().requires_grad_(True)
    total = loss(model(x), y, reduction="sum")
    (g,) = torch.autograd.grad(total, x)
    return g


def epsilon_sharpness(
    f: Callable[[torch.Tensor], torch.Tensor],
    theta: torch.Tensor,
    epsilon: float = 1e-3,
    steps: int = 10,
) -> float:
    """Keskar et al. (2017) sharpness: 100 · (max_{z ∈ C_ε} f(θ + z) − f(θ)) / (1 + f(θ)),
    C_ε = {z : |z_i| ≤ ε (|θ_i| + 1)}, a box around θ scaled to each parameter.

    The paper maximises with L-BFGS-B; here the maximum is approached by `steps` steps of
    projected sign-gradient ascent (step 2ε(|θ|+1)/steps, clipped into the box), a lower
    bound on the true maximum."""
    theta = theta.detach()
    bound = epsilon * (theta.abs() + 1)
    base = float(f(theta))
    z = torch.zeros_like(theta)
    best = base
    for _ in range(steps):
        g = gradient(f, theta + z)
        z = torch.maximum(torch.minimum(z + 2 * bound / steps * g.sign(), bound), -bound)
        best = max(best, float(f(theta + z)))
    return 100 * (best - base) / (1 + base)


def finite_difference_hessian(
    f: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor, h: float = 1e-5
) -> torch.Tensor:
    """The Hessian by central differences of the analytic gradient, (g(θ + h eᵢ) −
    g(θ − h eᵢ)) / 2h column by column (all columns in one `vmap`): an independent check of
    `hessian`, accurate to O(h²) (use float64)."""
    steps = torch.eye(len(theta), dtype=theta.dtype, device=theta.device) * h
    g = vmap(grad(f))
    return ((g(theta + steps) - g(theta - steps)) / (2 * h)).T


def minimise_gradient_norm(
    f: Callable[[torch.Tensor], torch.Tensor],
    theta: torch.Tensor,
    iterations: int = 50,
    tolerance: float = 1e-10,
) -> tuple[torch.Tensor, list[float]]:
    """θ after minimising ‖∇f(θ)‖² (not f) from `theta`, and ‖∇f‖ after each iteration.

    Levenberg–Marquardt on the residual g(θ) = ∇f(θ), whose Jacobian is the Hessian H: the
    step −(H² + μI)⁻¹ H g is Gauss–Newton on ½‖g‖² (whose gradient is H g) damped by μ,
    which shrinks after a step that lowers ‖g‖ and grows after one that does not (the step
    is then not taken). It converges quadratically to the nearest critical point — a
    minimum, a saddle or a maximum — which is what the minimal-ratio experiment looks at;
    first-order descent on ‖g‖² (the homework's suggestion) stalls around 1e-3 on the tiny
    nets here. Stops once ‖g‖ < `tolerance`. P² memory and P³ time: for small networks."""
    theta = theta.detach().clone()
    g = gradient(f, theta)
    norm, mu = float(g.norm()), 1e-3
    eye = torch.eye(len(theta), dtype=theta.dtype, device=theta.device)
    norms = []
    for _ in range(iterations):
        if norm < tolerance:
            break
        h = hessian(f, theta)
        step = torch.linalg.solve(h @ h + mu * eye, h @ g)
        candidate = theta - step
        g_new = gradient(f, candidate)
        if float(g_new.norm()) < norm:
            theta, g, norm, mu = candidate, g_new, float(g_new.norm()), max(mu / 3, 1e-12)
        else:
            mu *= 10
        norms.append(norm)
    return theta, norms
