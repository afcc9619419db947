"""colourisation: YCbCr is exact, the network sees luminance only, training and test patches
never share a pixel, and the network's colours beat grey and the mean tint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.data.natural_images import colour_patches, load_colour_images
from nnlab.models.autoencoders import autoencoder_from_state
from nnlab.numerics.imaging import rgb_to_ycbcr, ycbcr_to_rgb
from nnlab.training.autoencoder import colouring_pair, image_errors, reconstruct
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_ycbcr_round_trip_and_grey_has_no_chroma():
    rgb = np.random.default_rng(0).random((50, 4, 3))
    ycc = rgb_to_ycbcr(rgb)
    assert np.allclose(ycbcr_to_rgb(ycc), rgb, atol=1e-12)
    assert np.allclose(ycc[..., 0], rgb @ [0.299, 0.587, 0.114])
    grey = np.repeat(rgb[..., :1], 3, axis=-1)
    assert np.allclose(rgb_to_ycbcr(grey)[..., 1:], 0, atol=1e-12)
    t = torch.as_tensor(rgb).permute(2, 0, 1)[None]
    assert torch.allclose(rgb_to_ycbcr(t, channel_dim=1)[0].permute(1, 2, 0), torch.tensor(ycc))


def test_the_input_carries_no_colour():
    rgb = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 0.5 + 0.25
    ycc = rgb_to_ycbcr(rgb, channel_dim=1)
    recoloured = ycbcr_to_rgb(torch.cat([ycc[:, :1], -ycc[:, 1:]], dim=1), channel_dim=1)
    a, target_a = colouring_pair(rgb)
    b, target_b = colouring_pair(recoloured)
    assert a.shape == (1, 1, 8, 8) and target_a.shape == (1, 2, 8, 8)
    assert torch.allclose(a, b, atol=1e-6)  # the same grey image ...
    assert not torch.allclose(target_a, target_b)  # ... for other colours


def test_training_and_test_patches_come_from_different_columns():
    # an image whose red channel is its column index
    image = np.zeros((40, 100, 3), dtype=np.float32)
    image[..., 0] = np.arange(100)
    train = colour_patches([image], 8, 500, "train", 0.25, 0)
    test = colour_patches([image], 8, 500, "test", 0.25, 0)
    assert train.shape == (500, 3, 8, 8)
    assert train[:, 0].max() == 74 and train[:, 0].min() == 0
    assert test[:, 0].min() == 75 and test[:, 0].max() == 99
    photos = load_colour_images()
    assert len(photos) == 4 and all(p.ndim == 3 and p.shape[2] == 3 for p in photos)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    torch.set_num_threads(1)
    return smoke_run(tmp_path_factory.mktemp("colourisation"), "colourisation")


def test_the_network_colours_better_than_grey_and_the_mean_tint(smoke):
    run, summary = smoke
    baseline = min(summary["grey_chroma_mse"], summary["mean_chroma_chroma_mse"])
    # 16x16 test patches: 0.0032 against the mean tint's 0.0058 (0.55 of it); a network
    # predicting the mean tint or grey scores 1.0 of a baseline
    assert summary["model_chroma_mse"] < 0.75 * baseline
    assert summary["model_rgb_mse"] < 0.75 * min(
        summary["grey_rgb_mse"], summary["mean_chroma_rgb_mse"]
    )
    assert summary["strip_rgb_mse"] < 0.75 * summary["strip_grey_rgb_mse"]
    # the saved network on test patches drawn here, against their true chroma
    model = autoencoder_from_state(
        torch.load(run / "checkpoints" / "colourise.pt", weights_only=True)
    )
    x = torch.as_tensor(colour_patches(load_colour_images(), 16, 300, "test", 0.25, 99))
    grey, chroma = colouring_pair(x)
    again = float(image_errors(reconstruct(model, grey), chroma).mean())
    assert again < 0.75 * float(image_errors(torch.zeros_like(chroma), chroma).mean())
    figures = run / "figures"
    check_figure(figures / "patches.png", min_size=(400, 600))
    check_figure(figures / "photographs.png", min_size=(600, 300))
    check_figure(figures / "learning_curves.png", min_size=(400, 250), panels=1)


@pytest.mark.parametrize(
    ("setting", "message"), [("patch=18", "patch"), ("test_fraction=0.9", "test_fraction")]
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, "colourisation", [setting], message)
