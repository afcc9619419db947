"""numpy-classifier: the smoke run's summary and files, a short real training on chars36,
the first-layer weight grids, checkpoint round trip and resume after an interruption."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.data.chars36 import load_chars36
from nnlab.experiments.engine.numpy_classifier import (
    SWEEP,
    evaluate,
    first_layer_images,
    make_network,
    train_network,
)
from nnlab.numerics.metrics import confused_pairs_unordered
from nnlab.scratch import SGD, Momentum, engine_state, flatten, restore_engine_state
from nnlab.training.threads import blas_threads
from nnlab.viz import image_grid
from runs_helper import interrupted_run, smoke_args, smoke_run

EXP = "numpy-classifier"


@pytest.fixture(scope="module")
def smoke_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return smoke_run(tmp_path_factory.mktemp("smoke"), EXP)[0]


@pytest.fixture(scope="module")
def tiny() -> tuple[np.ndarray, ...]:
    """chars36 with 4 images per (font, character) of each split's fonts."""
    d = load_chars36(samples_per_glyph=4)
    return flatten(d.x_train), d.y_train, flatten(d.x_val), d.y_val, flatten(d.x_test), d.y_test


def test_smoke_summary_reports_the_three_learning_rates(smoke_dir):
    s = json.loads((smoke_dir / "summary.json").read_text())
    sweep = {r["network"]: r for r in s["sweep"]}
    assert [r["network"] for r in s["sweep"]] == [net for net, _, _ in SWEEP]
    assert {net: r["lr"] for net, r in sweep.items()} == {"tuned": 0.1, "x10": 1.0, "div10": 0.01}
    history = [json.loads(x) for x in (smoke_dir / "metrics.jsonl").read_text().splitlines()]
    for r in s["sweep"]:
        assert r["val_accuracy"] <= r["peak_val_accuracy"]
        curve = [
            h[f"val_accuracy@{r['network']}"]
            for h in history
            if f"val_accuracy@{r['network']}" in h
        ]
        assert len(curve) == 3 and r["peak_val_accuracy"] == pytest.approx(max(curve))
        assert r["peak_val_epoch"] == curve.index(max(curve)) + 1
    # 36 classes: chance is 0.028 (one standard error on the ~800 validation images: 0.006).
    # Measured (seeds 0, 1): the tuned rate 0.16-0.24 on every split, x10 and div10 0.03-0.08.
    chance = 1 / 36
    for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
        assert sweep["tuned"][key] > chance + 0.1, key
    assert sweep["tuned"]["val_accuracy"] > max(sweep[n]["val_accuracy"] for n in ("x10", "div10"))
    best = max(s["sweep"], key=lambda r: r["val_accuracy"])
    assert s["best_lr"] == best["lr"] and s["best_network"] == best["network"]
    assert s["val_accuracy"] == best["val_accuracy"]
    assert s["test_accuracy"] == best["test_accuracy"]
    # three epochs, 4 images per font and character: the tuned rate is above chance (1/36), the best
    assert sweep["tuned"]["val_accuracy"] > 3 / 36
    assert s["best_network"] == "tuned"
    assert s["parameters"] == 1024 * 64 + 64 + 64 * 36 + 36
    from nnlab.data.chars36 import find_fonts, split_fonts

    fonts = split_fonts(find_fonts())  # 4 images per (font, character) of each split
    expected = tuple(36 * 4 * len(fonts[split]) for split in ("train", "val", "test"))
    assert (s["n_train"], s["n_val"], s["n_test"]) == expected
    assert 1 <= len(s["most_confused"]) <= 6
    assert all(p["count"] > 0 and p["true"] != p["predicted"] for p in s["most_confused"])
    counts = [p["count"] for p in s["most_confused_pairs"]]
    assert counts == sorted(counts, reverse=True)
    assert s["reaches_seed_threshold"] is False  # 3 epochs are not enough for 75%


