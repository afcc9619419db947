"""Image folders: a root whose sub-folders are the classes, loaded with Pillow (no torchvision).

`scan(root)` lists the image files and their labels (classes sorted by folder name),
`stratified_split` holds out the same fraction of every class, seeded, `load_images` decodes and
resizes to a fixed square size into a float32 (N, 3, S, S) tensor in [0, 1] (for training,
`nnlab.data.augment` flips and crops whole batches). `make_shapes_folder` draws a tiny synthetic
3-class folder (circles, squares, triangles) for demos and tests.

`read_source` reads whatever is to be classified -- a folder of class sub-folders, a folder of
loose images, one image, or a video (every frame, with PyAV or imageio) -- as uint8 frames with
their true label names, and `class_index` matches those names to a model's classes.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nnlab.errors import DataError, UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif", ".mpg", ".mpeg")


@dataclass(frozen=True)
class ImageFolder:
    """The files of a folder of class sub-folders: `paths[i]` has label `labels[i]`."""

    root: Path
    class_names: tuple[str, ...]
    paths: tuple[Path, ...]
    labels: np.ndarray


def is_image(path: Path) -> bool:
    return (
        path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")
    )


def scan(root: str | Path, min_classes: int = 1) -> ImageFolder:
    """Every image under `root/<class>/` (searched recursively), classes sorted by name."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist or is not a directory")
    names: list[str] = []
    paths: list[Path] = []
    labels: list[int] = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in sub.rglob("*") if is_image(p))
        if not files:
            continue
        names.append(sub.name)
        paths += files
        labels += [len(names) - 1] * len(files)
    if len(names) < min_classes:
        raise DataError(
            f"{root} has {len(names)} class sub-folder(s) with images; need at least "
            f"{min_classes} (lay it out as {root}/<class name>/<image files>)"
        )
    return ImageFolder(root, tuple(names), tuple(paths), np.asarray(labels, dtype=np.int64))


