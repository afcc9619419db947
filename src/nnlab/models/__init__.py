"""PyTorch models of the zoo."""

from nnlab.models.cnn import CNN
from nnlab.models.mlp import MLP, activation

__all__ = ["CNN", "MLP", "activation"]
