"""fundamentals: identities to rounding, backprop and cross-entropy identities, dead ReLUs,
vanishing gradients, zero-init symmetry, 12,013,010."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.neurons.fundamentals import (
    Config,
    cross_entropy_checks,
    dead_relu,
    derivative_errors,
    identity_errors,
    layer_grad_norms,
    linear_collapse_error,
    outlier_pull,
    parameter_count,
    train_symmetry,
    zigzag,
)
from nnlab.numerics import identities
from nnlab.numerics.zigzag import neuron_sgd_path
from nnlab.scratch import collapse_linear, mlp


def test_identities_hold_to_rounding():
    errors = identity_errors(2000, np.random.default_rng(0))
    assert errors["tanh_identity"] < 1e-14
    assert errors["softmax_shift"] < 1e-13
    assert errors["softmax_sum"] < 1e-14
    assert errors["softmax_min"] > 0.0 and errors["softmax_max"] < 1.0
    assert errors["naive_softmax_finite_at_1000"] is False
    assert errors["stable_softmax_at_1000"] == [1.0, 0.0]


def test_derivatives_match_central_differences():
    errors = derivative_errors(0.1, np.linspace(-20, 20, 4000))
    assert set(errors) == {"sigmoid", "tanh", "relu", "leaky_relu", "softplus", "gelu"}
    assert errors["sigmoid"] < 1e-10  # sigma' = sigma (1 - sigma)
    assert max(errors.values()) < 1e-9


def test_linear_network_is_one_affine_map():
    error, shape = linear_collapse_error(np.random.default_rng(1), 500)
    assert error < 1e-12 and shape == (8, 4)
    model = mlp([3, 5, 2], activation="linear", rng=0)
    W, b = collapse_linear(model)
    W1, b1 = model[0].params["W"], model[0].params["b"]
    W2, b2 = model[2].params["W"], model[2].params["b"]  # model[1] is the linear activation
    np.testing.assert_allclose(W, W1 @ W2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b, b1 @ W2 + b2, rtol=0, atol=1e-15)


def test_sigmoid_gradient_vanishes_with_depth_and_relu_does_not():
    def mean_norm(act, init, depth):
        rng = np.random.default_rng(depth)
        return np.mean([layer_grad_norms(act, init, depth, 32, rng)[0] for _ in range(3)])

    sig = np.array([mean_norm("sigmoid", "xavier", d) for d in range(1, 21)])
    assert np.all(np.diff(sig) < 0)  # strictly decreasing with depth
    assert sig[-1] / sig[0] < 1e-9
    relu = [mean_norm("relu", "he", d) for d in (1, 20)]
    assert relu[1] / relu[0] > 0.1


def test_zero_init_hidden_units_stay_identical_and_xavier_do_not():
    _, zeros = train_symmetry("zeros", hidden=8, epochs=100, lr=1.0, seed=0)
    assert zeros["max_pairwise_distance"] == 0.0
    assert zeros["distinct_hidden_units"] == 1
    assert zeros["first_layer_norm"] > 0.1  # the weights did move: they moved together
    _, xavier = train_symmetry("xavier", hidden=8, epochs=100, lr=1.0, seed=0)
    assert xavier["min_pairwise_distance"] > 0.0
    assert xavier["distinct_hidden_units"] == 8


def test_parameter_count_of_the_lecture_quiz():
    counted, formula, per_layer = parameter_count([100 * 100, 1000, 1000, 1000, 10])
    expected = 10000 * 1000 + 1000 + 2 * (1000 * 1000 + 1000) + 1000 * 10 + 10
    assert counted == formula == expected == 12_013_010
    assert per_layer == [10_001_000, 1_001_000, 1_001_000, 10_010]


def test_backprop_and_cross_entropy_identities_hold():
    ce = cross_entropy_checks(np.random.default_rng(3))
    assert ce["softmax_delta_error"] < 1e-8  # δᴸ = aᴸ − y
    assert ce["modified_neuron_max_error"] < 1e-6
    assert ce["linear_backprop_error"] < 1e-12
    assert ce["reversed_ce_infinite_at_y01"] and ce["correct_ce_finite_at_y01"]
    assert ce["ce_argmin_error"] < 1e-6 and ce["ce_minimum_error"] < 1e-12
    distance = ce["softmax_temperature"]["distance_to_onehot"]
    assert np.all(np.diff(distance) < 0) and distance[-1] < 1e-12  # T = 10 ... 0.01


def test_the_gradient_check_catches_a_neuron_whose_derivative_is_left_as_sigmoids():
    rng = np.random.default_rng(0)
    model = identities.modified_neuron_network(rng)
    wrong = identities.one_neuron_modified(identities.silu, lambda z: np.ones_like(z))
    model.layers[1] = wrong  # f' of the SiLU neuron replaced by 1: backprop is now wrong
    from nnlab.scratch import gradcheck_model, softmax_cross_entropy

    X, labels = rng.normal(size=(16, 4)), rng.integers(0, 3, 16)
    assert max(gradcheck_model(model, softmax_cross_entropy, X, labels).values()) > 1e-3


def test_reversed_cross_entropy_is_infinite_only_at_the_ends():
    a = np.array([0.1, 0.5, 0.9])
    assert np.all(np.isposinf(identities.reversed_cross_entropy(np.array([[0.0], [1.0]]), a)))
    assert np.all(np.isfinite(identities.reversed_cross_entropy(np.array([[1e-9]]), a)))
    assert identities.cross_entropy(np.array(0.3), np.array(0.0)) == pytest.approx(-np.log(0.7))


def test_a_too_large_learning_rate_kills_most_relus():
    cfg = Config(relu_epochs=5)
    good, large = dead_relu(0.1, cfg, 0), dead_relu(1.0, cfg, 0)
    assert np.mean(good["dead_after"]) < 0.15 and good["train_accuracy"] > 0.9
    assert np.mean(large["dead_after"]) > 0.5 and large["train_accuracy"] < 0.5


def test_positive_inputs_make_every_update_one_signed_and_slow_the_neuron():
    zig = zigzag(Config(), 0)
    sig, tanh = zig["sigmoid"], zig["tanh"]
    assert sig["same_sign_fraction"] == 1.0  # (w·x − t) x has the sign of (w·x − t) when x > 0
    # two zero-centred inputs share a sign half the time
    assert 0.4 < tanh["same_sign_fraction"] < 0.6
    # both reach w* = (1, -1); the centred inputs allow a larger step and get there sooner
    assert tanh["lr"] > sig["lr"] and tanh["steps"] < sig["steps"]
    for z in (sig, tanh):
        np.testing.assert_allclose(z["path"][-1], [1.0, -1.0], atol=0.0142)


def test_zigzag_path_follows_the_gradient_of_the_squared_error():
    x = np.array([[1.0, 2.0], [0.5, -1.0]])
    out = neuron_sgd_path(x, np.array([1.0, -1.0]), lr=0.1, tol=1e-9)
    # step 1 from w = 0: t = -1, grad = (0 - t) x = (1, 2); w = -0.1 (1, 2)
    np.testing.assert_allclose(out["path"][1], [-0.1, -0.2])
    assert out["steps"] is None and out["same_sign_fraction"] == 0.5


def test_outliers_turn_pca_and_a_linear_autoencoder_alike():
    clean = outlier_pull(Config(outliers=0), 0)
    assert clean["outlier_turn_pca_degrees"] == clean["outlier_turn_autoencoder_degrees"] == 0.0
    pulled = outlier_pull(Config(), 0)
    assert pulled["outlier_share"] == 10 / 1010
    # 1% of points near (20, 20) turn PCA's axis away from x by well over 10 degrees ...
    assert pulled["outlier_turn_pca_degrees"] > 10
    # ... and the gradient-trained autoencoder's by as much: PCA is not the robust one
    assert pulled["outlier_turn_autoencoder_degrees"] == pytest.approx(
        pulled["outlier_turn_pca_degrees"], abs=0.5
    )
    assert pulled["pca_vs_autoencoder_degrees_outliers"] < 0.5


def test_smoke_run_summary(tmp_path):
    args = ["run", "fundamentals", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main(args) == 0
    (path,) = tmp_path.glob("fundamentals/*/summary.json")
    s = json.loads(path.read_text())
    assert s["max_identity_error"] < 1e-12
    assert s["sigmoid_deriv_error"] < 1e-10
    assert s["mlp_parameters"] == s["mlp_parameters_formula"] == 12_013_010
    assert s["zero_init_max_pairwise_distance"] == 0.0
    assert s["xavier_min_pairwise_distance"] > 0.0
    sig = s["grad_norm_layer1_sigmoid"]
    assert len(sig) == 20 and sig[-1] < 1e-9 * sig[0]
    assert s["softmax_delta_error"] < 1e-8 and s["modified_neuron_max_error"] < 1e-6
    assert s["reversed_ce_infinite_at_y01"] is True and s["correct_ce_finite_at_y01"] is True
    assert s["ce_minimum_error"] < 1e-12
    assert s["dead_relu_fraction_large_lr"] > 0.5 > 0.15 > s["dead_relu_fraction_good_lr"]
    assert s["zigzag_same_sign_fraction_sigmoid"] == 1.0
    assert s["zigzag_same_sign_fraction_tanh"] < 0.6
    assert s["zigzag_steps_sigmoid"] > s["zigzag_steps_tanh"]
    (figures,) = tmp_path.glob("fundamentals/*/figures")
    check_figure(figures / "cross_entropy.png", min_size=(1200, 350), panels=(1, 3))
    check_figure(figures / "dead_relu.png", min_size=(800, 300), panels=(1, 2))
    check_figure(figures / "activations.png", min_size=(700, 280), panels=(1, 2))
    check_figure(figures / "vanishing_gradient.png", min_size=(700, 280), panels=(1, 2))
    # weights after training, then the zeros and the Xavier decision functions (+ colorbar)
    check_figure(figures / "zero_initialisation.png", min_size=(850, 280), panels=(1, 3))
    check_figure(figures / "checks.png", min_size=(500, 270))  # a table
    check_figure(figures / "zigzag.png", min_size=(900, 350), panels=(1, 2))


def test_relu_learning_rates_in_the_wrong_order_are_a_one_line_error(tmp_path, capsys):
    args = ["run", "fundamentals", "--preset", "smoke", "--out", str(tmp_path)]
    assert main([*args, "--set", "relu_lrs=1.0,0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "relu_lrs needs two learning rates, good then too large" in err[0]
