"""PyTorch models of the zoo."""

from nnlab.models.mlp import MLP, activation

__all__ = ["MLP", "activation"]
