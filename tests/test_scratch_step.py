"""The step layer: forward is [z > 0], backward is zero (nothing to learn through it)."""

import numpy as np

from nnlab.scratch import Step


def test_step_forward_thresholds_at_zero_and_backward_is_zero():
    step = Step()
    x = np.array([[-1.0, 0.0, 1e-12, 3.0]], dtype=np.float32)
    y = step.forward(x)
    assert y.dtype == np.float32 and y.tolist() == [[0.0, 0.0, 1.0, 1.0]]
    g = step.backward(np.ones_like(x))
    assert g.shape == x.shape and not g.any()
    assert step.num_parameters() == 0
