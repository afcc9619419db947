"""Ink on a photographed page: grey, the lighting flattened, and a local threshold that keeps
hairline strokes and drops grain (steps 1 and 2 of `nnlab.ocr.letters.find_letters`).

    ink = ink_mask(flatten_lighting(to_grey(image)))
"""

from __future__ import annotations

import numpy as np

LOW_SIGMAS, HIGH_SIGMAS = 2.0, 5.0  # ink thresholds in paper-noise units (hysteresis)
INK_FRACTION = 0.3  # of the darkest ink nearby: lighter pixels are paper
CREST_SCALE = 1.0  # pixels: the Gaussian scale of the curvature that finds thin strokes
MIN_CONTRAST = 0.05  # a piece of ink is at least this much darker than its paper somewhere
LINE_LENGTH = 15  # pixels: the straight segments along which faint thin strokes are averaged
LINE_ANGLES = 12  # orientations of those segments, over 180 degrees
LINE_SIGMAS = 4.0  # the line evidence of a faint stroke, in units of its spread on paper
THIN_STROKE = 3.2  # pixels: the local stroke width below which that evidence is used


def to_grey(image: np.ndarray) -> np.ndarray:
    """(H, W) float64 in [0, 1] from grey, RGB or RGBA (uint8, uint16 or float) pixels."""
    from skimage import color, util

    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 4:
        a = color.rgba2rgb(a)  # alpha over white
    if a.ndim == 3 and a.shape[2] == 3:
        a = color.rgb2gray(a)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim != 2:
        raise ValueError(f"expected a grey or colour image, got an array of shape {a.shape}")
    return util.img_as_float64(a)


def flatten_lighting(grey: np.ndarray) -> np.ndarray:
    """`grey` divided by an estimate of the paper's brightness, clipped to [0, 1]: the
    maximum of blocks of ~1/60 of the page's shorter side, spread over 5x5 blocks (wider than
    a letter) and smoothed, then interpolated back to full size."""
    from scipy import ndimage
    from skimage.measure import block_reduce
    from skimage.transform import resize

    b = max(4, round(min(grey.shape) / 60))
    small = block_reduce(grey, (b, b), np.max)
    small = ndimage.gaussian_filter(ndimage.maximum_filter(small, 5), 1.5)
    paper = resize(small, grey.shape, order=1, mode="edge", anti_aliasing=False)
    return np.clip(grey / np.maximum(paper, 1e-3), 0, 1)


def ink_mask(flat: np.ndarray) -> np.ndarray:
    """Ink pixels of a flattened page, found against the paper around them.

    The page is lightly denoised (Gaussian, 0.7 px) and its darkness measured against the
    local paper level (the paper's brightness averaged over ~5 px, ink excluded), which
    removes the paper's coarse grain. With `sigma` the paper's remaining noise (median
    absolute deviation), a pixel is ink when it is darker than both `LOW_SIGMAS` sigma and
    `INK_FRACTION` of the darkest ink near it (a per-region threshold between paper and
    ink: bold strokes keep their width, hairlines are not lost under a page-wide level), in
    a connected piece that somewhere reaches `HIGH_SIGMAS` sigma (hysteresis: grain specks
    rarely do). The crest of a thin stroke (`_thin_crest`) darker than `LOW_SIGMAS` sigma is
    ink whatever the ink near it: the fraction keeps a bold stroke's blurred flank out, but a
    hairline font's diagonals are a fifth as dark as its stems beside them.
    """
    from scipy import ndimage

    smooth = ndimage.gaussian_filter(flat, 0.7)
    level = float(np.median(smooth))
    spread = 1.4826 * float(np.median(np.abs(smooth - level)))
    obvious = smooth < level - max(4 * spread, 0.08)
    paper = ~ndimage.binary_dilation(obvious, iterations=2)
    weight = ndimage.gaussian_filter(paper.astype(np.float32), 5)
    total = ndimage.gaussian_filter(np.where(paper, smooth, 0).astype(np.float32), 5)
    background = np.where(weight > 0.05, total / np.maximum(weight, 1e-3), level)
    dark = background - smooth
    on_paper = dark[paper]
    sigma = max(1.4826 * float(np.median(np.abs(on_paper - np.median(on_paper)))), 1e-3)
    if dark.max() < max(HIGH_SIGMAS * sigma, MIN_CONTRAST):  # a blank page
        return np.zeros(flat.shape, bool)
    near = ndimage.maximum_filter(dark, max(9, round(min(flat.shape) / 40)))
    candidate = dark > np.maximum(INK_FRACTION * near, LOW_SIGMAS * sigma)
    # the crest of a thin stroke is ink however dark the strokes near it: a halo lies on a
    # stroke's flank, never on a crest (hairline diagonals are far fainter than the stems
    # next to them)
    faint = dark > LOW_SIGMAS * sigma
    crest = _thin_crest(dark) & faint
    candidate |= crest
    thin = _thin_strokes(candidate)
    if thin.any():
        evidence = _line_evidence(background - flat)
        centre = float(np.median(evidence[paper]))
        spread = 1.4826 * float(np.median(np.abs(evidence[paper] - centre)))
        candidate |= thin & (evidence - centre > LINE_SIGMAS * spread) & (dark > 0.5 * sigma)
    pieces, n = ndimage.label(candidate, np.ones((3, 3), bool))
    strong = np.zeros(n + 1, bool)
    strong[pieces[dark > max(HIGH_SIGMAS * sigma, MIN_CONTRAST)]] = True
    strong[0] = False
    return strong[pieces]


