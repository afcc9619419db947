"""Figures of the OCR pipeline: a page with its numbered boxes and the characters read.

`annotate_page` draws with Pillow (no matplotlib: `nnlab ocr` stays quick); `page_figure`
wraps it in a titled matplotlib figure for a run; `confusion_figure` lists misreadings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from matplotlib.figure import Figure

READ = (220, 30, 30)  # boxes and characters the reader found
TRUE = (30, 150, 60)  # true boxes (generated pages)


def _label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from nnlab.data.chars36 import bundled_font_paths

    sans = [p for p in bundled_font_paths() if p.name == "DejaVuSans-Bold.ttf"]
    return ImageFont.truetype(str(sans[0]), size) if sans else ImageFont.load_default(size)


def annotate_page(
    image: np.ndarray,
    boxes: np.ndarray,
    chars: list[str],
    true_boxes: np.ndarray | None = None,
    numbers: bool = True,
) -> Image.Image:
    """The page (grey or RGB, float in [0, 1] or uint8) in RGB, lightened, with each box in
    red, its number (from 1, in reading order) above it and the character read below it;
    `true_boxes` (if given) in green underneath."""
    a = np.asarray(image)
    a = a.astype(np.float32) / 255 if a.dtype == np.uint8 else a.astype(np.float32)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    a = 0.45 + 0.55 * a[..., :3]  # lighter, so the drawing stands out
    out = Image.fromarray(np.clip(np.rint(a * 255), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(out)
    heights = boxes[:, 2] - boxes[:, 0] if len(boxes) else np.array([20])
    size = int(np.clip(np.median(heights) * 0.45, 9, 40))
    font, small = _label_font(size), _label_font(max(7, size * 2 // 3))
    if true_boxes is not None:
        for top, left, bottom, right in np.asarray(true_boxes).tolist():
            draw.rectangle((left - 1, top - 1, right, bottom), outline=TRUE, width=1)
    for i, ((top, left, bottom, right), char) in enumerate(
        zip(np.asarray(boxes).tolist(), chars, strict=True)
    ):
        draw.rectangle((left, top, right - 1, bottom - 1), outline=READ, width=2)
        draw.text((left, bottom + 1), char, font=font, fill=READ, anchor="lt")
        if numbers:
            draw.text((left, top - 1), str(i + 1), font=small, fill=(40, 40, 200), anchor="lb")
    return out


def page_figure(annotated: Image.Image, title: str) -> Figure:
    """A titled matplotlib figure of an annotated page (pixel axes)."""
    from matplotlib.figure import Figure

    w, h = annotated.size
    fig = Figure(figsize=(min(14, w / 90), min(14, w / 90) * h / w + 0.6))
    ax = fig.subplots()
    ax.imshow(np.asarray(annotated), interpolation="lanczos")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return fig
