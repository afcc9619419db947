"""sparse-denoising: the penalties make the hidden layer sparse, the denoiser corrupts, the
maximising input is the normalised weight vector."""

from __future__ import annotations

import pytest
import torch

from figcheck import check_figure
from nnlab.data import load_dataset
from runs_helper import one_line_error, smoke_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_smoke_sparsity_penalties_silence_hidden_units(tmp_path):
    run, summary = smoke_run(tmp_path, "sparse-denoising")
    by = {r["variant"]: r for r in summary["variants"]}
    assert list(by) == ["plain", "l1", "kl", "denoise"]
    plain_zeros = by["plain"]["near_zero_fraction"]  # ~0.09
    assert by["l1"]["near_zero_fraction"] > plain_zeros + 0.04  # ~0.17
    assert by["kl"]["near_zero_fraction"] > plain_zeros + 0.3  # ~0.59
    for sparse in ("l1", "kl"):
        assert by[sparse]["mean_activation"] < by["plain"]["mean_activation"]
    assert by["kl"]["mean_activation"] < 0.2  # pulled towards ρ = 0.05
    # the report's table puts the slide's best MSE beside each variant's own (none for kl and
    # denoise, which the slide does not have)
    table = [x for x in (run / "report.md").read_text().splitlines() if "|" in x]
    head = next(i for i, x in enumerate(table) if "slide_best_mse" in x)
    columns = [c.strip() for c in table[head].strip("|").split("|")]
    rows = {
        r[0]: dict(zip(columns, r, strict=True))
        for r in ([c.strip() for c in x.strip("|").split("|")] for x in table[head + 2 : head + 6])
    }
    slide = {"plain": "0.0318", "l1": "0.0301", "kl": "—", "denoise": "—"}
    assert set(rows) == set(slide)
    for name, row in rows.items():
        assert row["slide_best_mse"] == slide[name], row
        assert float(row["best_test_mse"]) == pytest.approx(by[name]["best_test_mse"], rel=1e-3)
    # the denoiser's logged test loss is on corrupted inputs: worse than on clean ones
    assert by["denoise"]["best_test_mse"] > by["denoise"]["clean_input_test_mse"]
    # predicting the mean training image scores 0.074 on these test digits; the worst variant
    # (kl, its code held near ρ) measured 0.029, 0.39 of it
    data = load_dataset("digits")
    mean_image = float(((data.x_test - data.x_train.mean(axis=0)) ** 2).mean())
    for r in by.values():
        assert r["best_test_mse"] < 0.5 * mean_image, r["variant"]
        assert r["clean_input_test_mse"] < 0.5 * mean_image, r["variant"]
    figures = run / "figures"
    check_figure(figures / "maximising_inputs.png", min_size=(700, 250))
    check_figure(figures / "learning_curves.png", min_size=(700, 250), panels=(1, 4))


def test_the_normalised_weight_vector_maximises_a_sigmoid_unit():
    torch.manual_seed(0)
    w, b = torch.randn(64), torch.tensor(0.3)
    best = torch.sigmoid(w @ (w / w.norm()) + b)
    others = torch.nn.functional.normalize(torch.randn(5000, 64), dim=1)
    assert (torch.sigmoid(others @ w + b) < best).all()


@pytest.mark.parametrize(
    ("setting", "message"),
    [("variants=plain,dropout", "variants"), ("noise_std=-1", "noise_std"), ("hidden=0", "hidden")],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, setting, message):
    one_line_error(tmp_path, capsys, "sparse-denoising", [setting], message)
