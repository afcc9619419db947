"""cnn-units: receptive fields, top patches that really hold the top activations, class
images the network believes in."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.cnn_units import receptive_field, top_patches
from nnlab.models import CNN

SMOKE = ["run", "cnn-units", "--preset", "smoke", "--quiet"]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(("k1", "k2"), [(5, 3), (3, 3), (5, 5)])
def test_receptive_field_is_where_the_gradient_of_a_unit_reaches(k1, k2):
    torch.manual_seed(0)
    model = CNN((1, 28, 28), 10, (4, 4), (k1, k2), (8,), batchnorm=False).eval()
    model.features[1] = model.features[4] = torch.nn.Identity()  # no ReLU to block a gradient
    x = torch.randn(1, 1, 28, 28, requires_grad=True)
    for layer, depth in ((1, 2), (2, 5)):  # conv, act (, pool, conv, act)
        size, stride, offset = receptive_field(layer, k1, k2)
        i, j = 6, 7
        model.features[:depth](x)[0, 0, i, j].backward()
        rows, cols = np.nonzero(x.grad[0, 0].abs().numpy() > 0)
        x.grad = None
        assert rows.min() >= stride * i + offset and rows.max() <= stride * i + offset + size - 1
        assert cols.min() >= stride * j + offset and cols.max() <= stride * j + offset + size - 1
        if layer == 1:
            assert rows.max() - rows.min() + 1 == size == cols.max() - cols.min() + 1
        else:  # each 2x2 pool passes its gradient to one of its four inputs
            assert rows.max() - rows.min() + 1 >= size - 1


def test_top_patches_are_the_largest_activations_and_their_fields():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(5, 12, 12)).astype(np.float32)
    acts = torch.from_numpy(rng.normal(size=(5, 2, 12, 12)).astype(np.float32))
    patches, values = top_patches(acts, images, (3, 1, -1), top=4, fill=0.0)
    assert patches.shape == (2, 4, 3, 3)
    np.testing.assert_allclose(values[:, 0], acts.amax(dim=(0, 2, 3)).numpy())
    n, c, i, j = np.unravel_index(np.argmax(acts[:, 0].numpy()), (5, 1, 12, 12))
    padded = np.pad(images[n], 1)
    np.testing.assert_array_equal(patches[0, 0], padded[i : i + 3, j : j + 3])


def test_smoke_run_on_digits(tmp_path):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("cnn-units/*/summary.json")
    s = json.loads(path.read_text())
    assert s["test_accuracy"] > 0.85
    assert s["receptive_field_layer1"] == 3 and s["receptive_field_layer2"] == 8
    assert s["maximised_predicted_as_target"] >= 9 and s["mean_maximised_probability"] > 0.8
    figures = path.parent / "figures"
    for layer in (1, 2):
        check_figure(figures / f"top_patches_layer{layer}.png", min_size=(400, 400))
    check_figure(figures / "activation_maximisation.png", min_size=(600, 100), caption="logit")


def test_three_layers_are_a_one_line_error(tmp_path, capsys):
    args = [*SMOKE, "--out", str(tmp_path), "--set", "channels=4,4,4", "--set", "kernels=3,3,3"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "two convolution layers" in err[0]
