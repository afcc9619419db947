"""pretrained-eval: top-1 / top-5 accuracy of a classifier on an image folder or a video
(seed 004 Q6.3).

`--set source=DIR` is a folder of class sub-folders whose names are the true labels (matched
case-insensitively to the model's class names, or given as class indices); a folder of loose
images, or `--set source=clip.mp4` (every frame, read with PyAV, the `video` extra: `pip install
'nnlab[video]'`; bounded by `max_frames` and `nnlab.io.MAX_PIXELS`, see `nnlab.data.video`), is
evaluated without labels unless `--set label=NAME` names the class of every image or frame. The
summary has top-1 and top-5 accuracy and the most frequent predicted labels (their histogram is
a figure). `--set demo_video=true` needs no data: it writes an mp4 of characters of one class
(`label`, default A, drawn in chars36's test fonts) drifting across a coloured page and reads it
back with the shipped chars36 CNN.

The model is a torchvision ImageNet model by name (`--set model=resnet18`: needs the optional
`vision` extra and cached weights under TORCH_HOME) or a local file, `--set model=path.pt`:
a TorchScript archive (`torch.jit.save`), or a `torch.save`d dict with `state_dict` and `cnn`
(the keyword arguments of `nnlab.models.CNN`; optionally `mean` and `std`, the input
standardisation), loaded with weights_only; a run directory holding one (a `fine-tuning` run's
`checkpoints/model.pt`, an `ocr` run's `checkpoints/classifier.pt`); or a shipped classifier by
name, `--set model=chars36-cnn`. Images are fed to an nnlab CNN at its own input size, in grey
(luma) when it reads one channel. A TorchScript archive is
a program: loading and running it runs code its author wrote, so pass only files you would run
as a script; the state-dict form holds no code. Class names of a local
model come from `--set classes=FILE` (one per line), the file's `class_names`, or the sorted
sub-folder names of the source.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.errors import ConfigError, DataError
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run

TOP_SHOWN = 10
DEMO_GLYPHS = 6
LUMA = (0.299, 0.587, 0.114)  # grey = luma of the RGB frame (ITU-R BT.601), as Pillow's "L"
LOCAL_HINT = ", or pass a local model file: --set model=path.pt"


@dataclass
class Config(ExperimentConfig):
    model: str = param(
        "resnet18",
        help="torchvision model name, a local TorchScript/state-dict file (.pt), a fine-tuning "
        "or ocr run directory, or a shipped classifier (chars36-cnn)",
    )
    source: str = param("", help="folder of class sub-folders, folder of images, or a video file")
    label: str = param("", help="true class of every image/frame (videos, loose images)")
    classes: str = param("", help="text file of class names, one a line (local models)")
    image_size: int = param(
        224, low=1, high=1_024, help="images and frames are resized to this square"
    )
    normalize: Literal["auto", "imagenet", "none"] = param(
        "auto", help="auto: ImageNet mean/std for torchvision models, none for local files"
    )
    batch_size: int = param(32, low=1, high=1_000_000)
    max_frames: int = param(
        0, low=0, high=10_000_000, help="stop a video after this many frames (0: all)"
    )
    demo: bool = param(False, help="no source: a shapes folder and a small CNN, untrained")
    demo_video: bool = param(
        False,
        help="no source: write an mp4 of drifting characters of class `label` (default A) and "
        "classify its frames with chars36-cnn (or a local model); needs PyAV",
    )
    demo_frames: int = param(
        60, low=1, high=10_000, help="frames of the demo video (6 test-font glyphs in turn)"
    )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"demo": True, "image_size": 32, "batch_size": 16},
    "quick": {},
    "full": {"batch_size": 64},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data.imagefolder import class_index, make_shapes_folder, read_source
    from nnlab.models import CNN
    from nnlab.models.pretrained import (
        imagenet_model,
        imagenet_normalize,
        is_local_model,
        load_local_model,
    )
    from nnlab.training.classifier import topk_correct
    from nnlab.viz import count_bars, image_grid

    if not cfg.source and not cfg.demo and not cfg.demo_video:
        raise ConfigError(
            "pretrained-eval needs images: pass --set source=DIR (class sub-folders) or a video"
        )
    names: list[str] | None = None
    demo_model = False
    local = None
    label = cfg.label
    model_spec = cfg.model
    if cfg.demo_video and not cfg.source:
        from nnlab.data.video import require_av

        require_av("demo_video")
        label = label or "A"
        if not is_local_model(model_spec):
            model_spec = "chars36-cnn"
    if cfg.demo and not cfg.source and not cfg.demo_video:
        source = make_shapes_folder(run.dir / "demo_shapes", per_class=10, seed=run.seed)
        torchvision_name = None
    elif is_local_model(model_spec):
        torchvision_name = None
    else:
        torchvision_name = model_spec
    # the model first: a missing extra is reported before any image is read
    if cfg.demo and not cfg.source and not cfg.demo_video:
        torch.manual_seed(run.seed)
        model = CNN((3, cfg.image_size, cfg.image_size), 3, (8,), (3,), (16,))
        names, demo_model = ["circle", "square", "triangle"], True
        kind = "demo CNN (untrained)"
    elif torchvision_name is None:
        local = load_local_model(model_spec)
        model, names = local.model, local.class_names
        kind = f"local {local.source}"
    else:
        model, names = imagenet_model(torchvision_name, hint=LOCAL_HINT)
        kind = f"torchvision {torchvision_name}"
    if cfg.classes:
        path = Path(cfg.classes).expanduser()
        if not path.is_file():
            raise DataError(f"classes file {path} does not exist")
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if cfg.source:
        source = Path(cfg.source).expanduser()
    elif cfg.demo_video:
        from nnlab.data.video import chars36_glyphs, drifting_glyphs, write_video

        per_glyph = -(-cfg.demo_frames // DEMO_GLYPHS)
        glyphs = chars36_glyphs(label, DEMO_GLYPHS, seed=run.seed)
        frames = drifting_glyphs(glyphs, per_glyph, scale=2, seed=run.seed)[: cfg.demo_frames]
        source = write_video(run.dir / "demo_clip.mp4", frames)
    image_size = cfg.image_size
    if local is not None and local.input_shape is not None:  # an nnlab CNN: its input size
        channels, height, width = local.input_shape
        if height != width or channels not in (1, 3):
            raise ConfigError(
                f"{kind} takes {channels} x {height} x {width} inputs; pretrained-eval feeds "
                "square grey or RGB images"
            )
        image_size = height

    bar = run.bar(desc="reading images", unit="img")
    data = read_source(Path(source), image_size, bar, label or None, cfg.max_frames)
    bar.close()
    if names is None:
        if not data.folder_classes:
            raise ConfigError(
                "the local model has no class names: pass --set classes=FILE (one per line)"
            )
        names = data.folder_classes
    target = torch.as_tensor(class_index(data.truth, names))

    normalize = cfg.normalize
    if normalize == "auto":
        normalize = "imagenet" if torchvision_name else "none"
    x_all = torch.from_numpy(data.images).permute(0, 3, 1, 2).float().div_(255.0)
    if normalize == "imagenet":
        x_all = imagenet_normalize(x_all)
    if local is not None and local.input_shape is not None and local.input_shape[0] == 1:
        x_all = (x_all * torch.tensor(LUMA).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    if local is not None and local.mean is not None and normalize == "none":
        x_all = (x_all - local.mean) / local.std  # as the model's training data were

    model = model.to(run.device).eval()
    n = len(x_all)
    predicted = np.empty(n, dtype=np.int64)
    top1 = np.zeros(n, dtype=bool)
    top5 = np.zeros(n, dtype=bool)
    confidence = np.empty(n, dtype=np.float64)
    bar = run.bar(total=n, desc=f"evaluating {kind}", unit="img")
    with torch.no_grad():
        for step, start in enumerate(range(0, n, cfg.batch_size), 1):
            end = min(start + cfg.batch_size, n)
            logits = model(x_all[start:end].to(run.device)).float().cpu()
            if logits.ndim != 2 or logits.shape[1] != len(names):
                raise DataError(
                    f"the model gives outputs of shape {tuple(logits.shape)}, but there are "
                    f"{len(names)} class names"
                )
            probs = logits.softmax(dim=1)
            conf, pred = probs.max(dim=1)
            predicted[start:end] = pred.numpy()
            confidence[start:end] = conf.numpy()
            t = target[start:end]
            labelled = t >= 0
            top1[start:end] = (topk_correct(logits, t.clamp_min(0), 1) & labelled).numpy()
            top5[start:end] = (topk_correct(logits, t.clamp_min(0), 5) & labelled).numpy()
            seen = int((target[:end] >= 0).sum())
            metrics = {"images": float(end)}
            if seen:
                metrics |= {
                    "running_top1": float(top1[:end].sum() / seen),
                    "running_top5": float(top5[:end].sum() / seen),
                }
            run.log(step, **metrics)
            bar.update(end - start)
    bar.close()

    labelled = (target >= 0).numpy()
    n_labelled = int(labelled.sum())
    top1_acc = float(top1.sum() / n_labelled) if n_labelled else None
    top5_acc = float(top5.sum() / n_labelled) if n_labelled else None
    counts = collections.Counter(predicted.tolist()).most_common(TOP_SHOWN)
    frequent = [{"label": names[i], "count": c, "fraction": round(c / n, 6)} for i, c in counts]

    run.figure(
        "frequent_predictions",
        count_bars(
            [f["label"] for f in frequent],
            [f["count"] for f in frequent],
            xlabel=f"{data.kind} items predicted (of {n})",
            title=f"Most frequent top-1 predictions of {kind}",
        ),
        f"The {len(frequent)} most frequent top-1 labels over all {n} {data.kind} items.",
    )
    shown = np.linspace(0, n - 1, min(n, 16)).round().astype(int)
    titles = []
    for i in shown:
        mark = "" if target[i] < 0 else (" ✓" if top1[i] else (" (top5)" if top5[i] else " ✗"))
        titles.append(f"{names[predicted[i]][:14]} {confidence[i]:.2f}{mark}")
    run.figure(
        "sample_predictions",
        image_grid(data.images[shown], ncols=8, titles=titles, title=kind, normalize=None),
        "Evenly spaced images or frames with the top-1 label and its softmax probability; "
        "✓ top-1 correct, (top5) only top-5 correct, ✗ wrong.",
    )

    per_class: dict[str, float] = {}
    for c in sorted(set(target[labelled].tolist())):
        rows = target.numpy() == c
        per_class[names[c]] = round(float(top1[rows].mean()), 6)
    return {
        "model": kind,
        "demo_model": demo_model,
        "source": str(source),
        "source_kind": data.kind,
        "images": n,
        "labelled": n_labelled,
        "classes": len(names),
        "top1_accuracy": top1_acc,
        "top5_accuracy": top5_acc,
        "top1_correct": int(top1.sum()),
        "top5_correct": int(top5.sum()),
        "per_class_top1": per_class,
        "most_frequent_predictions": frequent,
        "mean_confidence": round(float(confidence.mean()), 6),
        "normalize": normalize,
        "image_size": image_size,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
