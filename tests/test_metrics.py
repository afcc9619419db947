"""PSNR: per image, its mean, and the PSNR of the mean MSE."""

import numpy as np
import pytest

from nnlab.numerics.metrics import mean_psnr, psnr, psnr_of_mean_mse


def test_psnr_per_image_then_mean():
    target = np.zeros((3, 1024))
    pred = target.copy()
    pred[0] += 0.1  # MSE 0.01 -> 20 dB
    pred[1] += 0.01  # MSE 1e-4 -> 40 dB
    pred[2, :512] = 1.0  # MSE 0.5 -> 10 log10(2) dB
    np.testing.assert_allclose(psnr(pred, target), [20.0, 40.0, 10 * np.log10(2)])
    assert mean_psnr(pred, target) == pytest.approx((60 + 10 * np.log10(2)) / 3)
    # one MSE over all images: 10 log10(1 / mean MSE), lower (log is concave)
    assert psnr_of_mean_mse(pred, target) == pytest.approx(10 * np.log10(3 / 0.5101))
    assert psnr_of_mean_mse(pred, target) < mean_psnr(pred, target)
    assert psnr(target, target)[0] == pytest.approx(100.0)  # capped, not inf


def test_max_linear_accuracy_in_three_dimensions():
    from nnlab.numerics.metrics import max_linear_accuracy

    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float)
    majority = (corners.sum(axis=1) >= 2).astype(float)  # a plane separates it
    parity = corners.sum(axis=1) % 2  # 3-bit XOR: no plane gets more than 6 of 8 right
    assert max_linear_accuracy(corners, majority) == 1.0
    assert max_linear_accuracy(corners, parity) == 0.75
