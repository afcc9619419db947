"""The training-dynamics lab's experiments (MLDS HW1), each on its smoke preset end to end:
numbers asserted, figures checked, bad settings one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest

from figcheck import check_figure
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_function_fit_equal_budgets_fit_both_kinds_of_function(tmp_path):
    run, s = smoke_run(tmp_path, "function-fit")
    counts = s["parameters"]
    assert set(counts) == {"depth1", "depth2", "depth4"}
    assert all(abs(c - 1000) / 1000 < 0.01 for c in counts.values())
    assert s["parameter_spread"] < 0.01 and len(s["hidden"]["depth4"]) == 4
    # 200 Adam steps: most of each function's variance is explained (a constant explains 0)
    for fn in ("sin_half_x", "sinc_5pi"):
        assert all(v < 0.1 for v in s["unexplained_variance"][fn].values()), fn
    assert s["mean_unexplained_variance"] < 0.1
    check_figure(run / "figures" / "loss_curves.png", panels=2)
    check_figure(run / "figures" / "predictions.png", panels=2)
    check_figure(run / "figures" / "parameter_counts.png", min_size=(400, 60))


def test_function_fit_budget_31_is_the_seeds_1_10_1_network(tmp_path):
    run, s = smoke_run(tmp_path, "function-fit", "budget=31", "steps=1000")
    assert s["hidden"]["depth1"] == [10] and s["parameters"]["depth1"] == 31
    # 31 parameters still learn sin(x) + 0.5x: far below a constant's variance (1.0)
    assert s["unexplained_variance"]["sin_half_x"]["depth1"] < 0.2


def test_train_regressor_snapshots_weights_and_loss_every_k_steps():
    import torch

    from nnlab.dynamics.multirun import train_regressor
    from nnlab.dynamics.params import flat_parameters
    from nnlab.dynamics.targets import sample_target
    from nnlab.models import MLP

    _, x, y = sample_target("sin_half_x", 50)
    r = train_regressor(x=x, y=y, x_eval=x, hidden=(8,), steps=9, lr=0.01, seed=0,
                        snapshot_every=3)  # fmt: skip
    assert r["snapshot_epochs"] == [0, 3, 6, 9] and r["snapshots"].shape == (4, 8 + 8 + 8 + 1)
    torch.manual_seed(0)
    start = MLP(1, (8,), 1)  # the same seeded initialisation
    assert torch.equal(r["snapshots"][0], flat_parameters(start))
    assert torch.equal(r["first_layer"][0], start.state_dict()["net.1.weight"].reshape(-1))
    assert r["snapshot_loss"][-1] == pytest.approx(r["final_loss"], rel=1e-6)
    assert r["snapshot_loss"][-1] < r["snapshot_loss"][0]


def test_weight_trajectory_on_the_seeds_regression(tmp_path):
    from nnlab.dynamics.targets import sample_target
    from nnlab.experiments import get

    cfg = get("weight-trajectory").make_config("quick", {"function": "sin_half_x"})
    assert (cfg.epochs, cfg.lr, cfg.points) == (100, 0.01, 200)  # the seed's settings
    run, s = smoke_run(tmp_path, "weight-trajectory", "function=sin_half_x", "epochs=90")
    assert s["function"] == "sin_half_x" and "final_test_accuracy" not in s
    assert s["snapshot_epochs"] == list(range(0, 91, 3))
    # Var(sin(x) + 0.5x) on [-10, 10] is about 9: the nets explain most of it
    _, _, y = sample_target("sin_half_x", 200)
    assert s["mean_final_loss"] < 0.2 * float(y.var(unbiased=False))
    for key in ("explained_variance_first_layer", "explained_variance_whole_model"):
        first, second = s[key]
        assert 1 > first >= second > 0
    check_figure(run / "figures" / "trajectories.png", panels=2, caption="PCA")


def test_minimal_ratio_hessian_at_critical_points(tmp_path):
    run, s = smoke_run(tmp_path, "minimal-ratio")
    assert s["runs"] == 3 and s["parameters"] == 4 * 2 + 4 * 5 + 5  # 1-4-4-1
    # the exact Hessian agrees with central differences of the gradient (float64)
    assert s["hessian_fd_max_error"] < 1e-6 * max(1.0, s["hessian_max_abs"])
    # switching the objective to ‖g‖² lowered the gradient norm by more than 10x
    assert s["grad_norm_max"] < 0.1 * s["grad_norm_before_median"]
    assert s["grad_norm_min"] <= s["grad_norm_median"] <= s["grad_norm_max"]
    assert 0 < s["minimal_ratio_min"] <= s["minimal_ratio_mean"] <= s["minimal_ratio_max"] <= 1
    # ratio, flat and negative shares partition the spectrum
    total = s["minimal_ratio_mean"] + s["flat_fraction_mean"] + s["negative_fraction_mean"]
    assert total == pytest.approx(1.0)
    assert 0 <= s["near_zero_weight_fraction_mean"] < 0.5
    check_figure(run / "figures" / "minimal_ratio.png", panels=3, caption="different quantity")


def test_random_labels_are_memorised_and_test_stays_at_chance(tmp_path):
    run, s = smoke_run(tmp_path, "random-labels")
    assert s["random_train_accuracy"] == 1.0 and s["true_train_accuracy"] == 1.0
    assert abs(s["random_test_accuracy"] - 0.1) < 0.05  # 450 digits: chance ± 2 sd
    assert s["true_test_accuracy"] > 0.85
    assert 0.0 < s["labels_unchanged_by_shuffle"] < 0.2  # a permutation keeps ~1/10 by chance
    assert s["epochs_to_fit_random"] > s["epochs_to_fit_true"]
    assert s["epoch_ratio_random_over_true"] == pytest.approx(
        s["epochs_to_fit_random"] / s["epochs_to_fit_true"]
    )
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == s["epochs_to_fit_random"] + s["epochs_to_fit_true"]
    check_figure(run / "figures" / "random_labels.png", panels=2)


@pytest.mark.parametrize(
    ("name", "sets", "message"),
    [
        ("function-fit", ["workers=0"], "setting 'workers' must be in [1, 64]; got 0"),
        ("function-fit", ["depths=1,2"], "three or more different depths"),
        ("function-fit", ["functions=tan"], "functions must name some of"),
        ("weight-trajectory", ["function=tan"], "function must be empty (images) or one of"),
        ("random-labels", ["workers=0"], "setting 'workers' must be in [1, 64]; got 0"),
        ("minimal-ratio", ["runs=1"], "setting 'runs' must be in [2, 10000]; got 1"),
        ("params-vs-generalization", ["widths=1,2,4"], "ten or more different widths"),
        ("params-vs-generalization", ["workers=0"], "setting 'workers' must be in [1, 64]; got 0"),
        ("flatness-interpolation", ["alpha_low=2"], "the α range is empty"),
        ("flatness-interpolation", ["alpha_low=1", "alpha_high=-1"], "the α range is empty"),
        ("sensitivity", ["batch_sizes=64"], "two or more different batch sizes"),
        ("sensitivity", ["workers=0"], "setting 'workers' must be in [1, 64]; got 0"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, capsys, name, sets, message):
    one_line_error(tmp_path, capsys, name, sets, message)


def test_weight_trajectory_pca_of_all_runs_together(tmp_path):
    run, s = smoke_run(tmp_path, "weight-trajectory")
    assert s["runs"] == 3 and s["snapshot_epochs"] == [0, 3, 6]
    for key in ("explained_variance_first_layer", "explained_variance_whole_model"):
        first, second = s[key]
        assert 1 > first >= second > 0 and first + second <= 1
    assert len(s["final_test_accuracy"]) == 3 and min(s["final_test_accuracy"]) > 0.5
    assert len(set(s["final_test_accuracy"])) > 1  # different seeds, different runs
    check_figure(run / "figures" / "trajectories.png", panels=2, caption="PCA")
    assert len(list((run / "checkpoints" / "runs").glob("run*.pt"))) == 3


def test_grad_norm_logs_every_iteration(tmp_path):
    run, s = smoke_run(tmp_path, "grad-norm")
    assert s["iterations"] == 4 * 22  # 1347 digits training images in batches of 64
    assert s["mean_loss_last_10pct"] < 0.6 * s["first_loss"]
    assert s["first_grad_norm"] > 0 and s["max_grad_norm"] >= s["first_grad_norm"]
    # the seed's "sum of the norms" is larger than the norm (triangle inequality)
    assert s["sum_of_norms_over_norm_mean"] > 1.05
    assert len(s["layer_grad_norm_last_10pct"]) == 2 and s["test_accuracy"] > 0.8
    check_figure(run / "figures" / "grad_norm.png", panels=3)


def test_params_vs_generalization_more_parameters_fit_better(tmp_path):
    run, s = smoke_run(tmp_path, "params-vs-generalization")
    widths = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert s["widths"] == widths
    assert s["parameters"] == [64 * w + w + 10 * w + 10 for w in widths]  # 64-w-10 on digits
    assert s["train_accuracy"][0] < 0.3 and s["largest_train_accuracy"] > 0.99
    assert s["train_loss"][-1] < 0.05 * s["train_loss"][0]
    assert s["largest_test_accuracy"] > 0.9 and s["best_test_accuracy"] >= s["test_accuracy"][-1]
    # the widest model fits its training set better than the test set
    assert s["generalization_gap"][-1] > 0 and s["train_test_accuracy_gap_largest"] > 0
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["parameters"] for r in lines] == s["parameters"]
    check_figure(run / "figures" / "params_vs_generalization.png", panels=2)


def test_flatness_interpolation_line_and_surfaces(tmp_path):
    run, s = smoke_run(tmp_path, "flatness-interpolation")
    alphas = s["alphas"]
    assert alphas[0] == -1 and alphas[-1] == 2 and {0.0, 1.0} <= set(alphas) and len(alphas) == 13
    assert "recomputed" in s["batchnorm_statistics"]
    for key in ("small", "large"):
        assert s[f"{key}_batch_test_accuracy"] > 0.85
        assert s[f"{key}_batch_surface_rim_increase"] > 0.1  # a minimum: the loss rises around it
    loss, at = s["train_loss"], {a: i for i, a in enumerate(alphas)}
    # extrapolating far beyond θ₁ destroys the model; the endpoints are the trained models
    assert loss[0] > 2 * max(loss[at[0.0]], loss[at[1.0]])
    assert s["train_accuracy"][at[0.0]] > 0.9 and s["train_accuracy"][0] < 0.5
    assert 0 < s["endpoint_train_loss_change"] < 0.1
    # both numbers are read off the curves reported beside them (rounded to 6 decimals there)
    inside = [loss[i] for i, a in enumerate(alphas) if 0 <= a <= 1]
    barrier = max(inside) - max(loss[at[0.0]], loss[at[1.0]])
    assert s["train_loss_barrier"] == pytest.approx(barrier, abs=2e-6)
    test_loss = s["test_loss"]
    assert s["alpha_of_min_test_loss"] == alphas[test_loss.index(min(test_loss))]
    check_figure(run / "figures" / "interpolation.png", panels=2)
    check_figure(run / "figures" / "loss_surface.png", panels=2, caption="same colour scale")


def test_sensitivity_against_batch_size(tmp_path):
    run, s = smoke_run(tmp_path, "sensitivity")
    assert s["batch_sizes"] == [16, 32, 64, 128, 256]
    for key in ("loss_gradient_norm", "loss_gradient_of_mean_norm", "jacobian_norm", "sharpness"):
        assert len(s[key]) == 5 and all(v > 0 for v in s[key]), key
    assert all(v < 5 for v in s["jacobian_norm"])
    # same epochs: the largest batch takes 16x fewer steps and generalises worse
    assert s["test_accuracy"][0] > 0.9 and s["test_accuracy_smallest_minus_largest_batch"] > 0.02
    assert s["spearman_test_accuracy_vs_batch_size"] < 0
    # each reported rank correlation is that of the lists reported beside it (5 batch sizes)
    from scipy.stats import spearmanr

    sizes, gap = s["batch_sizes"], s["generalization_gap"]
    for key in ("loss_gradient_norm", "jacobian_norm", "sharpness", "generalization_gap"):
        expected = spearmanr(s[key], sizes).statistic
        assert s[f"spearman_{key}_vs_batch_size"] == pytest.approx(expected, abs=1e-6), key
    for key in ("loss_gradient_norm", "jacobian_norm", "sharpness"):
        expected = spearmanr(s[key], gap).statistic
        assert s[f"spearman_{key}_vs_generalization_gap"] == pytest.approx(expected, abs=1e-6)
    check_figure(run / "figures" / "generalization.png", panels=2)
    check_figure(run / "figures" / "sensitivity.png", panels=3, caption="lower bound")
