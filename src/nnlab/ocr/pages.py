"""Generated "photographed" pages of text, with the true box and character of every letter.

A page is lines of words over chars36's alphabet (0-9, A-Z: chars36 has no lowercase) plus
the punctuation `PUNCTUATION` (". , -"), rendered in one font with a size drawn per line, then
rotated slightly, lit unevenly (a linear falloff and a vignette), printed on textured paper,
blurred and noised. The fonts are chars36's **test** fonts (`page_fonts()`): never among the
fonts its classifiers were trained on. Each character is drawn by nnlab at its font's advance
(plus `tracking`), so its box is known exactly: the ink box of the glyph at its position,
carried through the rotation. A negative `tracking` makes neighbouring letters touch.

    pages = generate_pages(4, seed=0)                   # 4 pages of about 200 characters
    page = pages[0]; page.image, page.text, page.boxes, page.chars

Everything depends only on the arguments and nnlab's bundled fonts, so pages are the same
on every machine; `pages_digest(pages)` names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from nnlab.data.chars36 import CLASS_NAMES, Font, _render, find_fonts, split_fonts
from nnlab.data.digest import array_digest

PUNCTUATION = ".,-"
LETTERS = "".join(CLASS_NAMES[10:])
DIGITS = "".join(CLASS_NAMES[:10])


@dataclass(frozen=True)
class PageStyle:
    """Ranges of the page's distortions; each page (or line, for `font_size`) draws its own."""

    font_size: tuple[int, int] = (34, 50)  # pixels per em, drawn per line
    rotation: float = 1.5  # degrees, in [-rotation, rotation]
    lighting: float = 0.35  # the darkest corner loses up to this fraction of the light
    texture: float = 0.05  # contrast of the paper's grain
    blur: float = 1.0  # Gaussian sigma in [0.3, blur] pixels
    noise: float = 0.03  # standard deviation of sensor noise, in [0, noise]
    tracking: float = 0.04  # extra space between letters, in em (negative: letters touch)
    ink: tuple[float, float] = (0.05, 0.3)  # reflectance of the ink (paper: 1)
    punctuation: float = 0.0  # chance that a word is followed by "," or "." (one "-" in 5)


@dataclass
class Page:
    """A rendered page: `image` (H, W) float32 in [0, 1]; `text` its lines joined by "\\n"
    and words by " "; one row of `boxes` (top, left, bottom, right; bottom and right
    exclusive) per character other than spaces, `chars[i]` its character, `line[i]` its line."""

    image: np.ndarray
    text: str
    boxes: np.ndarray
    chars: list[str]
    line: np.ndarray
    font: str


def page_fonts() -> list[Font]:
    """chars36's test fonts: none of them is ever used to train a chars36 classifier."""
    return split_fonts(find_fonts())["test"]


@lru_cache(maxsize=64)
def _has_punctuation(font: Font) -> bool:
    """Whether the font draws ". , -" as small marks (TeX math fonts put other glyphs there)."""
    pil = ImageFont.truetype(str(font.path), 60)
    cap = _render(pil, "H").shape[0]
    return all(0 < _render(pil, c).shape[0] < 0.45 * cap for c in PUNCTUATION)


def random_lines(
    rng: np.random.Generator, n_chars: int, width: int = 28, punctuation: float = 0.0
) -> list[str]:
    """Lines of about `width` characters holding about `n_chars` characters in all: words of
    2-8 letters, one word in six a number of 1-4 digits; after a word, with probability
    `punctuation`, a "," or "." (or, one time in five, a "-" joining it to the next word)."""
    words: list[str] = []
    total = 0
    while total < n_chars:
        if rng.random() < 1 / 6:
            word = "".join(rng.choice(list(DIGITS), rng.integers(1, 5)))
        else:
            word = "".join(rng.choice(list(LETTERS), rng.integers(2, 9)))
        if rng.random() < punctuation:
            word += "-" if rng.random() < 0.2 else str(rng.choice([",", "."]))
        words.append(word)
        total += len(word) + 1
    lines, current = [], ""
    for word in words:
        joined = word if not current else f"{current}{'' if current.endswith('-') else ' '}{word}"
        if current and len(joined) > width:
            lines.append(current)
            current = word
        else:
            current = joined
    lines.append(current)
    return lines


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    from scipy import ndimage

    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return field / max(float(field.std()), 1e-9)


def _ink_box(char: str, font: ImageFont.FreeTypeFont, x: float, base: float) -> np.ndarray:
    """(top, left, bottom, right) of the pixels `char` inks when drawn at (x, base) (anchor
    "ls"). Not `font.getbbox`: that box starts at the origin and reaches the advance, so it
    holds the side bearings (a hairline "I" is 2 of its 12 pixels wide). The glyph is drawn
    alone at the same fractional position, so its pixels are those it has on the page."""
    left, top, right, bottom = font.getbbox(char, anchor="ls")
    x0, y0 = int(x) + left - 2, int(base) + top - 2  # integer shifts keep the raster
    image = Image.new("L", (right - left + 6, bottom - top + 6))
    ImageDraw.Draw(image).text((x - x0, base - y0), char, font=font, fill=255, anchor="ls")
    ink = np.asarray(image) > 0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:  # nothing drawn: the layout box
        return np.array([base + top, x + left, base + bottom, x + right], float)
    return np.array([y0 + rows[0], x0 + cols[0], y0 + rows[-1] + 1, x0 + cols[-1] + 1], float)


