"""image-folder: scanning, the stratified split, Pillow loading, batch augmentation, the demo
smoke run, a run on a generated folder, and the one-line errors (no root, no torchvision)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch
from PIL import Image

from figcheck import check_figure
from nnlab.cli import main
from nnlab.data.augment import augment
from nnlab.data.imagefolder import load_images, make_shapes_folder, scan, stratified_split
from runs_helper import interrupted_run, single_run

SMOKE = ["run", "image-folder", "--preset", "smoke", "--quiet"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_scan_lists_classes_sorted_and_skips_non_images(tmp_path):
    for name, n in (("b_cats", 3), ("a_dogs", 2)):
        (tmp_path / name).mkdir()
        for i in range(n):
            Image.new("RGB", (5, 7), (i * 40, 0, 0)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "a_dogs" / "notes.txt").write_text("not an image")
    (tmp_path / "empty").mkdir()
    folder = scan(tmp_path)
    assert folder.class_names == ("a_dogs", "b_cats")
    assert folder.labels.tolist() == [0, 0, 1, 1, 1]
    x = load_images(folder.paths, 8)
    assert x.shape == (5, 3, 8, 8) and x.dtype == torch.float32
    assert x[3, 0].mean().item() == pytest.approx(40 / 255, abs=1e-6)  # b_cats/1.png, solid
    assert x.min() >= 0 and x.max() <= 1


def test_stratified_split_holds_out_each_class_and_is_seeded():
    labels = np.repeat([0, 1, 2], [50, 20, 3])
    train, val = stratified_split(labels, 0.2, seed=7)
    assert np.bincount(labels[val]).tolist() == [10, 4, 1]
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(len(labels)))
    again = stratified_split(labels, 0.2, seed=7)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(stratified_split(labels, 0.2, seed=8)[1], val)


def test_augment_flips_and_crops_each_image_like_a_loop():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6)
    gen = torch.Generator().manual_seed(3)
    out = augment(x, gen, flip=True, pad=2)
    assert out.shape == x.shape
    # the same random draws, one image at a time
    gen = torch.Generator().manual_seed(3)
    flips = torch.rand(2, generator=gen) < 0.5
    dy = torch.randint(0, 5, (2,), generator=gen)
    dx = torch.randint(0, 5, (2,), generator=gen)
    for i in range(2):
        img = x[i].flip(2) if flips[i] else x[i]
        padded = torch.nn.functional.pad(img, (2, 2, 2, 2))
        assert torch.equal(out[i], padded[:, dy[i] : dy[i] + 6, dx[i] : dx[i] + 6])
    assert torch.equal(augment(x, gen, flip=False, pad=0), x)


def test_smoke_demo_draws_shapes_and_learns_them(tmp_path):
    assert main([*SMOKE, "--out", str(tmp_path)]) == 0
    run = single_run(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["demo"] is True
    assert summary["class_names"] == ["circle", "square", "triangle"]
    assert summary["images_per_class"] == {"circle": 60, "square": 60, "triangle": 60}
    assert summary["val_images"] == 36 and summary["train_images"] == 144
    assert summary["val_accuracy"] > 0.7  # chance is 1/3
    cm = np.array(summary["confusion_matrix"])
    assert cm.sum() == 36 and np.trace(cm) / 36 == pytest.approx(summary["val_accuracy"])
    for i, name in enumerate(summary["class_names"]):
        assert summary["per_class_accuracy"][name] == pytest.approx(cm[i, i] / cm[i].sum())
    figures = run / "figures"
    check_figure(figures / "learning_curves.png", min_size=(600, 230), panels=(1, 2))
    check_figure(
        figures / "confusion_matrix.png",
        min_size=(600, 270),
        panels=(1, 2),
        caption="confusion matrix",
    )
    check_figure(figures / "training_samples.png", min_size=(850, 240))  # tiles, axes off
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 10


def test_runs_on_a_given_folder_of_any_size_images(tmp_path):
    root = make_shapes_folder(tmp_path / "shapes", per_class=8, size=40, seed=1)
    Image.new("L", (17, 23), 200).save(root / "square" / "odd.jpg")  # grey, odd size, jpeg
    out = tmp_path / "runs"
    sets = ["root=" + str(root), "epochs=2", "image_size=16", "val_fraction=0.25", "demo=false"]
    args = [a for s in sets for a in ("--set", s)]
    assert main([*SMOKE, *args, "--out", str(out)]) == 0
    summary = json.loads((single_run(out) / "summary.json").read_text())
    assert summary["demo"] is False and summary["images"] == 25
    assert summary["val_images"] == 2 + 2 + 2
    assert set(summary["per_class_accuracy"]) == {"circle", "square", "triangle"}


def test_empty_root_is_a_one_line_error(tmp_path, capsys):
    assert main(["run", "image-folder", "--quiet", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--set root=DIR" in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*/*/summary.json"))


def test_missing_folder_is_a_one_line_error_that_leaves_no_run_behind(
    tmp_path, capsys, monkeypatch
):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # no --out: a run would go to ./runs
    code = main(["run", "image-folder", "--quiet", "--set", f"root={tmp_path / 'nope'}"])
    assert code == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and len(err.strip().splitlines()) == 1
    assert list(cwd.rglob("*")) == []  # no ./runs, nothing half-written


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None, reason="has torchvision")
@pytest.mark.parametrize("name", ["resnet18", "squeezenet1_1"])
def test_pretrained_without_torchvision_is_a_one_line_error(tmp_path, capsys, name):
    args = ["--set", f"pretrained={name}", "--out", str(tmp_path)]
    assert main([*SMOKE, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"pretrained={name} needs torchvision: pip install 'nnlab[vision]'" in err
    assert "TORCH_HOME" in err


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    args = [*SMOKE, "--set", "epochs=3", "--set", "demo_per_class=12"]
    assert main([*args, "--out", str(tmp_path / "ref")]) == 0
    cut, _ = interrupted_run(
        tmp_path / "cut", monkeypatch, args, stop=lambda states: len(states) == 2
    )
    assert main(["run", "--resume", str(cut), "--quiet"]) == 0
    ref = single_run(tmp_path / "ref")
    for name in ("metrics.jsonl", "summary.json"):
        ref_text = (ref / name).read_text().replace(str(ref), "RUN")
        assert (cut / name).read_text().replace(str(cut), "RUN") == ref_text, name
