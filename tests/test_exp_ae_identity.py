"""ae-identity: the over-complete autoencoder copies noise it never saw; a bottleneck, L1
sparsity and input noise stop the copying while digits are still reconstructed."""

from __future__ import annotations

import pytest
import torch

from figcheck import check_figure
from nnlab.training.autoencoder import noise_images, variance_explained
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    torch.set_num_threads(1)
    return smoke_run(tmp_path_factory.mktemp("ae-identity"), "ae-identity")


def test_only_the_unconstrained_autoencoder_reconstructs_noise(smoke):
    run, summary = smoke
    by = {r["variant"]: r for r in summary["variants"]}
    assert list(by) == ["open", "bottleneck", "sparse", "denoise"]
    assert [by[v]["code_width"] for v in by] == [128, 8, 128, 128]
    open_ = by["open"]
    # it copies: noise where digits are drawn comes back with nearly all its variance (0.98)
    assert open_["noise_explained"] > 0.9
    for name in ("bottleneck", "sparse", "denoise"):
        r = by[name]
        # every constrained model still reconstructs digits better than the mean image ...
        assert r["digits_explained"] > 0.5, name
        # ... but noise at least 3x worse than the open model (measured 24x, 68x, 53x) and
        # keeps at most 60% of its variance (measured -0.47 .. 0.49; open 0.98)
        assert r["noise_mse"] > 3 * open_["noise_mse"], name
        assert r["noise_explained"] < 0.6, name
    # nobody learns the corners where no training digit has ink
    for r in by.values():
        assert r["frame_noise_mse"] > r["noise_mse"], r["variant"]
    assert summary["open_noise_explained"] == open_["noise_explained"]
    figures = run / "figures"
    check_figure(figures / "reconstructions.png", min_size=(500, 500))
    check_figure(figures / "errors.png", min_size=(500, 300), panels=1)


def test_noise_images_stay_on_the_support_and_in_range():
    support = torch.zeros(8, 8, dtype=torch.bool)
    support[2:6, 1:7] = True
    for kind in ("uniform", "gaussian"):
        x = noise_images(500, support, torch.Generator().manual_seed(0), kind)
        assert x.shape == (500, 8, 8)
        assert (x[:, ~support] == 0).all()
        inside = x[:, support]
        assert inside.min() >= 0 and inside.max() <= 1
        assert 0.45 < float(inside.mean()) < 0.55 and float(inside.std()) > 0.2


def test_variance_explained_is_one_for_a_copy_and_zero_for_the_mean():
    x = torch.rand(200, 64, generator=torch.Generator().manual_seed(1))
    assert variance_explained(x, x) == 1.0
    assert variance_explained(x.mean(0, keepdim=True).expand_as(x), x) == pytest.approx(0.0)
    # a zero prediction of mean-0.5 images is worse than their mean image
    assert variance_explained(torch.zeros_like(x), x) < -2


@pytest.mark.parametrize(
    ("setting", "message"),
    [("hidden=64", "hidden"), ("latent=64", "latent"), ("variants=open,pca", "variants")],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, "ae-identity", [setting], message)