def test_smoke_metrics_and_figures(smoke_dir):
    lines = [json.loads(x) for x in (smoke_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 3 * 3  # 3 networks x 3 epochs
    for i, (net, _, _) in enumerate(SWEEP):
        block = lines[3 * i : 3 * i + 3]
        assert [r["step"] for r in block] == [1, 2, 3]
        for r in block:
            assert set(r) == {"step"} | {
                f"{split}_{m}@{net}" for split in ("train", "val") for m in ("loss", "accuracy")
            }
    figures = smoke_dir / "figures"
    # the sweep: accuracy (top) and cross-entropy (bottom) for each of the 3 learning rates
    check_figure(figures / "learning_curves.png", min_size=(900, 450), panels=(2, 3))
    for name in ("weights_init", "weights_trained"):  # 8 x 8 tiles, axes off
        check_figure(figures / f"{name}.png", min_size=(850, 850))
    check_figure(
        figures / "confusion_matrix.png",
        min_size=(1900, 900),
        panels=(1, 2),
        caption="confusion matrix",
    )
    check_figure(figures / "sweep_table.png", min_size=(350, 180))


def test_short_training_reaches_50_percent_validation(tiny):
    x_train, y_train, x_val, y_val, x_test, y_test = tiny
    model = make_network(64, seed=0)
    with blas_threads(1):
        hist = train_network(
            model,
            SGD(model, lr=0.1),
            (x_train, y_train, x_val, y_val),
            epochs=20,
            batch_size=32,
            rng=np.random.default_rng(0),
        )
    _, val_acc, _ = evaluate(model, x_val, y_val)
    _, test_acc, predicted = evaluate(model, x_test, y_test)
    assert val_acc == pytest.approx(hist["val_accuracy"][-1])
    assert val_acc >= 0.50  # 1/36 = 2.8% by chance; unseen fonts
    assert test_acc >= 0.50
    assert hist["train_loss"][-1] < 0.6 * hist["train_loss"][0]
    assert predicted.shape == y_test.shape


def test_first_layer_weights_as_an_8x8_grid_of_32x32_images():
    model = make_network(64, seed=0)
    images = first_layer_images(model)
    W = model.layers[0].params["W"]
    assert images.shape == (64, 32, 32)
    np.testing.assert_array_equal(images[5], W[:, 5].reshape(32, 32))  # unit 5's weights
    fig = image_grid(images, ncols=8, title="weights")
    visible = [ax for ax in fig.axes if ax.get_images()]
    assert len(visible) == 64
    rows = {round(ax.get_position().y0, 3) for ax in visible}
    cols = {round(ax.get_position().x0, 3) for ax in visible}
    assert (len(rows), len(cols)) == (8, 8)
    # Xavier uniform: |w| <= sqrt(6 / (1024 + 64))
    assert np.abs(images).max() <= np.sqrt(6 / 1088)


def test_confused_pairs_unordered_sums_both_directions():
    cm = np.array([[5, 3, 0], [4, 6, 1], [0, 2, 7]])
    pairs = confused_pairs_unordered(cm, ["0", "O", "Q"], k=5)
    assert pairs == [
        {"pair": "0/O", "count": 7, "first_as_second": 3, "second_as_first": 4},
        {"pair": "O/Q", "count": 3, "first_as_second": 1, "second_as_first": 2},
    ]


def test_engine_state_round_trip_continues_training_exactly():
    rng = np.random.default_rng(0)
    X = rng.random((70, 1024), dtype=np.float32)
    y = rng.integers(0, 36, 70)
    data = (X, y, X[:10], y[:10])

    def fresh():
        model = make_network(8, seed=3)
        return model, Momentum(model, lr=0.05), np.random.default_rng(7)

    # uninterrupted: 3 epochs
    ref_model, ref_opt, ref_rng = fresh()
    train_network(ref_model, ref_opt, data, epochs=3, batch_size=16, rng=ref_rng)
    # 2 epochs, save through torch (as a checkpoint is), restore into fresh objects, 1 more
    model, opt, shuffle = fresh()
    train_network(model, opt, data, epochs=2, batch_size=16, rng=shuffle)
    buf = io.BytesIO()
    torch.save(engine_state(model, opt, shuffle), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    model2, opt2, shuffle2 = fresh()
    restore_engine_state(state, model2, opt2, shuffle2)
    assert opt2.t == opt.t and opt2.state.keys() == opt.state.keys()
    train_network(model2, opt2, data, epochs=1, batch_size=16, rng=shuffle2)
    for (name, a), (_, b) in zip(
        ref_model.named_parameters(), model2.named_parameters(), strict=True
    ):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_resume_after_interruption_equals_uninterrupted_run(smoke_dir, tmp_path, monkeypatch):
    # interrupt in the second network, after its 2nd epoch was logged but before its
    # checkpoint: resuming must rewind that line, retrain the epoch and finish identically
    run_dir, _ = interrupted_run(
        tmp_path, monkeypatch, smoke_args(EXP), stop=lambda steps: len(steps) == 5, at="log"
    )
    assert json.loads((run_dir / "status.json").read_text())["state"] == "failed"
    assert not (run_dir / "summary.json").exists()
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 5

    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    for name in ("summary.json", "metrics.jsonl"):
        assert (run_dir / name).read_bytes() == (smoke_dir / name).read_bytes(), name
    assert json.loads((run_dir / "status.json").read_text())["resumes"] == 1
