"""Videos with PyAV (the optional `video` extra: ``pip install 'nnlab[video]'``): frames read with
bounded memory, written as mp4, and a clip nnlab draws itself to test readers and classifiers.

`read_frames` decodes a video's frames as RGB and resizes each to a square as soon as it is
decoded, so memory holds only the resized frames. A stream (or a frame) larger than
`nnlab.io.MAX_PIXELS` is refused before its pixels are decoded, at most `max_frames` frames are
read, and without a limit a video whose resized frames would pass `MAX_FRAME_BYTES` is an error
that says which `max_frames` would fit. A missing, corrupt or hostile file is a one-line
`DataError`.

`write_video` encodes (N, H, W, 3) uint8 RGB frames to an mp4 (MPEG-4 part 2, an encoder every
PyAV wheel has), atomically. `drifting_glyphs` draws the frames of a clip of known classes:
each glyph in turn, enlarged, drifting slowly across a coloured page.

    frames = drifting_glyphs(glyphs, frames_per_glyph=12, scale=2, seed=0)
    write_video("clip.mp4", frames, fps=12)
    read_frames(Path("clip.mp4"), size=32)          # (N, 32, 32, 3) uint8
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from nnlab.errors import DataError, UserError
from nnlab.io import MAX_PIXELS

#: The most memory the resized frames of one video may take when no frame limit is given.
MAX_FRAME_BYTES = 2 * 1024**3
#: Paper and ink of `drifting_glyphs` (RGB): dark blue ink on cream paper.
PAPER = (245, 238, 214)
INK = (25, 40, 120)


def require_av(what: str = "reading videos") -> ModuleType:
    """Import PyAV, or raise a one-line UserError saying how to install it."""
    try:
        import av
    except ImportError:
        raise UserError(
            f"{what} needs PyAV: pip install 'nnlab[video]' (or pip install av)"
        ) from None
    return av


def read_frames(
    path: Path,
    size: int,
    max_frames: int = 0,
    on_frame: Callable[[], None] | None = None,
) -> np.ndarray:
    """The frames of the first video stream of `path` as (N, size, size, 3) uint8 RGB, each
    resized (aspect ratio not kept) right after decoding; the first `max_frames` when non-zero.
    `on_frame()` is called after each frame (a progress bar). DataError (one line) for a file
    that is missing, corrupt, has no video stream or frames, or is too large (see the module
    docstring)."""
    from PIL import Image

    av = require_av()
    cap = max_frames or MAX_FRAME_BYTES // (size * size * 3)
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.video:
                raise DataError(f"{path} has no video stream")
            stream = container.streams.video[0]
            _check_pixels(path, stream.codec_context.width, stream.codec_context.height)
            for frame in container.decode(stream):
                _check_pixels(path, frame.width, frame.height)
                if len(frames) == cap:
                    if max_frames:
                        break
                    raise DataError(
                        f"{path} has more than {cap} frames, over {MAX_FRAME_BYTES >> 30} GiB at "
                        f"{size} x {size}: pass --set max_frames={cap} or fewer"
                    )
                image = frame.to_image().convert("RGB")  # rgb24: PIL's channel order
                frames.append(np.asarray(image.resize((size, size), Image.Resampling.BILINEAR)))
                if on_frame is not None:
                    on_frame()
    except DataError:
        raise
    except Exception as exc:  # av.error.* (corrupt data, unknown format), OSError, MemoryError
        first = (str(exc).splitlines() or [""])[0][:120]
        raise DataError(
            f"cannot read video {path} ({type(exc).__name__}: {first}); is it a complete video "
            "file?"
        ) from None
    if not frames:
        raise DataError(f"video {path} has no frames")
    return np.stack(frames)


def _check_pixels(path: Path, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise DataError(
            f"{path} has frames of {width} x {height} pixels, over nnlab's limit of "
            f"{MAX_PIXELS // 10**6} Mpx (nnlab.io.MAX_PIXELS)"
        )


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: int = 12) -> Path:
    """Encode (N, H, W, 3) uint8 RGB frames (H and W even) to an mp4 at `path` with MPEG-4
    part 2 at high quality, written to a temporary file and renamed; returns `path`."""
    av = require_av("writing videos")
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise ValueError(f"frames must be (N, H, W, 3) uint8 with N > 0, not {frames.shape}")
    if frames.shape[1] % 2 or frames.shape[2] % 2:
        raise ValueError(f"frame height and width must be even for yuv420p, not {frames.shape}")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".mp4")
    os.close(fd)
    try:
        with av.open(tmp, mode="w", format="mp4") as container:
            stream = container.add_stream("mpeg4", rate=fps)
            stream.height, stream.width = frames.shape[1:3]
            stream.pix_fmt = "yuv420p"
            stream.options = {"qscale": "2"}  # near-lossless: the test reads colours back
            stream.codec_context.thread_count = 1  # one thread: the same bytes every time
            for array in frames:
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def drifting_glyphs(
    glyphs: np.ndarray,
    frames_per_glyph: int = 12,
    scale: int = 2,
    drift: float = 2.0,
    seed: int = 0,
) -> np.ndarray:
    """Frames of a clip showing each of `glyphs` ((K, h, w) floats in [0, 1], dark ink 0 on
    white paper 1, as chars36 draws them) for `frames_per_glyph` frames: enlarged `scale` times
    (each pixel a scale x scale block), inked `INK` on `PAPER`, and moving along a straight
    line of up to `drift` glyph pixels from the centre (a random direction per glyph, seeded).
    Returns (K * frames_per_glyph, h * scale, w * scale, 3) uint8 RGB."""
    glyphs = np.asarray(glyphs, dtype=np.float64)
    rng = np.random.default_rng(seed)
    paper, ink = np.asarray(PAPER, float), np.asarray(INK, float)
    out = []
    for glyph in glyphs:
        big = np.kron(glyph, np.ones((scale, scale)))
        angle = rng.uniform(0, 2 * np.pi)
        direction = np.array([np.sin(angle), np.cos(angle)]) * drift * scale
        for t in np.linspace(-1.0, 1.0, frames_per_glyph):
            dy, dx = np.rint(t * direction).astype(int)
            moved = np.roll(np.pad(big, scale * int(np.ceil(drift)), constant_values=1.0),
                            (dy, dx), axis=(0, 1))  # fmt: skip
            pad = scale * int(np.ceil(drift))
            paperness = moved[pad : pad + big.shape[0], pad : pad + big.shape[1], None]
            out.append(np.rint(ink + paperness * (paper - ink)).astype(np.uint8))
    return np.stack(out)


def chars36_glyphs(char: str, count: int, seed: int = 0) -> np.ndarray:
    """`count` images of character `char` as chars36 draws them from its test fonts (fonts no
    nnlab classifier is trained on): (count, 32, 32) floats, dark ink 0 on white 1."""
    from nnlab.data.chars36 import CLASS_NAMES, find_fonts, render_fonts, split_fonts

    if char not in CLASS_NAMES:
        raise DataError(f"chars36 has no character {char!r}; choose one of 0-9, A-Z")
    fonts = split_fonts(find_fonts())["test"]
    rng = np.random.default_rng([seed, 9])
    x, y = render_fonts(fonts, max(1, -(-count // len(fonts))), rng)
    x = x[y == CLASS_NAMES.index(char)][:count]
    return 1.0 - x.astype(np.float64) / 255.0
