"""local-minima: many seeds of a narrow and a wide MLP, their final losses and test accuracies."""

from __future__ import annotations

import pytest

from figcheck import check_figure
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return smoke_run(tmp_path_factory.mktemp("runs"), "local-minima")


def test_every_seed_is_its_own_training_and_ends_somewhere_else(smoke):
    run, s = smoke
    assert s["training_seeds"] == 6 and [n["width"] for n in s["networks"]] == [4, 32]
    for net in s["networks"]:
        # different seeds, different minima: the losses and accuracies spread
        assert net["train_loss_high"] > net["train_loss_low"]
        assert net["test_accuracy_best"] > net["test_accuracy_worst"]
    assert len(list((run / "checkpoints" / "runs").glob("width*-seed*.pt"))) == 12
    check_figure(run / "figures" / "minima.png", panels=2, caption="training loss")


def test_good_fraction_counts_the_seeds_near_the_best(smoke):
    _, s = smoke
    for net in s["networks"]:
        count = net["good_fraction"] * s["training_seeds"]
        assert count == round(count) and count >= 1  # the best seed itself is good
        if net["test_accuracy_worst"] < net["test_accuracy_best"] - s["good_margin"]:
            assert net["good_fraction"] < 1  # the worst is not
    assert s["narrow_good_fraction"] == s["networks"][0]["good_fraction"]
    assert s["wide_good_fraction"] == s["networks"][-1]["good_fraction"]


def test_the_wide_network_ends_lower_and_better_than_the_narrow_one(smoke):
    _, s = smoke
    narrow, wide = s["networks"]
    # 64-4-10 against 64-32-10 on the 8x8 digits (chance: 10%): every wide seed beats every
    # narrow one, and every narrow training ends at a higher loss
    assert wide["test_accuracy_worst"] > narrow["test_accuracy_best"] > 0.3
    assert narrow["train_loss_low"] > wide["train_loss_high"]


def test_widths_out_of_order_are_a_one_line_error(tmp_path, capsys):
    one_line_error(tmp_path, capsys, "local-minima", ["widths=32,4"], "different and increasing")
