"""deep-vs-shallow: the width solver hits the parameter budget; equal-budget nets learn digits."""

from __future__ import annotations

import json

import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.models import MLP, width_for_budget
from nnlab.models import mlp_parameter_count as mlp_parameters
from runs_helper import interrupted_run, one_line_error, resumes_identically, single_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("hidden", [(7,), (5, 9), (3, 3, 3, 3)])
def test_mlp_parameters_counts_like_the_model(hidden):
    model = MLP(13, hidden, 4)
    assert mlp_parameters(13, hidden, 4) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("n_in", "n_classes", "budget"),
    [(64, 10, 10_000), (784, 10, 100_000), (784, 10, 1_000_000), (3072, 36, 100_000)],
)
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 8])
def test_width_for_budget_is_the_closest_width_within_two_percent(n_in, n_classes, depth, budget):
    w = width_for_budget(n_in, n_classes, depth, budget)

    def miss(width: int) -> int:
        return abs(mlp_parameters(n_in, [width] * depth, n_classes) - budget)

    assert miss(w) <= miss(w - 1) and miss(w) <= miss(w + 1)  # no integer width does better
    # one more unit of width adds (d + c + 1) + 2(L-1)w + ... parameters: at these budgets
    # that step is under 4%, so the nearest width is within 2%
    assert miss(w) / budget <= 0.02


def test_width_for_budget_is_coarse_when_one_unit_is_a_large_share_of_the_budget():
    # 784 inputs, 10,000 parameters: each unit of width costs 795, so only +-4% is possible
    w = width_for_budget(784, 10, 1, 10_000)
    assert w == 13 and mlp_parameters(784, [w], 10) == 10_345


def test_width_for_budget_known_values_and_refusal():
    # 784 -> 126 -> 10: 784*126 + 126 + 126*10 + 10 = 100,180
    assert width_for_budget(784, 10, 1, 100_000) == 126
    # 64 -> 54 -> 54 -> 54 -> 10: exactly 10,000
    assert width_for_budget(64, 10, 3, 10_000) == 54
    assert mlp_parameters(64, [54] * 3, 10) == 10_000
    with pytest.raises(ValueError, match="too small"):
        width_for_budget(784, 10, 2, 500)


def test_smoke_trains_equal_budget_networks_on_digits(tmp_path):
    assert (
        main(["run", "deep-vs-shallow", "--preset", "smoke", "--quiet", "--out", str(tmp_path)])
        == 0
    )
    run = single_run(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["budget"] == 10_000
    nets = {n["name"]: n for n in summary["networks"]}
    assert set(nets) == {"depth1", "depth3"}
    assert nets["depth1"]["hidden"] == [133] and nets["depth3"]["hidden"] == [54, 54, 54]
    for net in nets.values():
        assert abs(net["parameters"] - 10_000) / 10_000 <= 0.02
        assert net["test_accuracy"] > 0.85  # 8x8 digits, 10 epochs; chance is 0.10
    assert summary["parameter_spread"] <= 0.02
    assert summary["best_test_accuracy"] == max(n["test_accuracy"] for n in nets.values())
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(1, 11))
    assert {"depth1_train_loss", "depth3_test_accuracy"} <= set(lines[-1])
    # the deep net's loss went down too: both were trained, not just evaluated
    assert lines[-1]["depth3_train_loss"] < 0.5 * lines[0]["depth3_train_loss"]
    check_figure(run / "figures" / "learning_curves.png", min_size=(600, 230), panels=(1, 2))
    check_figure(run / "figures" / "networks.png", min_size=(430, 70))  # a table, two rows


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["depths=2"], "two or more different depths"),
        (["depths=2,2"], "two or more different depths"),
        (["budget=50"], "too small"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, capsys, overrides, message):
    one_line_error(tmp_path, capsys, "deep-vs-shallow", overrides, message)


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    args = ["run", "deep-vs-shallow", "--preset", "smoke", "--quiet", "--set", "epochs=4"]
    args += ["--set", "dropout=0.2"]  # dropout draws from the global RNG: it must be restored
    assert main([*args, "--out", str(tmp_path / "ref")]) == 0
    cut, _ = interrupted_run(
        tmp_path / "cut", monkeypatch, args, stop=lambda states: len(states) == 2
    )
    resumes_identically(cut, single_run(tmp_path / "ref"))


def test_the_seeds_mnist_is_the_default_and_fashion_mnist_an_option(tmp_path):
    from nnlab.experiments import get
    from nnlab.runs.read import read_run

    exp = get("deep-vs-shallow")
    assert exp.make_config("quick").dataset == exp.make_config("full").dataset == "mnist"
    assert exp.make_config("quick", {"dataset": "fashion-mnist"}).dataset == "fashion-mnist"
    # a run made when Fashion-MNIST was the default keeps it: config.json names its data
    assert (
        main(["run", "deep-vs-shallow", "--preset", "smoke", "--quiet", "--out", str(tmp_path)])
        == 0
    )
    run = single_run(tmp_path)
    config = json.loads((run / "config.json").read_text())
    config["config"]["dataset"] = "fashion-mnist"
    (run / "config.json").write_text(json.dumps(config))
    assert read_run(run).data == "fashion-mnist"
    settings = exp.make_config(config["preset"], config["config"])
    assert settings.dataset == "fashion-mnist"
