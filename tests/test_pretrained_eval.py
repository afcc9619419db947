"""pretrained-eval: top-1 / top-5 against a hand computation with a tiny TorchScript model, a
state-dict CNN, loose images, a GIF "video", and the one-line errors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from figcheck import check_figure
from needs import need_module
from nnlab.cli import main
from nnlab.data.imagefolder import load_images, make_shapes_folder, scan
from nnlab.models import CNN

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

CENTERS = [0.0, 40.0, 80.0, 120.0, 160.0, 200.0, 240.0]
NAMES = ["zero", "forty", "eighty", "one twenty", "one sixty", "two hundred", "two forty"]
# folder -> grey levels of its solid images (no ties in distance to the centers)
FOLDERS = {
    "forty": [45, 100, 250, 30],
    "two_hundred": [190, 5, 130, 215, 171],
    "zero": [12],
}


class Nearest(nn.Module):
    """logit of class c = -(255 * mean pixel - center_c)^2: ranks classes by distance."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("centers", torch.tensor(CENTERS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        level = 255.0 * x.mean(dim=(1, 2, 3))
        return -((level[:, None] - self.centers[None, :]) ** 2)


def single_run(out: Path) -> Path:
    (directory,) = sorted(p.parent for p in out.glob("*/*/config.json"))
    return directory


def grey_folder(root: Path) -> Path:
    for name, levels in FOLDERS.items():
        (root / name).mkdir(parents=True)
        for i, v in enumerate(levels):
            Image.new("RGB", (9, 6), (v, v, v)).save(root / name / f"{i}.png")
    return root


def hand_topk() -> tuple[int, int, int, dict[str, int]]:
    """(top-1 correct, top-5 correct, images, predicted-label counts) worked out directly."""
    centers = np.array(CENTERS)
    top1 = top5 = n = 0
    counts: dict[str, int] = {}
    for folder, levels in FOLDERS.items():
        true = [k.replace(" ", "_") for k in NAMES].index(folder)
        for v in levels:
            order = list(np.argsort(np.abs(v - centers)))
            top1 += order[0] == true
            top5 += true in order[:5]
            n += 1
            counts[NAMES[order[0]]] = counts.get(NAMES[order[0]], 0) + 1
    return top1, top5, n, counts


def run_eval(tmp_path: Path, *sets: str) -> dict:
    out = tmp_path / "runs"
    args = [a for s in sets for a in ("--set", s)]
    assert main(["run", "pretrained-eval", "--quiet", *args, "--out", str(out)]) == 0
    run = single_run(out)
    check_figure(run / "figures" / "frequent_predictions.png", min_size=(450, 100), panels=1)
    check_figure(run / "figures" / "sample_predictions.png", min_size=(850, 140))  # tiles
    return json.loads((run / "summary.json").read_text())


def test_top1_top5_match_a_hand_computation_with_a_torchscript_model(tmp_path):
    model_path = tmp_path / "nearest.pt"
    torch.jit.save(torch.jit.script(Nearest()), str(model_path))
    classes = tmp_path / "classes.txt"
    classes.write_text("\n".join(NAMES) + "\n")
    source = grey_folder(tmp_path / "greys")
    summary = run_eval(
        tmp_path, f"model={model_path}", f"source={source}", f"classes={classes}", "batch_size=4"
    )
    top1, top5, n, counts = hand_topk()
    assert (top1, top5, n) == (5, 8, 10)  # the folders were chosen so top-5 > top-1 > 0
    assert summary["images"] == summary["labelled"] == n
    assert summary["top1_correct"] == top1 and summary["top5_correct"] == top5
    assert summary["top1_accuracy"] == pytest.approx(top1 / n)
    assert summary["top5_accuracy"] == pytest.approx(top5 / n)
    frequent = {f["label"]: f["count"] for f in summary["most_frequent_predictions"]}
    assert frequent == counts
    assert summary["most_frequent_predictions"][0]["count"] == max(counts.values())
    assert summary["per_class_top1"]["zero"] == 1.0


def test_state_dict_cnn_agrees_with_running_it_directly(tmp_path):
    source = make_shapes_folder(tmp_path / "shapes", per_class=6, size=20, seed=2)
    torch.manual_seed(0)
    kwargs = {"input_shape": (3, 16, 16), "n_classes": 3, "channels": (4,), "kernels": (3,),
              "hidden": (8,)}  # fmt: skip
    model = CNN(**kwargs).eval()
    path = tmp_path / "cnn.pth"
    torch.save({"state_dict": model.state_dict(), "cnn": kwargs}, path)
    summary = run_eval(tmp_path, f"model={path}", f"source={source}", "image_size=16")
    folder = scan(source)
    with torch.no_grad():
        logits = model(load_images(folder.paths, 16))
    target = torch.as_tensor(folder.labels)
    assert summary["top1_correct"] == int((logits.argmax(1) == target).sum())
    assert summary["top5_accuracy"] == 1.0  # 3 classes: top-5 is every class
    assert summary["classes"] == 3 and summary["images"] == 18


