"""mlp-autoencoder: the seed's four-layer encoder and decoder, a 2-D code, mnist_ae.pt."""

from __future__ import annotations

import json

import pytest
import torch

from figcheck import check_figure
from nnlab.data import load_dataset
from nnlab.models.autoencoders import MLPAutoencoder, autoencoder_from_state
from nnlab.training.autoencoder import image_errors, reconstruct
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_smoke_embeds_digits_in_2d_and_the_saved_model_reproduces_the_mse(tmp_path):
    run, summary = smoke_run(tmp_path, "mlp-autoencoder")
    assert summary["architecture"] == "64-64-32-16-2"
    assert summary["parameters"] == sum(
        p.numel() for p in MLPAutoencoder((64, 64, 32, 16, 2)).parameters()
    )
    assert summary["test_mse"] < 0.055 and summary["knn_accuracy"] > 0.4  # chance 0.1
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 30 and lines[-1]["train_loss"] < 0.7 * lines[0]["train_loss"]
    model = autoencoder_from_state(
        torch.load(run / "checkpoints" / "digits_ae.pt", weights_only=True)
    )
    x = torch.as_tensor(load_dataset("digits").x_test)
    assert float(image_errors(reconstruct(model, x), x).mean()) == pytest.approx(
        summary["test_mse"], rel=1e-6
    )
    check_figure(run / "figures" / "codes.png", min_size=(500, 450), panels=1)
    check_figure(run / "figures" / "reconstructions.png", min_size=(400, 200))


def test_latent_size_zero_exits_2_with_one_line(tmp_path, capsys):
    one_line_error(tmp_path, capsys, "mlp-autoencoder", ["latent=0"], "latent")
