"""pca-vs-linear-ae: a linear autoencoder spans PCA's subspace (smoke, on digits)."""

from __future__ import annotations

import pytest

from figcheck import check_figure
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_smoke_linear_ae_spans_the_principal_subspace_with_a_mixed_basis(tmp_path):
    run, summary = smoke_run(tmp_path, "pca-vs-linear-ae")
    angles = summary["principal_angles_degrees"]
    assert len(angles) == 8 and max(angles) < 1.0 and summary["all_angles_below_1_degree"]
    assert 1.0 <= summary["mse_ratio_train"] < 1.01  # PCA is optimal on the training set
    assert abs(summary["mse_ratio_test"] - 1) < 0.01 and summary["within_1_percent"]
    # the same subspace, but the decoder's basis is not PCA's orthonormal one ...
    assert summary["decoder_max_abs_cosine"] > 0.05
    # ... while PCA of its reconstructions gives back the components
    assert min(summary["recovered_component_cosines"]) > 0.99
    figures = run / "figures"
    check_figure(figures / "angles_and_error.png", min_size=(800, 300), panels=2)
    check_figure(figures / "bases.png", min_size=(800, 250))


def test_too_few_epochs_leave_angles_large(tmp_path):
    _, summary = smoke_run(tmp_path, "pca-vs-linear-ae", "epochs=1", "lr=1e-3")
    assert summary["max_principal_angle_degrees"] > 5 and not summary["all_angles_below_1_degree"]


@pytest.mark.parametrize(("setting", "message"), [("k=0", "'k'"), ("k=64", "below the 64")])
def test_bad_latent_size_exits_2_with_one_line(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, "pca-vs-linear-ae", [setting], message)