def render_page(
    lines: list[str], font: Font, rng: np.random.Generator, style: PageStyle | None = None
) -> Page:
    """Render `lines` in `font` as a photographed page (see the module docstring)."""
    from scipy import ndimage

    style = style or PageStyle()
    sizes = rng.integers(style.font_size[0], style.font_size[1] + 1, len(lines))
    fonts = {int(s): ImageFont.truetype(str(font.path), int(s)) for s in set(sizes.tolist())}
    margin = int(style.font_size[1] * 1.5)
    # lay out: per character its origin (left, baseline) at its font's advance plus tracking
    placed: list[tuple[str, int, float, float]] = []  # char, size, x, baseline
    y, width = float(margin), 0.0
    for i, (text, size) in enumerate(zip(lines, sizes.tolist(), strict=True)):
        pil = fonts[size]
        ascent, descent = pil.getmetrics()
        y += ascent if i == 0 else 0
        space = max(pil.getlength(" "), 0.25 * size)  # TeX math fonts have no space
        x = float(margin)
        for char in text:
            if char == " ":
                x += space
                continue
            placed.append((char, size, x, y))
            x += pil.getlength(char) + style.tracking * size
        width = max(width, x)
        y += (ascent + descent) * rng.uniform(1.15, 1.45)
    w, h = int(width + margin), int(y + margin)
    canvas = Image.new("L", (w, h))
    draw = ImageDraw.Draw(canvas)
    boxes = np.zeros((len(placed), 4))
    for k, (char, size, x, base) in enumerate(placed):
        draw.text((x, base), char, font=fonts[size], fill=255, anchor="ls")
        boxes[k] = _ink_box(char, fonts[size], x, base)

    # rotate the ink about the centre; a box becomes the bounding box of its turned corners
    angle = rng.uniform(-style.rotation, style.rotation)
    ink = np.asarray(
        canvas.rotate(angle, resample=Image.Resampling.BICUBIC), np.float32
    ) / np.float32(255)
    theta = np.deg2rad(angle)  # PIL turns counter-clockwise on screen (y down)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    rows = boxes[:, [0, 0, 2, 2]] - cy
    cols = boxes[:, [1, 3, 1, 3]] - cx
    turned_c = cols * np.cos(theta) + rows * np.sin(theta) + cx
    turned_r = -cols * np.sin(theta) + rows * np.cos(theta) + cy
    true = np.stack([turned_r.min(1), turned_c.min(1), turned_r.max(1), turned_c.max(1)], axis=1)
    true = np.rint(true).astype(np.int64)

    # the photograph: light falling off across the sheet and towards the corners, paper grain
    rr, cc = np.mgrid[0:h, 0:w].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = ((cc / w - 0.5) * np.cos(direction) + (rr / h - 0.5) * np.sin(direction)) + 0.5
    vignette = ((cc / w - 0.5) ** 2 + (rr / h - 0.5) ** 2) * 2
    light = 1 - style.lighting * rng.uniform(0.3, 1) * np.clip(0.7 * ramp + 0.3 * vignette, 0, 1)
    grain = 1 + style.texture * (
        0.6 * _smooth_noise(rng, (h, w), 1.0) + 0.4 * _smooth_noise(rng, (h, w), 6.0)
    )
    reflectance = rng.uniform(*style.ink)
    image = light * grain * (1 - ink * (1 - reflectance))
    image = ndimage.gaussian_filter(image, rng.uniform(0.3, max(style.blur, 0.3)))
    image += rng.standard_normal(image.shape) * rng.uniform(0, style.noise)
    chars = [p[0] for p in placed]
    line = np.repeat(np.arange(len(lines)), [len(t.replace(" ", "")) for t in lines])
    return Page(
        np.clip(image, 0, 1).astype(np.float32), "\n".join(lines), true, chars, line, font.name
    )


def generate_pages(
    n: int,
    seed: int = 0,
    *,
    chars_per_page: int = 200,
    style: PageStyle | None = None,
    fonts: list[Font] | None = None,
) -> list[Page]:
    """`n` pages, the i-th in the i-th of `fonts` (default `page_fonts()`, cycled); pages
    with punctuation skip fonts that do not draw it."""
    style = style or PageStyle()
    fonts = fonts if fonts is not None else page_fonts()
    if style.punctuation > 0:
        fonts = [f for f in fonts if _has_punctuation(f)]
    rng = np.random.default_rng([seed, 13])
    pages = []
    for i in range(n):
        lines = random_lines(rng, chars_per_page, punctuation=style.punctuation)
        pages.append(render_page(lines, fonts[i % len(fonts)], rng, style))
    return pages


def page_arrays(pages: list[Page]) -> dict[str, np.ndarray]:
    """The pages' images (as 8-bit), boxes and texts by name, for a content digest."""
    arrays = {}
    for i, p in enumerate(pages):
        arrays[f"image{i}"] = np.rint(p.image * 255).astype(np.uint8)
        arrays[f"boxes{i}"] = p.boxes
        arrays[f"text{i}"] = np.frombuffer(p.text.encode(), np.uint8)
    return arrays


def pages_digest(pages: list[Page]) -> str:
    """SHA-256 of `page_arrays(pages)`."""
    return array_digest(page_arrays(pages))