def stratified_split(
    labels: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices): round(val_fraction * n_c) of each class n_c held out
    (at least one when the class has two or more images), chosen with a seeded shuffle."""
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = int(round(val_fraction * len(idx)))
        if val_fraction > 0 and len(idx) >= 2:
            n_val = min(max(n_val, 1), len(idx) - 1)
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def load_image(path: Path, size: int) -> np.ndarray:
    """One image as (size, size, 3) uint8 RGB, resized (aspect ratio not kept). DataError for
    an unreadable image or one over `nnlab.io.MAX_PIXELS` (a decompression bomb)."""
    from PIL import Image

    from nnlab.io import read_image

    with read_image(path) as img:
        img = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(img, dtype=np.uint8)


def load_images(paths: tuple[Path, ...] | list[Path], size: int, progress=None) -> torch.Tensor:
    """Decode and resize every image: float32 (N, 3, size, size) in [0, 1]."""
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        out[i] = load_image(path, size)
        if progress is not None:
            progress.update(1)
    return torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255.0).contiguous()


def make_shapes_folder(
    root: str | Path, per_class: int = 30, size: int = 32, seed: int = 0
) -> Path:
    """Write `root/{circle,square,triangle}/NNN.png`: one filled shape per image, random size,
    place and colours on a noisy background. Returns `root`."""
    from PIL import Image, ImageDraw

    root = Path(root)
    rng = np.random.default_rng(seed)
    for name in ("circle", "square", "triangle"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            bg = rng.integers(0, 90, (size, size, 3), dtype=np.uint8)
            img = Image.fromarray(bg, "RGB")
            draw = ImageDraw.Draw(img)
            r = int(rng.integers(size // 5, size // 3 + 1))
            cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
            colour = tuple(int(v) for v in rng.integers(130, 256, 3))
            if name == "circle":
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
            elif name == "square":
                draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            img.save(root / name / f"{i:03d}.png")
    return root


# --------------------------------------------------------------------------- sources to classify


@dataclass
class Source:
    """Images to classify: uint8 (N, S, S, 3) frames, the true label name of each (None:
    unlabelled), what they came from ("folder", "images", "image" or "video") and, for a
    folder of class sub-folders, its class names."""

    images: np.ndarray
    truth: list[str | None]
    kind: str
    folder_classes: list[str]


def read_source(
    source: Path, size: int, progress, label: str | None = None, max_frames: int = 0
) -> Source:
    """The images of `source`, resized to `size` x `size`: a folder of class sub-folders (the
    folder names are the true labels), a folder of loose images, one image file or a video
    (see `read_video`). Loose images, single images and videos are all labelled `label`.
    `progress` is a tqdm-like bar (`reset`, `update`)."""
    if source.is_file():
        if source.suffix.lower() not in VIDEO_SUFFIXES:
            if is_image(source):
                return Source(load_image(source, size)[None], [label], "image", [])
            raise DataError(f"{source} is neither an image folder nor a video ({VIDEO_SUFFIXES})")
        return read_video(source, size, progress, label, max_frames)
    if not source.is_dir():
        raise DataError(f"source {source} does not exist")
    loose = sorted(p for p in source.iterdir() if is_image(p))
    has_classes = any(p.is_dir() and not p.name.startswith(".") for p in source.iterdir())
    if has_classes and not loose:
        folder = scan(source)
        paths = list(folder.paths)
        truth: list[str | None] = [folder.class_names[i] for i in folder.labels]
        classes = list(folder.class_names)
        kind = "folder"
    else:
        if not loose:
            raise DataError(f"{source} holds no images")
        paths, truth, classes, kind = loose, [label] * len(loose), [], "images"
    progress.reset(total=len(paths))
    frames = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        frames[i] = load_image(path, size)
        progress.update(1)
    return Source(frames, truth, kind, classes)


def read_video(
    path: Path, size: int, progress, label: str | None = None, max_frames: int = 0
) -> Source:
    """Every frame of a video (the first `max_frames` when non-zero), resized to `size` x
    `size`, all labelled `label`: read with PyAV (`nnlab.data.video.read_frames`, the `video`
    extra) when it is installed, else with imageio (GIFs; mp4 and similar need
    imageio-ffmpeg)."""
    if importlib.util.find_spec("av") is not None:
        from nnlab.data.video import read_frames

        frames = read_frames(path, size, max_frames, on_frame=lambda: progress.update(1))
        return Source(frames, [label] * len(frames), "video", [])
    try:
        import imageio.v3 as iio
    except ImportError:
        raise UserError("reading videos needs PyAV: pip install 'nnlab[video]'") from None
    from PIL import Image

    frames = []
    try:
        for frame in iio.imiter(path):
            rgb = Image.fromarray(np.asarray(frame)[..., :3] if frame.ndim == 3 else frame)
            rgb = rgb.convert("RGB").resize((size, size))
            frames.append(np.asarray(rgb, dtype=np.uint8))
            progress.update(1)
            if max_frames and len(frames) >= max_frames:
                break
    except Exception as exc:
        raise DataError(
            f"cannot read video {path} ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); "
            "for mp4 and similar install PyAV: pip install 'nnlab[video]'"
        ) from None
    if not frames:
        raise DataError(f"video {path} has no frames")
    return Source(np.stack(frames), [label] * len(frames), "video", [])


def class_index(truth: list[str | None], names: list[str]) -> np.ndarray:
    """Index of each true label among the model's class names (-1: unlabelled); a label
    matches a name case-insensitively (spaces and underscores alike) or is an index."""

    def key(s: str) -> str:
        return s.strip().lower().replace("_", " ")

    lookup = {key(n): i for i, n in enumerate(names)}
    out = np.full(len(truth), -1, dtype=np.int64)
    unknown = set()
    for i, t in enumerate(truth):
        if t is None:
            continue
        if key(t) in lookup:
            out[i] = lookup[key(t)]
        elif t.isdigit() and int(t) < len(names):
            out[i] = int(t)
        else:
            unknown.add(t)
    if unknown:
        raise DataError(
            f"label(s) {', '.join(sorted(unknown)[:5])} are not among the model's "
            f"{len(names)} classes (e.g. {', '.join(names[:3])}); name folders after classes"
        )
    return out
