"""PyTorch models of the zoo."""

from nnlab.models.cnn import CNN
from nnlab.models.mlp import (
    MLP,
    activation,
    mlp_parameter_count,
    q3_network,
    width_for_budget,
)

__all__ = ["CNN", "MLP", "activation", "mlp_parameter_count", "q3_network", "width_for_budget"]
