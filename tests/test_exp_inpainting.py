"""inpainting: the holes are squares of the asked size, the network never sees inside them,
and it fills them far better than the mean image or the image's own mean."""

from __future__ import annotations

import pytest
import torch

from figcheck import check_figure
from nnlab.data import load_dataset
from nnlab.models.autoencoders import autoencoder_from_state
from nnlab.training.autoencoder import hole_errors, inpainting_pair, reconstruct, square_masks
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_square_masks_are_squares_of_the_asked_sides_inside_the_image():
    masks = square_masks(2000, 28, 8, 12, torch.Generator().manual_seed(0))
    assert masks.shape == (2000, 1, 28, 28)
    assert set(masks.unique().tolist()) == {0.0, 1.0}
    rows, cols = masks[:, 0].amax(dim=2).sum(1), masks[:, 0].amax(dim=1).sum(1)
    assert torch.equal(rows, cols)  # square
    assert torch.equal(masks.flatten(1).sum(1), rows * cols)  # filled
    assert set(rows.long().tolist()) == set(range(8, 13))  # every side drawn
    # every pixel is covered by some hole: positions reach the borders
    assert (masks.sum(0) > 0).all()


def test_the_input_hides_the_hole_and_the_target_is_intact():
    x = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(1)) + 0.1
    inputs, target = inpainting_pair(2, 4)(x, torch.Generator().manual_seed(2))
    mask = inputs[:, 1:]
    assert inputs.shape == (64, 2, 8, 8) and torch.equal(target, x)
    assert (inputs[:, :1][mask == 1] == 0).all()  # nothing of the truth inside the hole
    assert torch.equal(inputs[:, :1][mask == 0], x[mask == 0])  # the rest as it is
    assert (mask.flatten(1).sum(1) >= 4).all()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    torch.set_num_threads(1)
    return smoke_run(tmp_path_factory.mktemp("inpainting"), "inpainting")


def test_the_network_fills_holes_better_than_the_mean_fills(smoke):
    run, summary = smoke
    model_mse = summary["model_hole_mse"]
    baseline = min(summary["mean_image_hole_mse"], summary["image_mean_hole_mse"])
    # digits 8x8 with 3-4 px holes: 0.048 against the mean image's 0.100; half of it would be
    # 0.050, so ask for < 0.7 (a network returning its input scores the hole's mean square,
    # 0.17, one pasting the mean image scores the baseline itself)
    assert model_mse < 0.7 * baseline
    assert summary["images_better_than_baseline"] > 0.7  # measured 0.90
    # the saved network, on holes drawn here, against the intact test digits
    data = load_dataset("digits")
    x = torch.as_tensor(data.x_test).unsqueeze(1)
    model = autoencoder_from_state(
        torch.load(run / "checkpoints" / "digits-inpaint.pt", weights_only=True)
    )
    inputs, _ = inpainting_pair(3, 4)(x, torch.Generator().manual_seed(123))
    again = float(hole_errors(reconstruct(model, inputs), x, inputs[:, 1:]).mean())
    mean_image = torch.as_tensor(data.x_train.mean(axis=0))[None, None]
    fill = float(hole_errors(mean_image.expand_as(x), x, inputs[:, 1:]).mean())
    assert again < 0.7 * fill
    assert again == pytest.approx(model_mse, rel=0.2)  # another draw of holes, the same skill
    figures = run / "figures"
    check_figure(figures / "inpainting.png", min_size=(500, 800))
    check_figure(figures / "learning_curves.png", min_size=(400, 250), panels=1)


@pytest.mark.parametrize(
    ("setting", "message"),
    [("hole_min=5", "hole_min"), ("hole_max=8", "hole_max"), ("channels=8,8,8,8", "channels")],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, "inpainting", [setting], message)
