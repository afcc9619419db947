"""conv-autoencoder: the seed's architecture on digits, skip and denoising options, the
seed's file names, reloading with weights_only=True, bad settings."""

from __future__ import annotations

import pytest
import torch

from figcheck import check_figure
from nnlab.data import load_dataset
from nnlab.experiments.autoencoders.conv_autoencoder import model_file
from nnlab.models.autoencoders import autoencoder_from_state
from nnlab.training.autoencoder import corrupt, image_errors, reconstruct
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_seed_file_names():
    assert model_file("mnist", skip=False, denoise=False) == "mnist_cae"
    assert model_file("mnist", skip=True, denoise=False) == "mnist-cae-skip"
    assert model_file("mnist", skip=False, denoise=True) == "mnist-dcae"
    assert model_file("mnist", skip=True, denoise=True) == "mnist-dcae-skip"


def test_smoke_trains_and_the_saved_model_reproduces_the_test_mse(tmp_path):
    run, summary = smoke_run(tmp_path, "conv-autoencoder")
    # 1->4->8 convs on 8x8: 8*2*2 = 32 features; 40+296 + (32*20+20)+42 + 60+(20*32+32) + 292+37
    assert summary["parameters"] == 40 + 296 + 660 + 42 + 60 + 672 + 292 + 37
    data = load_dataset("digits")
    mean_image = float(((data.x_test - data.x_train.mean(axis=0)) ** 2).mean())  # 0.074
    assert summary["test_mse"] < 0.9 * mean_image  # a 2-D code of 8x8 digits: a little better
    assert summary["knn_accuracy"] > 0.3  # chance: 0.1
    path = run / "checkpoints" / "digits_cae.pt"
    assert summary["model_file"] == path.name
    model = autoencoder_from_state(torch.load(path, weights_only=True))
    x = torch.as_tensor(data.x_test).unsqueeze(1)
    mse = float(image_errors(reconstruct(model, x), x).mean())
    assert mse == pytest.approx(summary["test_mse"], rel=1e-6)
    assert summary["reloaded_test_mse"] == summary["test_mse"]
    figures = run / "figures"
    check_figure(figures / "codes.png", min_size=(500, 450), panels=1)
    check_figure(figures / "reconstructions.png", min_size=(400, 200))
    check_figure(figures / "learning_curves.png", min_size=(400, 250), panels=1)


def test_skip_and_denoising_variants_differ_and_the_denoiser_sees_corrupted_inputs(tmp_path):
    _, plain = smoke_run(tmp_path / "plain", "conv-autoencoder", "epochs=5")
    run, both = smoke_run(
        tmp_path / "both", "conv-autoencoder", "epochs=5", "skip=true", "noise_std=0.3"
    )
    assert both["model_file"] == "digits-dcae-skip.pt" and both["parameters"] == plain["parameters"]
    assert both["test_mse"] != plain["test_mse"]
    # its input is the corrupted image: the reconstruction is far from the noise it was given
    assert both["test_mse_vs_input"] > both["test_mse"] + 0.05  # the noise alone adds 0.09
    model = autoencoder_from_state(
        torch.load(run / "checkpoints" / "digits-dcae-skip.pt", weights_only=True)
    )
    assert model.skip
    x = torch.as_tensor(load_dataset("digits").x_test).unsqueeze(1)
    noisy = corrupt(x, 0.3, torch.Generator().manual_seed(2))  # the run's seed 0 + 2
    assert float(image_errors(reconstruct(model, noisy), x).mean()) == pytest.approx(
        both["test_mse"], rel=1e-6
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [("noise_std=-0.3", "noise_std"), ("latent=0", "latent"), ("dataset=cifar", "dataset")],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, "conv-autoencoder", [setting], message)
