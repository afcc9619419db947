"""cnn-units: receptive fields, top patches that really hold the top activations, class
images the network believes in, and the same for a finished cnn-mnist run's model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.convnets.cnn_units import conv_outputs, receptive_field, top_patches
from nnlab.models import CNN

SMOKE = ["run", "cnn-units", "--preset", "smoke", "--quiet"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(("k1", "k2"), [(5, 3), (3, 3), (5, 5)])
def test_receptive_field_is_where_the_gradient_of_a_unit_reaches(k1, k2):
    torch.manual_seed(0)
    model = CNN((1, 28, 28), 10, (4, 4), (k1, k2), (8,), batchnorm=False).eval()
    model.features[1] = model.features[4] = torch.nn.Identity()  # no ReLU to block a gradient
    x = torch.randn(1, 1, 28, 28, requires_grad=True)
    ends = conv_outputs(model.features)
    assert ends == [2, 5]  # conv, act (, pool, conv, act)
    for layer, depth in enumerate(ends, start=1):
        size, stride, offset = receptive_field(model.features[:depth])
        assert (size, stride) == ((k1, 1) if layer == 1 else (2 * k2 + k1 - 1, 2))
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


def test_receptive_field_follows_strides_and_padding():
    layers = [torch.nn.Conv2d(1, 1, 7, stride=2, padding=3), torch.nn.MaxPool2d(3, 2, 1)]
    layers.append(torch.nn.Conv2d(1, 1, 3, padding=1))
    # 7 px, stride 2; the pool adds 2 steps of 2 px, the conv 2 steps of 4 px
    assert receptive_field(layers) == (7 + 4 + 8, 4, -3 - 2 - 4)


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


def cnn_mnist_run(out: Path, *settings: str) -> Path:
    """A 1-epoch cnn-mnist smoke run on digits (a second or two) with two 8-channel convs."""
    args = ["run", "cnn-mnist", "--preset", "smoke", "--quiet", "--out", str(out)]
    for setting in ("epochs=1", "channels=8,8", "hidden=16", *settings):
        args += ["--set", setting]
    assert main(args) == 0
    (config,) = out.glob("cnn-mnist/*/config.json")
    return config.parent


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield cnn_mnist_run(tmp_path_factory.mktemp("cnn-mnist"))
    finally:
        torch.set_num_threads(threads)


def test_a_cnn_mnist_runs_model_is_looked_inside(tmp_path, mnist_run):
    args = [*SMOKE, "--out", str(tmp_path), "--set", f"model_run={mnist_run}"]
    assert main([*args, "--set", "epochs=50"]) == 0  # training settings are not used
    (path,) = tmp_path.glob("cnn-units/*/summary.json")
    s = json.loads(path.read_text())
    trained = json.loads((mnist_run / "summary.json").read_text())
    assert s["test_accuracy"] == pytest.approx(trained["test_accuracy"], abs=1e-6)
    assert s["test_loss"] == pytest.approx(trained["test_loss"], abs=1e-5)
    assert s["model_run"] == str(mnist_run)
    assert s["channels"] == [8, 8] and s["kernels"] == [5, 3]  # the smoke preset's kernels
    assert s["receptive_field_layer1"] == 5 and s["receptive_field_layer2"] == 10
    assert len(s["maximised_class_probability"]) == 10
    assert not (path.parent / "checkpoints" / "last.pt").exists()  # nothing was trained
    figures = path.parent / "figures"
    for layer in (1, 2):
        check_figure(figures / f"top_patches_layer{layer}.png", min_size=(400, 400))
    check_figure(figures / "activation_maximisation.png", min_size=(600, 100), caption="logit")


def _not_finished(run: Path) -> None:
    status = run / "status.json"
    status.write_text(status.read_text().replace('"completed"', '"running"'))


def _another_experiment(run: Path) -> None:
    config = run / "config.json"
    config.write_text(config.read_text().replace('"cnn-mnist"', '"mlp-mnist"'))


def _damaged_weights(run: Path) -> None:
    (run / "checkpoints" / "last.pt").write_bytes(b"not a checkpoint")


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda run: shutil.rmtree(run), "is not a run directory"),
        (_another_experiment, "is a run of 'mlp-mnist', not cnn-mnist"),
        (_not_finished, "is not a finished cnn-mnist run"),
        (_damaged_weights, "cannot be loaded as its run's CNN"),
    ],
)
def test_a_directory_that_is_not_a_finished_cnn_mnist_run_is_a_one_line_error(
    tmp_path, capsys, mnist_run, spoil, message
):
    run = tmp_path / "run"
    shutil.copytree(mnist_run, run)
    spoil(run)
    assert main([*SMOKE, "--out", str(tmp_path / "out"), "--set", f"model_run={run}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not list((tmp_path / "out").glob("cnn-units/*"))  # bad input leaves nothing behind


def test_a_run_of_another_dataset_is_a_one_line_error(tmp_path, capsys, mnist_run):
    args = [*SMOKE, "--out", str(tmp_path), "--set", f"model_run={mnist_run}"]
    assert main([*args, "--set", "dataset=mnist"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and "was trained on digits, not dataset=mnist: set dataset=digits" in err[0]
    )


def test_a_model_with_one_convolution_is_a_one_line_error(tmp_path, capsys):
    one_conv = cnn_mnist_run(tmp_path / "trained", "channels=8", "kernels=5")
    args = [*SMOKE, "--out", str(tmp_path / "out"), "--set", f"model_run={one_conv}"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has 1 convolution layer; cnn-units looks at two" in err[0]


def test_channels_shown_beyond_the_loaded_models_channels_is_a_one_line_error(
    tmp_path, capsys, mnist_run
):
    args = [*SMOKE, "--out", str(tmp_path), "--set", f"model_run={mnist_run}"]
    assert main([*args, "--set", "channels_shown=9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "channels_shown=9 exceeds the smaller layer's 8 channels" in err[0]
