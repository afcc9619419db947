"""Library training pieces shared by the PyTorch experiments (nnlab.training, nnlab.choices)."""

from __future__ import annotations

import pytest
import torch

from nnlab import choices, hpo, training
from nnlab.models import mlp


def test_choices_name_what_the_library_implements():
    assert training.OPTIMIZERS == choices.OPTIMIZERS
    assert training.SCHEDULES == choices.SCHEDULES
    assert hpo.SAMPLERS == choices.SAMPLERS
    assert set(mlp.ACTIVATIONS) == set(choices.ACTIVATIONS)
    params = [torch.nn.Parameter(torch.zeros(2))]
    for name in choices.OPTIMIZERS:
        optimizer = training.make_optimizer(name, params, 0.1)
        assert isinstance(optimizer, torch.optim.Optimizer)
    for name in choices.SCHEDULES:
        training.make_schedule(name, optimizer, total_steps=10)
    with pytest.raises(ValueError, match="choose one of sgd"):
        training.make_optimizer("lbfgs", params, 0.1)
