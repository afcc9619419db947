"""pca-vs-linear-ae: a linear autoencoder spans PCA's subspace (smoke, on digits)."""

from __future__ import annotations

import json

import pytest

from figcheck import check_figure
from nnlab.cli import main

SMOKE = ["run", "pca-vs-linear-ae", "--preset", "smoke", "--quiet"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_smoke_linear_ae_spans_the_principal_subspace_with_a_mixed_basis(tmp_path):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("*/*/summary.json")
    summary = json.loads(path.read_text())
    angles = summary["principal_angles_degrees"]
    assert len(angles) == 8 and max(angles) < 1.0 and summary["all_angles_below_1_degree"]
    assert 1.0 <= summary["mse_ratio_train"] < 1.01  # PCA is optimal on the training set
    assert abs(summary["mse_ratio_test"] - 1) < 0.01 and summary["within_1_percent"]
    # the same subspace, but the decoder's basis is not PCA's orthonormal one ...
    assert summary["decoder_max_abs_cosine"] > 0.05
    # ... while PCA of its reconstructions gives back the components
    assert min(summary["recovered_component_cosines"]) > 0.99
    figures = path.parent / "figures"
    check_figure(figures / "angles_and_error.png", min_size=(800, 300), panels=2)
    check_figure(figures / "bases.png", min_size=(800, 250))


def test_too_few_epochs_leave_angles_large(tmp_path):
    assert main([*SMOKE, "--set", "epochs=1", "--set", "lr=1e-3", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("*/*/summary.json")
    summary = json.loads(path.read_text())
    assert summary["max_principal_angle_degrees"] > 5 and not summary["all_angles_below_1_degree"]


@pytest.mark.parametrize(("setting", "message"), [("k=0", "'k'"), ("k=64", "below the 64")])
def test_bad_latent_size_exits_2_with_one_line(tmp_path, capsys, setting, message):
    assert main([*SMOKE, "--set", setting, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
