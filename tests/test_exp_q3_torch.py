"""q3-torch: seed 004's Q3 network in PyTorch is exactly the NumPy engine's, and trains like it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.models import q3_network
from nnlab.scratch.q3 import q3_network as engine_q3_network
from runs_helper import single_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# 1024 x 64 weights + 64 biases, 64 x 36 weights + 36 biases
Q3_PARAMETERS = 1024 * 64 + 64 + 64 * 36 + 36  # 67,940


def test_the_torch_q3_network_is_1024_64_36_sigmoid_with_67940_parameters():
    model = q3_network(seed=0)
    kinds = [type(m) for m in model]
    assert kinds == [torch.nn.Flatten, torch.nn.Linear, torch.nn.Sigmoid, torch.nn.Linear]
    assert (model[1].in_features, model[1].out_features) == (1024, 64)
    assert (model[3].in_features, model[3].out_features) == (64, 36)
    assert sum(p.numel() for p in model.parameters()) == Q3_PARAMETERS == 67_940
    assert model(torch.zeros(5, 1, 32, 32)).shape == (5, 36)  # logits: softmax is in the loss


def test_its_initial_weights_are_the_engines_xavier_uniform_draw():
    """Caught PyTorch's default init (U(-1/sqrt(fan_in), ..): bound 0.031 instead of 0.074)."""
    model, engine = q3_network(seed=3), engine_q3_network(64, 3)
    for torch_layer, engine_layer, fan in (
        (model[1], engine[0], 1024 + 64),
        (model[3], engine[2], 64 + 36),
    ):
        w = torch_layer.weight.detach().numpy()
        np.testing.assert_array_equal(w.T, engine_layer.params["W"])
        assert not torch_layer.bias.detach().numpy().any()
        bound = math.sqrt(6 / fan)  # Xavier uniform: U(-a, a), std a / sqrt(3)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
        assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    other = q3_network(seed=4)
    assert not torch.equal(other[1].weight, model[1].weight)  # the seed draws the weights


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("q3-torch")
    assert main(["run", "q3-torch", "--preset", "smoke", "--quiet", "--out", str(out)]) == 0
    run = single_run(out)
    summary = json.loads((run / "summary.json").read_text())
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return run, summary, lines


def test_pytorch_and_the_engine_train_alike_from_the_same_start(smoke):
    """Same weights, batches and SGD steps: the two differ only by float32 rounding. Measured
    at the smoke size (3 epochs): every logged loss within 2e-7 of the other's, the same
    validation accuracy, first-layer weights 7e-8 apart. The tolerances (1e-4 on losses, half
    a point of accuracy) are far above rounding and far below what a different optimiser
    setting does: planted, momentum 0.9 in PyTorch put the validation accuracies 3.8 points
    apart."""
    run, s, lines = smoke
    assert s["parameters"] == Q3_PARAMETERS and s["initial_weight_difference"] == 0.0
    assert s["init_bound"] == pytest.approx(math.sqrt(6 / 1088))
    assert abs(s["val_accuracy_difference"]) <= 0.005
    assert abs(s["test_accuracy"] - s["numpy_test_accuracy"]) <= 0.005
    assert s["final_weight_difference"] < 1e-4
    by = {net: [x for x in lines if f"train_loss@{net}" in x] for net in ("torch", "numpy")}
    assert [x["step"] for x in by["torch"]] == [x["step"] for x in by["numpy"]] == [1, 2, 3]
    for t, n in zip(by["torch"], by["numpy"], strict=True):
        for key in ("train_loss", "val_loss"):
            assert t[f"{key}@torch"] == pytest.approx(n[f"{key}@numpy"], abs=1e-4)
    # it learns: 3 epochs at lr 0.1 on dark ink start slowly, but beat chance (1/36) 4 times
    assert s["val_accuracy"] > 4 / 36
    assert by["torch"][-1]["train_loss@torch"] < by["torch"][0]["train_loss@torch"] - 0.2
    check_figure(run / "figures" / "learning_curves.png", panels=(2, 2))
    check_figure(run / "figures" / "networks.png")
