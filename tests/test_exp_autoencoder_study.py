"""autoencoder-study: five autoencoders at equal epochs, the skip trade-off in numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.data import load_dataset
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def baselines() -> tuple[float, float]:
    """On the test digits: the MSE of predicting the mean training image for every input
    (0.074), and the accuracy of always answering the commonest test label (0.102)."""
    data = load_dataset("digits")
    mean_image = float(((data.x_test - data.x_train.mean(axis=0)) ** 2).mean())
    return mean_image, float(np.bincount(data.y_test).max() / len(data.y_test))


def test_every_smoke_model_beats_the_mean_image_and_its_code_beats_chance(tmp_path):
    run, summary = smoke_run(tmp_path, "autoencoder-study")
    models = summary["models"]
    assert set(models) == {"plain", "skip", "denoise", "skip-denoise", "mlp"}
    conv = [models[n]["parameters"] for n in ("plain", "skip", "denoise", "skip-denoise")]
    assert len(set(conv)) == 1  # skips add no parameters
    # Measured (smoke, seeds 0-3): the worst model's MSE is 0.876 of the mean image's (the
    # conv "denoise", whose 2-D code sees noisy input), the worst kNN-5 0.22 (skip-denoise: the
    # skips bypass the code). A chance code scores the majority 0.102 +- 0.014 (one standard
    # error on 450 test labels): 0.07 is five of them.
    mean_image, majority = baselines()
    for name, m in models.items():
        assert m["test_mse"] < 0.92 * mean_image, name
        assert m["knn_accuracy"] > majority + 0.07, name
        assert (m["test_mse_vs_input"] > m["test_mse"]) == ("denoise" in name)
    # the skip models reconstruct better: the decoder bypasses the 2-D code
    assert models["skip"]["test_mse"] < models["plain"]["test_mse"]
    assert f"{models['skip']['test_mse']:.4f}" in summary["finding"]
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"train_loss@skip", "test_loss@mlp"} <= {k for line in lines for k in line}
    figures = run / "figures"
    check_figure(figures / "codes.png", min_size=(900, 600), panels=5)
    check_figure(figures / "learning_curves.png", min_size=(900, 250), panels=(1, 5))


@pytest.mark.parametrize(
    ("setting", "message"), [("variants=plain,vae", "variants"), ("noise_std=-0.3", "noise_std")]
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, "autoencoder-study", [setting], message)
