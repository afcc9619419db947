"""nnlab.scratch: a from-scratch NumPy neural-network engine, checked against PyTorch.

    from nnlab.scratch import mlp, softmax_cross_entropy, SGD, fit, accuracy
    model = mlp([1024, 64, 36], activation="sigmoid", rng=0)
    history = fit(model, softmax_cross_entropy, SGD(model, lr=0.1), X, y,
                  epochs=50, batch_size=32, rng=0, metrics={"acc": accuracy})

See README.md in this folder for the conventions.
"""

from nnlab.scratch.activations import (
    ACTIVATIONS,
    get_activation,
    leaky_relu,
    leaky_relu_deriv,
    linear,
    linear_deriv,
    log_softmax,
    relu,
    relu_deriv,
    sigmoid,
    sigmoid_deriv,
    softmax,
    softmax_backward,
    softplus,
    softplus_deriv,
    tanh,
    tanh_deriv,
)
from nnlab.scratch.gradcheck import gradcheck, gradcheck_model, numerical_gradient, relative_error
from nnlab.scratch.layers import (
    Activation,
    Dropout,
    Layer,
    Linear,
    Sequential,
    Softmax,
    activation_layer,
    mlp,
)
from nnlab.scratch.losses import (
    LOSSES,
    accuracy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    get_loss,
    softmax_cross_entropy,
    squared_error,
)
from nnlab.scratch.optim import (
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    CosineSchedule,
    Momentum,
    Optimizer,
    RMSprop,
    StepDecay,
    get_optimizer,
)
from nnlab.scratch.train import fit, minibatches

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "SGD",
    "Activation",
    "Adagrad",
    "Adam",
    "CosineSchedule",
    "Dropout",
    "Layer",
    "Linear",
    "Momentum",
    "Optimizer",
    "RMSprop",
    "Sequential",
    "Softmax",
    "StepDecay",
    "accuracy",
    "activation_layer",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "fit",
    "get_activation",
    "get_loss",
    "get_optimizer",
    "gradcheck",
    "gradcheck_model",
    "leaky_relu",
    "leaky_relu_deriv",
    "linear",
    "linear_deriv",
    "log_softmax",
    "minibatches",
    "mlp",
    "numerical_gradient",
    "relative_error",
    "relu",
    "relu_deriv",
    "sigmoid",
    "sigmoid_deriv",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
    "softplus",
    "softplus_deriv",
    "squared_error",
    "tanh",
    "tanh_deriv",
]
