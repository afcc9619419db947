"""initialisation: the scale of activations and gradients per layer at step 0 for each scheme,
the smoke run's summary and figures, and the gradient check of the Q3 network."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.experiments.engine.initialisation import deep_network, q3_gradcheck
from nnlab.scratch import softmax_cross_entropy
from nnlab.scratch.initialisation import step0_statistics
from runs_helper import one_line_error, smoke_run

EXP = "initialisation"
HIDDEN = (64,) * 6


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return smoke_run(tmp_path_factory.mktemp("smoke"), EXP)


def step0(activation: str, scheme: str):
    """Step-0 statistics of the smoke network on 256 standard-normal 'images'."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(256, 1024)).astype(np.float32)
    y = rng.integers(0, 36, size=256)
    with np.errstate(all="ignore"):
        return step0_statistics(
            deep_network(HIDDEN, activation, scheme, seed=0), softmax_cross_entropy, x, y
        )


def growth(stats) -> float:
    """How much the activations' std changes from the first hidden layer to the last."""
    return stats.activation_std[-1] / stats.activation_std[0]


def test_scaled_init_keeps_the_scale_where_unscaled_explodes_saturates_or_fades():
    # Xavier for tanh and He for ReLU keep the last layer's std within a factor 4 of the
    # first's (measured 0.43 and 0.72); a scale wrong by a constant factor per layer
    # compounds over 6 layers (e.g. Xavier's bound with 10 × fan_out: growth 0.004).
    tanh_xavier, relu_he = step0("tanh", "xavier"), step0("relu", "he")
    assert 0.25 < growth(tanh_xavier) < 4
    assert 0.25 < growth(relu_he) < 4
    # N(0, 1): ReLU activations grow by ~sqrt(64 / 2) = 5.7 per layer, tanh units saturate
    relu_big, tanh_big = step0("relu", "unit_normal"), step0("tanh", "unit_normal")
    assert growth(relu_big) > 100 * growth(relu_he)
    assert tanh_big.saturated[-1] > 0.5 > 0.05 > tanh_xavier.saturated[-1]
    # N(0, 0.01²): the signal shrinks by 0.01 sqrt(64) = 0.08 per layer
    assert growth(step0("tanh", "small_normal")) < 1e-3 * growth(tanh_xavier)


def test_the_gradient_sent_back_vanishes_from_small_weights_and_not_from_scaled_ones():
    # ||dL/dz|| at the first layer over the output layer's: about 1 for the scaled schemes
    # (measured 0.3 tanh/Xavier, 1.1 ReLU/He), 1e-7 for N(0, 0.01²), 1e4 for ReLU N(0, 1)
    def ratio(stats):
        return stats.delta_norm[0] / stats.delta_norm[-1]

    scaled = [ratio(step0("tanh", "xavier")), ratio(step0("relu", "he"))]
    assert all(0.1 < r < 10 for r in scaled)
    assert ratio(step0("tanh", "small_normal")) < 1e-4 * min(scaled)
    assert ratio(step0("relu", "unit_normal")) > 1e3 * max(scaled)
    zeros = step0("tanh", "zeros")
    assert zeros.delta_norm[0] == 0 and zeros.delta_norm[-1] > 0  # only the output learns


