"""Check a saved figure by what it shows, not by its file size.

`check_figure(path, ...)` reads the PNG and asserts that

* it is at least `min_size` pixels (width, height);
* it is not blank: the luminance has a standard deviation well above 0, the commonest colour
  covers less than `max_background` of the image and there are at least `min_colours`
  distinct colours (a one-colour or almost-one-colour image fails);
* when `panels` is given, the number of framed panels (see below) is that number, or, for
  `panels=(rows, cols)`, that the frames form that grid;
* when `caption` is true (the default), `captions.json` beside the PNG (or `captions_json`)
  gives the file a non-empty caption; a string `caption` must also occur in it (ignoring
  case).

Panel counting (`count_panels`)
-------------------------------
The experiments draw matplotlib axes with their default spines: a black line, 0.8 pt wide,
snapped to the pixel grid, so every plot panel is the outline of a rectangle one or two
pixels thick whose four sides are unbroken dark lines. The counter

1. marks dark grey pixels (luminance < 0.35 and channels within 0.12 of each other, on the
   PNG composited over white): black spines, but not the dark blue of a confusion matrix or
   the dark red of a decision function that fills the axes up to its spines;
2. finds horizontal and vertical runs of dark pixels at least `min_side` long and merges
   runs of the same extent in adjacent rows (columns) into one line. A gap of up to 12 px
   with no background pixel (a marker drawn over a spine) is bridged if the run stays 90%
   dark; a white gap, as between two panels, never is. A line thicker than 4 px is a filled
   area, of which only the first and last rows are kept (a frame can run along the edge of
   a dark image);
3. pairs a top and a bottom line of (nearly) the same extent with a left and a right line
   joining their ends: a rectangle whose four sides are lines; it is dropped if it is more
   than 10 times longer than wide (a colorbar) or if its inside is mostly dark (the outline
   of a filled block, not a frame);
4. keeps only the rectangles that are not inside another one (a table's outline, not its
   cells; an axes split by a black `axhline` counts once; two axes that touch count once).

So it counts axes with visible spines whose sides are at least `min_side` pixels. It does
not count colorbars, axes drawn with `axis("off")` (image grids, tables drawn as text,
network diagrams) nor axes whose inside is mostly black. Use `panels=` only for figures
whose panels are framed axes; for the others check size, non-blankness and caption. The
counter gives the right count on every framed figure the smoke presets draw (checked by eye
when this was written) and tests/test_figcheck.py checks it on synthetic figures: grids,
shared axes, colorbars, legends, dark images, fills up to the spines, markers over the
spines, a black axhline, axes without frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

DARK = 0.35  # luminance below which a grey pixel is part of a line
GREY = 0.12  # max - min of the channels: spines are black, dark colour fills are not
GAP = 12  # px of a line that a marker (pixels darker than INK) may hide ...
COVER = 0.9  # ... as long as the line is still 90% visible
INK = 0.95  # luminance of the lightest pixel counted as drawn (not background)
MAX_THICK = 4  # px; a thicker "line" is a filled area
TOL = 8  # px; ends of lines meeting at a corner (tick marks can lengthen a spine by ~5 px)
MAX_ASPECT = 10  # a frame longer than 10 times its width is a colorbar, not a panel


@dataclass(frozen=True)
class FigureInfo:
    """What `check_figure` read: size (w, h), framed panels (x0, y0, x1, y1), caption."""

    path: Path
    size: tuple[int, int]
    frames: list[tuple[int, int, int, int]] = field(default_factory=list)
    caption: str | None = None


def read_rgb(path: str | Path) -> np.ndarray:
    """The PNG as a float array (h, w, 3) in [0, 1], transparency composited over white."""
    img = Image.open(path)
    img.load()
    rgba = img.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.float32) / 255


def luminance(rgb: np.ndarray) -> np.ndarray:
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def _runs(mask: np.ndarray, ink: np.ndarray, min_len: int) -> list[tuple[int, int, int]]:
    """(row, start, end) of every run of True in `mask` at least `min_len` long, end
    exclusive. A gap of up to GAP px that is all `ink` (a marker drawn over a spine, not the
    white between two panels) is bridged if the run stays COVER dark."""
    out = []
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    for row in np.flatnonzero(mask.sum(axis=1) >= COVER * min_len):
        edges = np.flatnonzero(np.diff(padded[row]))
        merged: list[list[int]] = []  # [start, end, dark pixels]
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            prev = merged[-1] if merged else None
            if prev and start - prev[1] <= GAP and ink[row, prev[1] : start].all():
                prev[1] = end
                prev[2] += end - start
            else:
                merged.append([start, end, end - start])
        for start, end, n in merged:
            if end - start >= min_len and n >= COVER * (end - start):
                out.append((int(row), int(start), int(end)))
    return out


def _lines(mask: np.ndarray, ink: np.ndarray, min_len: int) -> list[tuple[int, int, int]]:
    """Lines along axis 1 as (position, start, end): runs of the same extent in adjacent rows
    are one line (at their middle row); a group thicker than MAX_THICK is a filled area, whose
    first and last rows may be frames drawn along its edge."""
    groups: list[list[int]] = []  # [first_row, last_row, start, end]
    open_: list[list[int]] = []  # the groups that reached the previous row
    for row, start, end in _runs(mask, ink, min_len):
        if open_ and open_[0][1] < row - 1:
            open_ = [g for g in open_ if g[1] >= row - 1]
        for g in open_:
            if g[1] == row - 1 and abs(g[2] - start) <= 2 and abs(g[3] - end) <= 2:
                g[1] = row
                break
        else:
            groups.append([row, row, start, end])
            open_.append(groups[-1])
    out = []
    for a, b, s, e in groups:
        out += [((a + b) // 2, s, e)] if b - a + 1 <= MAX_THICK else [(a, s, e), (b, s, e)]
    return out


def find_frames(rgb: np.ndarray, min_side: int = 40) -> list[tuple[int, int, int, int]]:
    """Outermost rectangles drawn with dark lines, each side >= min_side px: (x0, y0, x1, y1),
    sorted top to bottom, then left to right."""
    lum = luminance(rgb)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    dark = (lum < DARK) & (chroma < GREY)
    ink = lum < INK
    hlines = _lines(dark, ink, min_side)  # (y, x0, x1)
    vlines = _lines(dark.T, ink.T, min_side)  # (x, y0, y1)

    def vertical_at(x: int, top: int, bottom: int) -> bool:
        return any(
            abs(vx - x) <= TOL and vy0 <= top + TOL and vy1 >= bottom - TOL
            for vx, vy0, vy1 in vlines
        )

    rects = set()
    for i, (ty, tx0, tx1) in enumerate(hlines):
        for by, bx0, bx1 in hlines[i + 1 :]:
            if by - ty < min_side or abs(tx0 - bx0) > TOL or abs(tx1 - bx1) > TOL:
                continue
            x0, x1 = max(tx0, bx0), min(tx1, bx1) - 1
            w, h = x1 - x0, by - ty
            if max(w, h) > MAX_ASPECT * min(w, h):
                continue  # a colorbar
            if not (vertical_at(x0, ty, by) and vertical_at(x1, ty, by)):
                continue
            m = MAX_THICK + 1
            if dark[ty + m : by - m, x0 + m : x1 - m].mean() > 0.5:
                continue  # the outline of a dark block, not a frame
            rects.add((x0, ty, x1, by))

    def inside(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
        return (
            a != b
            and a[0] >= b[0] - 2
            and a[1] >= b[1] - 2
            and a[2] <= b[2] + 2
            and a[3] <= b[3] + 2
        )

    outer = [r for r in rects if not any(inside(r, o) for o in rects)]
    return sorted(outer, key=lambda r: (r[1], r[0]))


def count_panels(path: str | Path, min_side: int = 40) -> int:
    """Number of framed axes in the PNG (see the module docstring)."""
    return len(find_frames(read_rgb(path), min_side))


def _clusters(values: list[int], tol: int = TOL) -> int:
    """How many groups `values` fall into when values within `tol` of a neighbour join."""
    values = sorted(values)
    return len(values[:1]) + sum(b - a > tol for a, b in zip(values, values[1:], strict=False))


def read_caption(path: Path, captions_json: Path | None = None) -> str | None:
    """The caption of `path` in `captions_json` (default: captions.json beside it), if any."""
    captions_json = captions_json or path.parent / "captions.json"
    if not captions_json.is_file():
        return None
    captions = json.loads(captions_json.read_text(encoding="utf-8"))
    value = captions.get(path.name, captions.get(path.stem))
    return value if isinstance(value, str) else None


def check_figure(
    path: str | Path,
    *,
    min_size: tuple[int, int] = (200, 150),
    panels: int | tuple[int, int] | None = None,
    caption: bool | str = True,
    captions_json: str | Path | None = None,
    min_std: float = 0.05,
    max_background: float = 0.98,
    min_colours: int = 8,
    min_side: int = 40,
) -> FigureInfo:
    """Assert what can be asserted of the PNG at `path` (see the module docstring) and
    return what was read."""
    path = Path(path)
    assert path.is_file(), f"{path}: no such figure"
    rgb = read_rgb(path)
    h, w = rgb.shape[:2]
    assert w >= min_size[0] and h >= min_size[1], f"{path.name}: {w}x{h} px < {min_size}"

    lum = luminance(rgb)
    std = float(lum.std())
    assert std >= min_std, f"{path.name}: blank (luminance std {std:.4f} < {min_std})"
    codes = np.round(rgb * 255).astype(np.int64) @ np.array([1 << 16, 1 << 8, 1])
    _, counts = np.unique(codes, return_counts=True)
    share = counts.max() / codes.size
    assert share <= max_background, (
        f"{path.name}: almost blank ({share:.1%} of the pixels are one colour)"
    )
    assert len(counts) >= min_colours, f"{path.name}: only {len(counts)} colours"

    frames = find_frames(rgb, min_side) if panels is not None else []
    if isinstance(panels, int):
        assert len(frames) == panels, f"{path.name}: {len(frames)} framed panels, not {panels}"
    elif panels is not None:
        rows, cols = panels
        found = (_clusters([f[1] for f in frames]), _clusters([f[0] for f in frames]))
        assert len(frames) == rows * cols and found == (rows, cols), (
            f"{path.name}: {len(frames)} framed panels in {found[0]} rows and {found[1]} "
            f"columns, not a {rows} x {cols} grid"
        )

    text = read_caption(path, Path(captions_json) if captions_json else None)
    if caption:
        assert text and text.strip(), f"{path.name}: no caption in captions.json"
        if isinstance(caption, str):
            lacks = f"{path.name}: caption {text!r} lacks {caption!r}"
            assert caption.lower() in text.lower(), lacks
    return FigureInfo(path=path, size=(w, h), frames=frames, caption=text)
