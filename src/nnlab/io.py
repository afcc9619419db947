"""Atomic file writes (a reader never sees a half-written file) and bounded image reads (an
image's size is checked from its header before any pixel is decoded)."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnlab.errors import DataError

if TYPE_CHECKING:
    from PIL import Image

# The largest image nnlab decodes: 64 million pixels (8000 x 8000; a 40-Mpx photographed page
# passes). Larger ones, and decompression bombs (a tiny file that claims a huge image), are
# refused before decoding. Pillow's own limit (89 Mpx with a warning, 179 Mpx an error) is
# looser, and its DecompressionBombError is not an OSError.
MAX_PIXELS = 64_000_000


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; set it straight back
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it over `path`; the file's
    mode follows the umask. On any error (a full disk) the temporary file is removed."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would make it (0644 under umask 022)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _too_large(path: Path, size: str) -> DataError:
    return DataError(
        f"{path} is {size}, over nnlab's limit of {MAX_PIXELS // 10**6} Mpx (nnlab.io.MAX_PIXELS): "
        "a decompression bomb, or a picture to downscale before reading it"
    )


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file lazily (only its header is read) and check its size against
    `MAX_PIXELS`; DataError (one line) for an unreadable file or one that is too large."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with warnings.catch_warnings():  # Pillow warns above 89 Mpx; ours is the lower limit
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError:
        raise _too_large(path, "an image of more than 179 Mpx") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(
            f"{path} is not an image Pillow can read ({type(exc).__name__}); pass a PNG, JPEG, "
            "TIFF, BMP or another Pillow format"
        ) from None
    width, height = im.size
    if width * height > MAX_PIXELS:
        im.close()
        raise _too_large(path, f"{width} x {height} pixels ({width * height / 1e6:.0f} Mpx)")
    return im


def read_image(path: str | os.PathLike, *, max_side: int | None = None) -> Image.Image:
    """Decode an image file (EXIF rotation applied) after `open_image`'s checks. With
    `max_side`, a larger image is downscaled on its 8-bit pixels, JPEG already while decoding,
    so that its longer side is at most `max_side`."""
    from PIL import ImageOps

    with open_image(path) as im:
        try:
            if max_side is not None:
                im.thumbnail((max_side, max_side))  # JPEG: draft() decodes at 1/2..1/8 scale
            out = ImageOps.exif_transpose(im)
            out.load()
        except (OSError, ValueError) as exc:  # a truncated or corrupt file
            raise DataError(
                f"{path} cannot be decoded ({type(exc).__name__}: {exc}); is the file complete?"
            ) from None
    return out