def test_smoke_summary_scaled_inits_learn_and_zero_init_outputs_one_class(smoke):
    _, s = smoke
    r = s["init"]
    chance = s["chance_accuracy"]
    assert chance == pytest.approx(1 / 36)
    # zero init: one distinct hidden unit, one predicted class, the majority rate (all
    # classes are equally frequent in chars36, so chance)
    for act in ("tanh", "relu"):
        zeros = r[f"{act}/zeros"]
        assert zeros["distinct_first_layer_units"] == 1
        assert zeros["distinct_predictions"] == 1
        assert zeros["val_accuracy"] == pytest.approx(chance, abs=0.005)
        assert r[f"{act}/xavier"]["distinct_first_layer_units"] == HIDDEN[0]
    # two epochs on 2 images per (font, character): measured tanh/Xavier 0.36, ReLU/He 0.14;
    # every unscaled scheme <= 0.031 (chance 0.028, one standard error on 792 images 0.006)
    unscaled = max(
        r[f"{a}/{u}"]["val_accuracy"]
        for a in ("tanh", "relu")
        for u in ("zeros", "small_normal", "unit_normal")
    )
    assert r["tanh/xavier"]["val_accuracy"] > unscaled + 0.15
    assert r["relu/he"]["val_accuracy"] > unscaled + 0.05
    assert s["scaled_val_accuracy"] == pytest.approx(
        (r["tanh/xavier"]["val_accuracy"] + r["relu/he"]["val_accuracy"]) / 2
    )
    # ReLU with N(0, 1) overflows in its first epoch; nothing else does
    assert r["relu/unit_normal"]["diverged_epoch"] == 1
    assert [k for k, v in r.items() if v["diverged_epoch"] is not None] == ["relu/unit_normal"]
    assert r["relu/unit_normal"]["last_layer_activation_std"] > 1e3
    steps = s["step0"]["tanh/xavier"]
    assert len(steps["activation_std"]) == len(HIDDEN)
    assert len(steps["delta_norm"]) == len(steps["grad_norm"]) == len(HIDDEN) + 1


def test_smoke_logs_every_epoch_of_every_network_that_did_not_diverge(smoke):
    run_dir, s = smoke
    history = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for name, r in s["init"].items():
        steps = [h["step"] for h in history if f"val_accuracy@{name}" in h]
        epochs = 2 if r["diverged_epoch"] is None else r["diverged_epoch"] - 1
        assert steps == list(range(epochs + 1)), name  # epoch 0: before training
        losses = [h[f"train_loss@{name}"] for h in history if f"train_loss@{name}" in h]
        assert all(math.isfinite(v) for v in losses)
        if r["diverged_epoch"] is None:
            assert losses[-1] == pytest.approx(r["final_train_loss"])


def test_smoke_figures_show_three_panels_per_activation_and_curves_per_activation(smoke):
    run_dir, _ = smoke
    check_figure(run_dir / "figures" / "step0_scale.png", panels=(2, 3), caption="log")
    check_figure(run_dir / "figures" / "learning_curves.png", panels=(2, 2), caption="epoch")
    check_figure(run_dir / "figures" / "summary_table.png", caption="gradient check")


def test_q3_gradcheck_agrees_with_backprop_and_the_summary_reports_it(smoke):
    _, s = smoke
    # float64 central differences on the 1024-64-36 sigmoid network: measured 1e-7 at worst
    # (the input); a wrong gradient gives 1e-2 or more
    assert set(s["gradcheck"]) == {"0.W", "0.b", "2.W", "2.b", "input"}
    assert s["gradcheck_max_error"] == max(s["gradcheck"].values()) < 1e-6
    rng = np.random.default_rng(0)
    x, y = rng.random((4, 1024)), rng.integers(0, 36, size=4)
    assert max(q3_gradcheck(x, y, entries=20).values()) < 1e-6


def test_q3_gradcheck_reports_a_wrong_gradient_in_one_layer(monkeypatch):
    from nnlab.scratch import Activation

    # the sigmoid's backward off by 2%: every gradient below it (layer 0, the input) is wrong
    right = Activation.backward
    monkeypatch.setattr(Activation, "backward", lambda self, g, **kw: 1.02 * right(self, g, **kw))
    rng = np.random.default_rng(0)
    x, y = rng.random((4, 1024)), rng.integers(0, 36, size=4)
    errors = q3_gradcheck(x, y, entries=20)
    assert errors["0.W"] > 1e-2 and errors["input"] > 1e-2
    assert errors["2.W"] < 1e-6  # the layer above the planted bug is still right


@pytest.mark.parametrize(
    ("setting", "message"),
    [("hidden=", "needs at least one width"), ("activations=softmax", "activations")],
)
def test_bad_settings_are_one_line_errors(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, EXP, [setting], message)
