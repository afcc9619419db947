"""The training-dynamics lab's library (MLDS HW1): parameter vectors, derivatives, landscapes
and many trainings through one run. See DYNAMICS.md for the definitions used.

- `params`: flat parameter vectors (read, write, interpolate), filter-normalised directions.
- `curvature`: loss as a function of the flat vector, its gradient and exact Hessian, input
  Jacobians, loss–input gradients, ε-sharpness (all with `torch.func`).
- `landscape`: loss and accuracy along θ(α) and on a 2-D plane around a minimum.
- `multirun`: `train_runs` (N tasks, worker processes, resume run by run), the classifier
  and regression tasks, equal-budget MLP widths.
"""

from nnlab.dynamics.curvature import (
    epsilon_sharpness,
    finite_difference_hessian,
    gradient,
    hessian,
    input_jacobian,
    loss_input_gradients,
    loss_of_parameters,
    minimise_gradient_norm,
)
from nnlab.dynamics.landscape import evaluate_along, loss_surface, recompute_batchnorm
from nnlab.dynamics.multirun import mlp_widths_for_budget, train_classifier, train_runs
from nnlab.dynamics.params import (
    filter_normalised_direction,
    flat_parameters,
    interpolate,
    parameter_sizes,
    set_flat_parameters,
    unflatten,
)

__all__ = [
    "epsilon_sharpness",
    "evaluate_along",
    "filter_normalised_direction",
    "finite_difference_hessian",
    "flat_parameters",
    "gradient",
    "hessian",
    "input_jacobian",
    "interpolate",
    "loss_input_gradients",
    "loss_of_parameters",
    "loss_surface",
    "minimise_gradient_norm",
    "mlp_widths_for_budget",
    "parameter_sizes",
    "recompute_batchnorm",
    "set_flat_parameters",
    "train_classifier",
    "train_runs",
    "unflatten",
]