def test_loose_images_are_unlabelled_and_only_counted(tmp_path):
    model_path = tmp_path / "nearest.pt"
    torch.jit.save(torch.jit.script(Nearest()), str(model_path))
    classes = tmp_path / "classes.txt"
    classes.write_text("\n".join(NAMES))
    loose = tmp_path / "loose"
    loose.mkdir()
    for i, v in enumerate([41, 38, 199, 44]):
        Image.new("RGB", (4, 4), (v, v, v)).save(loose / f"{i}.png")
    summary = run_eval(tmp_path, f"model={model_path}", f"source={loose}", f"classes={classes}")
    assert summary["top1_accuracy"] is None and summary["labelled"] == 0
    assert summary["most_frequent_predictions"][0] == {
        "label": "forty",
        "count": 3,
        "fraction": 0.75,
    }


def test_every_frame_of_a_video_with_one_label(tmp_path):
    iio = need_module("imageio.v3", "reading a video needs imageio")
    model_path = tmp_path / "nearest.pt"
    torch.jit.save(torch.jit.script(Nearest()), str(model_path))
    classes = tmp_path / "classes.txt"
    classes.write_text("\n".join(NAMES))
    # "forty" is nearest for 45, 35, 44; 4th for 110; 6th for 150 and 250
    levels = [45, 35, 250, 44, 110, 150]
    frames = np.stack([np.full((8, 8, 3), v, dtype=np.uint8) for v in levels])
    video = tmp_path / "clip.gif"
    iio.imwrite(video, frames, loop=0)
    summary = run_eval(
        tmp_path, f"model={model_path}", f"source={video}", f"classes={classes}",
        "label=forty", "image_size=8",
    )  # fmt: skip
    assert summary["source_kind"] == "video" and summary["images"] == 6
    assert summary["top1_correct"] == 3 and summary["top5_correct"] == 4


def test_smoke_demo_scores_the_top1_its_untrained_cnn_predicts(tmp_path):
    assert (
        main(["run", "pretrained-eval", "--preset", "smoke", "--quiet", "--out", str(tmp_path)])
        == 0
    )
    run = single_run(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["demo_model"] is True and summary["images"] == 30
    # the demo's CNN (untrained, seed 0) evaluated here on the shapes the run wrote
    folder = scan(run / "demo_shapes")
    assert list(folder.class_names) == ["circle", "square", "triangle"]
    torch.manual_seed(0)
    model = CNN((3, 32, 32), 3, (8,), (3,), (16,)).eval()
    with torch.no_grad():
        predicted = model(load_images(folder.paths, 32)).argmax(dim=1).numpy()
    correct = predicted == np.asarray(folder.labels)
    assert summary["top1_correct"] == int(correct.sum())
    assert summary["top1_accuracy"] == pytest.approx(correct.mean())
    assert summary["per_class_top1"] == {
        name: pytest.approx(correct[np.asarray(folder.labels) == c].mean())
        for c, name in enumerate(folder.class_names)
    }
    counts = np.bincount(predicted, minlength=3)
    assert {f["label"]: f["count"] for f in summary["most_frequent_predictions"]} == {
        name: int(counts[c]) for c, name in enumerate(folder.class_names) if counts[c]
    }


def test_empty_source_is_a_one_line_error(tmp_path, capsys):
    assert main(["run", "pretrained-eval", "--quiet", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--set source=DIR" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None, reason="has torchvision")
def test_torchvision_model_without_torchvision_is_a_one_line_error(tmp_path, capsys):
    source = make_shapes_folder(tmp_path / "shapes", per_class=2)
    args = ["--set", "model=resnet18", "--set", f"source={source}", "--out", str(tmp_path / "r")]
    assert main(["run", "pretrained-eval", "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "model=resnet18 needs torchvision: pip install 'nnlab[vision]'" in err
    assert "TORCH_HOME" in err


def test_labels_the_model_does_not_know_are_a_one_line_error(tmp_path, capsys):
    model_path = tmp_path / "nearest.pt"
    torch.jit.save(torch.jit.script(Nearest()), str(model_path))
    classes = tmp_path / "classes.txt"
    classes.write_text("\n".join(NAMES))
    source = make_shapes_folder(tmp_path / "shapes", per_class=2)
    sets = [f"model={model_path}", f"source={source}", f"classes={classes}"]
    args = [a for s in sets for a in ("--set", s)]
    assert main(["run", "pretrained-eval", "--quiet", *args, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "not among the model's 7 classes" in err and len(err.splitlines()) == 1
