"""The autoencoder pieces of the library: the seed's conv architecture (shapes, parameters,
skips), the MLP autoencoder, saving and reloading, corruption, the training loop, PCA and
principal angles, kNN accuracy and silhouette, the latent-scatter and field figures."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.models.autoencoders import (
    ConvAutoencoder,
    MLPAutoencoder,
    autoencoder_from_state,
    autoencoder_state,
)
from nnlab.numerics.metrics import knn_accuracy, silhouette
from nnlab.numerics.pca import fit_pca, principal_angles
from nnlab.training.autoencoder import corrupt, fit_autoencoder, image_errors, reconstruct

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_conv_autoencoder_has_the_seeds_layers_shapes_and_parameter_count():
    model = ConvAutoencoder(28)
    # conv 1->4 k3, conv 4->8 k3, linear 392->20, 20->2; linear 2->20, 20->392, conv 8->4, 4->1
    expected = [
        ("conv1.weight", (4, 1, 3, 3)),
        ("conv2.weight", (8, 4, 3, 3)),
        ("enc_fc.0.weight", (20, 392)),
        ("enc_fc.2.weight", (2, 20)),
        ("dec_fc.0.weight", (20, 2)),
        ("dec_fc.2.weight", (392, 20)),
        ("deconv1.weight", (4, 8, 3, 3)),
        ("deconv2.weight", (1, 4, 3, 3)),
    ]
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for name, shape in expected:
        assert shapes[name] == shape, name
    assert sum(p.numel() for p in model.parameters()) == 16_859
    x = torch.rand(5, 1, 28, 28)
    z, p1, p2 = model._features(x)
    assert z.shape == (5, 2) and p1.shape == (5, 4, 14, 14) and p2.shape == (5, 8, 7, 7)
    out = model(x)
    assert out.shape == x.shape and out.min() > 0 and out.max() < 1  # the sigmoid
    assert model.decode(z).shape == (5, 1, 28, 28)


def test_skip_connections_keep_the_parameters_but_bypass_the_code():
    torch.manual_seed(0)
    plain = ConvAutoencoder(28)
    skip = ConvAutoencoder(28, skip=True)
    skip.load_state_dict(plain.state_dict())  # the same weights: only the wiring differs
    assert sum(p.numel() for p in skip.parameters()) == 16_859
    x = torch.rand(4, 1, 28, 28)
    assert not torch.allclose(plain(x), skip(x))
    # without skips the output depends on the input only through the 2-D code; with them,
    # the first convolution gets gradient through the pooled maps even when the code is cut
    for model, reaches in ((plain, False), (skip, True)):
        model.zero_grad()
        z, p1, p2 = model._features(x)
        skips = (p1, p2) if model.skip else None
        model.decode(z.detach(), skips).sum().backward()
        grad = model.conv1.weight.grad
        assert (grad is not None and grad.abs().sum() > 0) == reaches


def test_conv_autoencoder_adapts_to_8x8_digits_and_rejects_odd_sizes():
    model = ConvAutoencoder(8)
    assert model.flat == 32 and model(torch.rand(3, 8, 8)).shape == (3, 8, 8)
    with pytest.raises(ValueError, match="multiple of 4"):
        ConvAutoencoder(30)
    with pytest.raises(ValueError, match="latent"):
        ConvAutoencoder(28, latent=0)


def test_mlp_autoencoder_mirrors_and_has_no_nonlinearity_at_the_code():
    model = MLPAutoencoder((784, 256, 128, 64, 2))
    kinds = [type(m).__name__ for m in model.encoder]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [m.out_features for m in model.decoder if hasattr(m, "out_features")] == [
        64,
        128,
        256,
        784,
    ]
    assert type(model.decoder[0]).__name__ == "Linear"  # straight out of the code
    x = torch.rand(6, 28, 28)
    assert model.encode(x).shape == (6, 2) and model(x).shape == (6, 28, 28)
    linear = MLPAutoencoder((10, 3), activation=None, output=None)
    assert [type(m).__name__ for m in [*linear.encoder, *linear.decoder]] == ["Linear", "Linear"]
    sparse = MLPAutoencoder((10, 4), activation=None, code_activation="sigmoid")
    assert (sparse.encode(torch.randn(5, 10)) > 0).all()
    normed = MLPAutoencoder((784, 100, 30), batchnorm=True)
    kinds = [type(m).__name__ for m in [*normed.encoder, *normed.decoder]]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear"] * 2  # none on the code


def _trained_batchnorm_autoencoder():
    model = MLPAutoencoder((64, 16, 3), batchnorm=True)
    model(torch.rand(32, 64))  # training mode: the running statistics move off their start
    return model


@pytest.mark.parametrize(
    "model",
    [
        ConvAutoencoder(8, skip=True),
        MLPAutoencoder((64, 16, 3), code_activation="sigmoid"),
        _trained_batchnorm_autoencoder(),
    ],
)
def test_saved_state_reloads_with_weights_only_to_the_same_outputs(model):
    buf = io.BytesIO()
    torch.save(autoencoder_state(model), buf)
    buf.seek(0)
    again = autoencoder_from_state(torch.load(buf, weights_only=True))
    x = torch.rand(7, 8, 8)
    assert type(again) is type(model)
    torch.testing.assert_close(again(x), model.eval()(x), rtol=0, atol=0)


def test_corrupt_adds_gaussian_noise_and_masks_with_the_given_rates():
    x = torch.full((200, 500), 0.5)
    noisy = corrupt(x, 0.3, torch.Generator().manual_seed(0))
    diff = noisy - x
    assert abs(diff.mean().item()) < 0.005 and diff.std().item() == pytest.approx(0.3, rel=0.01)
    masked = corrupt(x, 0.0, torch.Generator().manual_seed(0), mask=0.25)
    assert (masked == 0).float().mean().item() == pytest.approx(0.25, abs=0.005)
    assert torch.equal(corrupt(x, 0.0, torch.Generator()), x)
    again = corrupt(x, 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)  # seeded


def test_fit_autoencoder_learns_and_a_denoiser_is_tested_on_corrupted_inputs():
    torch.manual_seed(0)
    basis = torch.randn(3, 20)
    x = torch.sigmoid(torch.randn(512, 3) @ basis)  # a 3-D manifold in 20 dimensions
    model = MLPAutoencoder((20, 16, 3))
    history = fit_autoencoder(model, x[:400], x[400:], epochs=30, batch_size=32, lr=3e-3, seed=0)
    assert history[-1]["test_loss"] < 0.3 * history[0]["test_loss"]
    clean = float(image_errors(reconstruct(model, x[400:]), x[400:]).mean())
    assert clean == pytest.approx(history[-1]["test_loss"], rel=1e-5)
    torch.manual_seed(0)
    denoiser = MLPAutoencoder((20, 16, 3))
    noisy = fit_autoencoder(
        denoiser, x[:400], x[400:], epochs=2, batch_size=32, lr=3e-3, seed=0, noise_std=0.5
    )
    inputs = corrupt(x[400:], 0.5, torch.Generator().manual_seed(2))
    expected = float(image_errors(reconstruct(denoiser, inputs), x[400:]).mean())
    assert noisy[-1]["test_loss"] == pytest.approx(expected, rel=1e-5)


def test_pca_matches_scikit_learn_and_reconstructs_optimally():
    from sklearn.decomposition import PCA as SkPCA

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12))
    pca = fit_pca(x, 4)
    ref = SkPCA(4).fit(x)
    np.testing.assert_allclose(np.abs(pca.components @ ref.components_.T), np.eye(4), atol=1e-8)
    np.testing.assert_allclose(pca.variances, ref.explained_variance_ * 299 / 300, rtol=1e-8)
    assert np.abs(pca.components @ pca.components.T - np.eye(4)).max() < 1e-10
    # any other rank-4 subspace reconstructs worse
    other = np.linalg.qr(pca.components.T + 0.1 * rng.normal(size=(12, 4)))[0].T
    err = np.mean((pca.reconstruct(x) - x) ** 2)
    centred = x - pca.mean
    assert err < np.mean((centred @ other.T @ other - centred) ** 2)


def test_principal_angles_are_those_of_a_known_rotation_and_ignore_the_basis():
    a = np.eye(5)[:, :2]
    theta = np.radians(30.0)
    b = np.zeros((5, 2))
    b[:, 0] = [1, 0, 0, 0, 0]
    b[:, 1] = [0, np.cos(theta), np.sin(theta), 0, 0]
    np.testing.assert_allclose(principal_angles(a, b), [0.0, 30.0], atol=1e-8)
    mixed = a @ np.array([[2.0, 1.0], [0.5, -3.0]])  # same span, not orthogonal
    np.testing.assert_allclose(principal_angles(a, mixed), [0.0, 0.0], atol=1e-6)


def test_knn_accuracy_and_silhouette_tell_separated_from_mixed_classes():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 100)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    separated = centres[y] + rng.normal(size=(300, 2))
    mixed = rng.normal(size=(300, 2))
    assert knn_accuracy(separated[::2], y[::2], separated[1::2], y[1::2]) == 1.0
    assert knn_accuracy(mixed[::2], y[::2], mixed[1::2], y[1::2]) < 0.6
    assert silhouette(separated, y) > 0.7 and abs(silhouette(mixed, y)) < 0.1
    assert silhouette(separated, y, sample=50, seed=1) == silhouette(separated, y, 50, 1)


def test_latent_scatter_and_denoising_field_draw_their_panels(tmp_path):
    from nnlab.viz import LatentPanel, denoising_field, latent_scatter

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500)
    panels = [
        LatentPanel(rng.normal(size=(500, 2)) + y[:, None], y, f"model {i}") for i in range(3)
    ]
    path = tmp_path / "codes.png"
    latent_scatter(panels, [str(i) for i in range(10)], title="codes").savefig(path)
    check_figure(path, min_size=(900, 300), panels=(1, 3), caption=False)
    t = np.linspace(-1, 1, 50)
    curve = np.column_stack([t, t**2])
    grid = rng.uniform(-1, 1, (100, 2))
    path = tmp_path / "field.png"
    denoising_field(
        curve, curve + 0.1, grid, -0.1 * grid, curve, title="field", corruption="σ = 0.1"
    ).savefig(path)
    check_figure(path, min_size=(900, 350), panels=2, caption=False)