def _thin_crest(dark: np.ndarray) -> np.ndarray:
    """Pixels on the crest of a thin dark line: the darkness curves down steeply across the
    line and at most half as much along it (the Hessian's eigenvalues at `CREST_SCALE`)."""
    from scipy import ndimage

    d = dark.astype(np.float32)
    rr = ndimage.gaussian_filter(d, CREST_SCALE, order=(2, 0))
    cc = ndimage.gaussian_filter(d, CREST_SCALE, order=(0, 2))
    rc = ndimage.gaussian_filter(d, CREST_SCALE, order=(1, 1))
    mean, spread = (rr + cc) / 2, np.sqrt(((rr - cc) / 2) ** 2 + rc**2)
    across, along = mean - spread, mean + spread  # across <= along
    return (across < 0) & (np.abs(along) < 0.5 * np.abs(across))


def _thin_strokes(ink: np.ndarray, window: int = 31) -> np.ndarray:
    """Where the ink's strokes are thinner than `THIN_STROKE` pixels: in a window of about a
    letter, twice the ink's area over its boundary length (a stroke of width w: w)."""
    from scipy import ndimage

    boundary = ink & ~ndimage.binary_erosion(ink)
    area = ndimage.uniform_filter(ink.astype(np.float32), window)
    edge = ndimage.uniform_filter(boundary.astype(np.float32), window)
    return 2 * area < THIN_STROKE * edge


def _line_evidence(dark: np.ndarray) -> np.ndarray:
    """How much darker a pixel's straight line is than the lines beside it: over
    `LINE_ANGLES` orientations, the lesser mean darkness of the two half-segments from the
    pixel (so the evidence does not reach past a stroke's end) minus the mean darkness of
    the whole segments 2 pixels to either side; the best orientation's value. The edge of a
    bold stroke gives some too (one side is ink): `ink_mask` uses it only where strokes are
    thin."""
    h, w = dark.shape
    half, side = LINE_LENGTH // 2, 2
    grow = side + 1  # the segment means are computed this much beyond the page, for the sides
    pad = half + grow
    padded = np.pad(dark.astype(np.float32), pad, mode="edge")
    big = (h + 2 * grow, w + 2 * grow)

    def shifted(dr: float, dc: float) -> np.ndarray:
        r, c = pad - grow + int(round(dr)), pad - grow + int(round(dc))
        return padded[r : r + big[0], c : c + big[1]]

    best = np.full((h, w), -np.inf, np.float32)
    inner = np.s_[grow : grow + h, grow : grow + w]
    for angle in np.arange(LINE_ANGLES) * np.pi / LINE_ANGLES:
        dr, dc = np.sin(angle), np.cos(angle)
        ahead, behind = np.zeros(big, np.float32), np.zeros(big, np.float32)
        for k in range(1, half + 1):
            ahead += shifted(k * dr, k * dc)
            behind += shifted(-k * dr, -k * dc)
        segment = (ahead + behind + shifted(0, 0)) / (2 * half + 1)
        line = np.minimum(ahead, behind)[inner] / half
        sr, sc = int(round(side * dc)), int(round(-side * dr))  # across the line
        left = segment[grow + sr : grow + sr + h, grow + sc : grow + sc + w]
        right = segment[grow - sr : grow - sr + h, grow - sc : grow - sc + w]
        np.maximum(best, line - (left + right) / 2, out=best)
    return best
