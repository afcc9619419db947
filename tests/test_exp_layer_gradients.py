"""layer-gradients: δxᵀ, Wᵀδ and δ of a linear layer against torch autograd, the Jacobian ∂y/∂x
row by row, the engine's Linear, and what the smoke run writes."""

from __future__ import annotations

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.experiments.neurons.layer_gradients import (
    QUANTITIES,
    by_autograd,
    by_engine,
    by_hand,
    draw_layer,
    max_abs_diff,
)
from runs_helper import one_line_error, smoke_run

# (inputs, outputs, batch): the seed's 3 -> 2 layer and square ones, where a transposed W
# has the right shape and only its values are wrong
SHAPES = [(3, 2, 1), (3, 2, 4), (4, 4, 1), (4, 4, 3), (1, 5, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_by_hand_equal_autograd_entry_by_entry(shape):
    d, k, n = shape
    layer = draw_layer(d, k, n, np.random.default_rng(sum(shape)))
    hand, auto = by_hand(layer), by_autograd(layer)
    assert hand["dW"].shape == layer.W.shape and hand["dx"].shape == layer.X.shape
    assert hand["db"].shape == layer.b.shape
    for q in ("delta", *QUANTITIES):
        np.testing.assert_allclose(hand[q], auto[q], rtol=0, atol=1e-12, err_msg=q)


@pytest.mark.parametrize("shape", SHAPES)
def test_jacobian_rows_are_the_rows_of_W_and_dx_is_delta_times_it(shape):
    d, k, n = shape
    layer = draw_layer(d, k, n, np.random.default_rng(7 + sum(shape)))
    auto, hand = by_autograd(layer), by_hand(layer)
    jac = auto["jacobian"]
    assert jac.shape == (k, d)
    for i in range(k):  # row i: how output i moves with each input
        np.testing.assert_allclose(jac[i], layer.W[i], rtol=0, atol=1e-15)
    np.testing.assert_allclose(hand["delta"][:, 0] @ jac, hand["dx"][:, 0], atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_engine_linear_gives_the_same_gradients_in_its_transposed_convention(shape):
    d, k, n = shape
    layer = draw_layer(d, k, n, np.random.default_rng(11 + sum(shape)))
    hand = by_hand(layer)
    engine = by_engine(layer, hand["delta"])
    for q in QUANTITIES:
        np.testing.assert_allclose(engine[q], hand[q], rtol=0, atol=1e-12, err_msg=q)


def test_max_abs_diff_refuses_to_broadcast_a_transposed_matrix():
    a = np.arange(6.0).reshape(2, 3)
    assert max_abs_diff(a, a + 0.5) == 0.5
    with pytest.raises(ValueError, match="shapes differ"):
        max_abs_diff(a, a.T)


def test_smoke_run_records_the_differences_and_the_matrices(tmp_path):
    run_dir, s = smoke_run(tmp_path, "layer-gradients")
    assert set(s["differences"]) == {"batch_1", "batch_4"}
    for diffs in s["differences"].values():
        assert set(diffs) == {"dW", "dx", "db", "delta", "jacobian_is_W", "engine"}
    # float64 sums of a few one-decimal products: measured at most 1.1e-16
    assert s["max_abs_diff"] < 1e-12 and s["jacobian_is_W"] < 1e-12
    text = (run_dir / "gradients.txt").read_text()
    for name in ("∂J/∂W = ΔXᵀ", "∂J/∂x = WᵀΔ", "∂J/∂b = Δ·1", "autograd", "batch of 4"):
        assert name in text
    check_figure(run_dir / "figures" / "gradients.png", caption="autograd", min_colours=2)


def test_no_batch_size_is_a_one_line_error(tmp_path, capsys):
    one_line_error(tmp_path, capsys, "layer-gradients", ["batch_sizes="], "at least one size")
