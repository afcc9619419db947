"""corruption-2d: the corruption is written out, and the denoiser moves points to the curve."""

from __future__ import annotations

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.experiments.autoencoders.corruption_2d import curve_points, distance_to_curve
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_smoke_denoiser_brings_corrupted_points_back_to_the_parabola(tmp_path):
    run, summary = smoke_run(tmp_path, "corruption-2d")
    # N(0, 0.1² I) noise: the mean distance to y = x² is about 0.08 (less than E|ε| = 0.125,
    # as the component along the curve does not count)
    assert 0.06 < summary["mean_distance_corrupted"] < 0.1
    assert summary["mean_distance_denoised"] < 0.4 * summary["mean_distance_corrupted"]
    assert "N(x̃; x, σ²I)" in summary["corruption_formula"]
    check_figure(run / "figures" / "denoising_field.png", min_size=(900, 350), panels=2)


def test_masking_trains_on_masked_points_and_beats_leaving_them_masked(tmp_path):
    sets = ["corruption=mask", "mask=0.3", "epochs=5"]
    _, summary = smoke_run(tmp_path, "corruption-2d", *sets)
    assert summary["mask"] == 0.3 and summary["noise_std"] == 0.0
    assert "Bernoulli" in summary["corruption_formula"]
    # Leaving a masked point as it is costs p E[x_i^2] per coordinate: with x ~ U(-1, 1) on
    # y = x^2, p (1/3 + 1/5) / 2 = 0.08. Measured (seeds 0-2): train loss 0.065-0.068 and
    # test loss 0.066-0.070; trained on unmasked points instead, train loss 0.0003-0.0005 and
    # test loss 0.079-0.086.
    identity = 0.3 * (1 / 3 + 1 / 5) / 2
    assert summary["train_loss"] > 0.5 * identity  # its training inputs were masked
    assert summary["test_loss"] < 0.95 * identity  # and it learned to undo some of it


def test_distance_to_curve_is_exact_for_points_off_the_parabola():
    dense = curve_points("parabola", np.linspace(-1.5, 1.5, 30001))
    points = np.array([[0.0, -0.5], [0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(distance_to_curve(points, dense), [0.5, 0.0, 0.0], atol=1e-6)


@pytest.mark.parametrize(
    ("setting", "message"),
    [("noise_std=-0.1", "noise_std"), ("curve=spiral", "curve"), ("noise_std=0", "> 0")],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, "corruption-2d", [setting], message)
