"""Finding letters on a page and laying them out in lines and words (scikit-image, SciPy).

`find_letters(image)` follows the seed's `findLetters` (seed 004 Q4.2) with its assumptions
loosened:

1. grey (`skimage.color`), then the lighting flattened: the paper's brightness is estimated
   as a smooth maximum over blocks and divided out, so a page lit unevenly has one ink level;
2. a light Gaussian denoise, then ink by a local threshold (`ink_mask`): darker than the
   paper around it by a fraction of the nearby ink's contrast (or on the crest of a thin
   stroke, or, where strokes are thin, on a straight faint line) and by a few noise sigmas,
   with hysteresis, so hairline fonts survive and grain specks do not;
3. connected components (8-neighbourhood, `skimage.measure.label`) not touching the border
   (`skimage.segmentation.clear_border`: page edges and shadows);
4. no area threshold for the whole page: components are kept by their size relative to the
   line they sit in (below), so dots and commas survive as punctuation boxes while specks of
   noise between lines do not.

`layout(boxes, labels)` groups boxes into lines: "tall" boxes (at least 30% of the page's
tall letters' height) are linked when they overlap vertically by half the smaller height and
are horizontally near; each linked group is a line, so a slight skew (a line's letters drift
up or down, but neighbours still overlap) and lines of different sizes are handled. A
component over 1.8 times as tall as the letters of the group it links (a descender touching
the letter below joins two lines) is first cut between the lines it crosses. A
straight centre line is fitted through each line's boxes; small boxes join the line whose
band holds them, and are punctuation if they are at least a tenth of its height (else noise);
in a line, any box lower than 0.55 line heights is punctuation too (a comma can be tall
enough to link lines), since capitals and digits all stand the line's full height.
Pieces of one letter stacked above each other are merged. A component much wider than the
line's typical letter (over 1.6 times the median width, capped at 0.85 line heights, and
over 1.25 times the line height) is
cut into round(width / typical) letters at the columns of least ink near the even cuts.
Spaces come from the gaps of each line, measured along its slant (an italic's boxes overlap
where its letters lean into each other): a two-class split of the gaps (Otsu on 1-D) when
the classes are clearly apart (means 0.2 line heights apart or more; the threshold at least
0.25 line heights, and 0.36 beside a narrow letter such as a tabular "1", whose side
bearings are wide), else a gap is a space when it exceeds 0.45 line heights.

    boxes, binary = find_letters(image)          # (N, 4) top, left, bottom, right
    boxes, labels = label_letters(image)         # the same, with the label image
    lines = layout(boxes, labels)                # reading order, spaces, punctuation

Boxes are (top, left, bottom, right) with bottom and right exclusive, as
`skimage.measure.regionprops(...).bbox`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnlab.ocr.ink import flatten_lighting, ink_mask, to_grey

TALL = 0.3  # of the page's tall-letter height: lower boxes are "small" (punctuation, noise)
SMALL_KEPT = 0.1  # of the line height: smaller boxes are noise
SPLIT_WIDTH = 1.6  # times the line's median width ...
SPLIT_ASPECT = 1.25  # ... and times its height: a component wider than both is split
MARK = 0.55  # of the line height: lower boxes in a line are punctuation (capitals are full)
FRAGMENT_GAP = 0.1  # of the line height: marks closer than this may be pieces of a letter
COMMA_DROP = 0.58  # of the line height below its centre: a mark reaching lower is a comma
TYPICAL_MAX = 0.85  # of the line height: the widest a line's typical letter is taken to be
SPAN = 1.8  # times its line's median height: a taller box is letters of two lines touching
SPACE_FLOOR = 0.25  # of the line height: the least gap that is a space (0.36 lost most word
# spaces of a page Chromium set in Lato Italic; a tabular "1"'s bearings can exceed 0.25)
SLANTS = np.linspace(0.0, 0.4, 9)  # columns per row: the italic slants tried (0 to 22 degrees)
NARROW = 0.75  # of the line's typical letter width: a narrower letter is "narrow" (1, I, J)
NARROW_SPACE = 0.36  # of the line height: the least gap beside a narrow letter that is a space
SPACE_FALLBACK = 0.45  # of the line height: the space threshold when gaps are not bimodal


def find_letters(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) int64 (top, left, bottom, right) of the ink components of a page, in
    label order (not reading order: see `layout`), and the (H, W) bool ink image.

    Tiny specks (smaller than 1/400 of the page's tall-letter height squared, at least
    4 pixels) are dropped here; punctuation-sized marks are kept for `layout` to judge.
    """
    boxes, labels = label_letters(image)
    return boxes, labels > 0


def label_letters(
    image: np.ndarray, flat: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`find_letters`' boxes and the (H, W) int label image they come from: label i + 1 is
    the component of box i (0: paper). `flat`: the page from `flatten_lighting`, if known."""
    from scipy import ndimage
    from skimage.measure import label
    from skimage.segmentation import clear_border

    if flat is None:
        flat = flatten_lighting(to_grey(image))
    binary = clear_border(ink_mask(flat))
    labels = label(binary, connectivity=2)
    slices = ndimage.find_objects(labels)
    if not slices:
        return np.zeros((0, 4), np.int64), labels
    boxes = np.array([(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in slices], np.int64)
    area = np.bincount(labels.ravel())[1:]
    heights = boxes[:, 2] - boxes[:, 0]
    tall = _tall_height(heights)
    keep = area >= max(4, tall**2 / 400)
    renumber = np.zeros(len(boxes) + 1, labels.dtype)
    renumber[np.flatnonzero(keep) + 1] = np.arange(1, keep.sum() + 1)
    return boxes[keep], renumber[labels]


def _tall_height(heights: np.ndarray) -> float:
    """Typical height of the page's letters: the median of heights above half the 90th
    percentile (so punctuation and specks do not pull it down)."""
    if len(heights) == 0:
        return 0.0
    top = heights[heights >= 0.5 * np.percentile(heights, 90)]
    return float(np.median(top))


@dataclass
class Line:
    """One line of text in reading order: `boxes` (n, 4); `kind[i]` "letter" or the
    punctuation character ".", ",", "-", "'"; `space_before[i]` a word starts there;
    `members[i]` the component labels inside box i (several when pieces were merged);
    `cut[i]` the (left, right) columns a split piece keeps of its component; `piece_of[i]`
    the index into `wholes` of the component a split piece was cut from (-1: not cut), so a
    reader can cut it otherwise or keep it whole (`with_pieces`)."""

    boxes: np.ndarray
    kind: list[str]
    space_before: np.ndarray
    members: list[list[int]]
    height: float
    cut: list[tuple[int, int] | None] = field(default_factory=list)
    piece_of: list[int] = field(default_factory=list)
    wholes: list[np.ndarray] = field(default_factory=list)
    typical: float = 0.0  # the width of the line's typical letter

    def with_pieces(self, pieces: list[list[np.ndarray]]) -> Line:
        """This line with the pieces of each component `w` cut by `layout` replaced by the
        boxes `pieces[w]` (one box: the component read as one letter)."""
        out: dict[str, list] = {k: [] for k in ("boxes", "kind", "space", "members", "cut", "of")}
        done = set()
        for i, w in enumerate(self.piece_of):
            if w < 0:
                rows = [(self.boxes[i], self.kind[i], self.cut[i], w)]
            elif w in done:
                continue
            else:
                done.add(w)
                one = len(pieces[w]) == 1
                rows = [
                    (b, "letter", None if one else (int(b[1]), int(b[3])), -1 if one else w)
                    for b in pieces[w]
                ]
            for k, (box, kind, cut, of) in enumerate(rows):
                row = (box, kind, self.space_before[i] and k == 0, self.members[i], cut, of)
                for key, value in zip(out, row, strict=True):
                    out[key].append(value)
        return Line(
            np.array(out["boxes"], np.int64).reshape(-1, 4),
            out["kind"],
            np.array(out["space"], bool),
            out["members"],
            self.height,
            out["cut"],
            out["of"],
            self.wholes,
            self.typical,
        )


def _line_groups(boxes: np.ndarray) -> np.ndarray:
    """Connected groups of tall boxes that overlap vertically and are horizontally near."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    top, left, bottom, right = boxes.T
    h = bottom - top
    overlap = np.minimum(bottom[:, None], bottom[None]) - np.maximum(top[:, None], top[None])
    gap = np.maximum(left[:, None], left[None]) - np.minimum(right[:, None], right[None])
    linked = (overlap >= 0.5 * np.minimum(h[:, None], h[None])) & (
        gap <= 3 * np.maximum(h[:, None], h[None])
    )
    i, j = np.nonzero(linked)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(len(boxes), len(boxes)))
    return connected_components(graph, directed=False)[1]


def _space_threshold(gaps: np.ndarray, height: float) -> float:
    if len(gaps) >= 2:
        g = np.sort(gaps)
        # Otsu on 1-D: the split maximising the between-class variance
        k = np.arange(1, len(g))
        csum = np.cumsum(g)
        low, high = csum[:-1] / k, (csum[-1] - csum[:-1]) / (len(g) - k)
        between = k * (len(g) - k) * (high - low) ** 2
        best = int(np.argmax(between))
        if high[best] - low[best] >= 0.2 * height:
            return max(float(g[best] + g[best + 1]) / 2, SPACE_FLOOR * height)
    return SPACE_FALLBACK * height


def _split_columns(profile: np.ndarray, n: int) -> list[int]:
    """Cut columns of a component's ink profile into n pieces: near each even cut, the column
    with least ink (within a quarter of a piece)."""
    w = len(profile)
    cuts = []
    for k in range(1, n):
        ideal = k * w / n
        reach = w / (4 * n)
        lo, hi = max(1, int(ideal - reach)), min(w - 1, int(ideal + reach) + 1)
        if hi <= lo:  # a component too narrow to search in: cut evenly
            cuts.append(int(round(ideal)))
            continue
        window = profile[lo:hi]
        # among the least-inked columns, the one nearest the even cut
        candidates = np.flatnonzero(window <= window.min() + 0.5) + lo
        cuts.append(int(candidates[np.argmin(np.abs(candidates - ideal))]))
    return cuts


def split_component(box: np.ndarray, ink: np.ndarray, n: int) -> list[np.ndarray]:
    """The boxes (top, left, bottom, right) of the n pieces a component in `box` (its pixels
    `ink`, the box's shape) is cut into at `_split_columns`, each trimmed to its ink's rows;
    a piece without ink is left out."""
    profile = ink.sum(axis=0).astype(float)
    edges = [0, *_split_columns(profile, n), ink.shape[1]]
    pieces = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        rows = np.flatnonzero(ink[:, a:b].any(axis=1))
        if b > a and len(rows):
            pieces.append(
                np.array([box[0] + rows[0], box[1] + a, box[0] + rows[-1] + 1, box[1] + b])
            )
    return pieces


def _slanted_gaps(boxes: np.ndarray, members: list[list[int]], labels: np.ndarray) -> np.ndarray:
    """The gaps between neighbouring boxes measured along the line's slant: an italic's
    boxes overlap where its letters lean into each other, so their gaps are no measure of
    the white between letters. The slant (columns per row, 0 to 0.4) is the one that makes
    the letters' ink narrowest in all; gaps are then between the sheared ink extents."""
    if len(boxes) < 2:
        return np.zeros(0)
    rows, cols, sizes = [], [], []
    for (top, left, bottom, right), m in zip(boxes.tolist(), members, strict=True):
        r, c = np.nonzero(np.isin(labels[top:bottom, left:right], m))
        if len(r) == 0:  # no ink of its own (cannot happen for layout's boxes): its box
            r, c = np.array([0, bottom - top - 1]), np.array([0, right - left - 1])
        rows.append(r + top)
        cols.append(c + left)
        sizes.append(len(r))
    r, c = np.concatenate(rows).astype(float), np.concatenate(cols).astype(float)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    r -= np.median((boxes[:, 0] + boxes[:, 2]) / 2)
    best_width, extent = np.inf, None
    for slant in SLANTS:
        sheared = c + slant * r
        lo, hi = np.minimum.reduceat(sheared, starts), np.maximum.reduceat(sheared, starts)
        if (hi - lo).sum() < best_width:
            best_width, extent = (hi - lo).sum(), np.stack([lo, hi], axis=1)
    return extent[1:, 0] - extent[:-1, 1] - 1


def _punctuation(box: np.ndarray, centre: float, height: float) -> str:
    top, left, bottom, right = box
    h, w = bottom - top, right - left
    mid = (top + bottom) / 2
    if mid < centre - 0.25 * height:
        return "'"
    if mid < centre + 0.3 * height and w > 1.5 * h:
        return "-"
    return "," if h > 1.3 * w or bottom > centre + COMMA_DROP * height else "."


def layout(
    boxes: np.ndarray, labels: np.ndarray, *, split: bool = True, punctuation: bool = True
) -> list[Line]:
    """Lines (top to bottom) of boxes (left to right) from `find_letters` boxes and the label
    image they came from (label i + 1 is box i). `split=False` keeps touching letters as one
    box, `punctuation=False` drops small marks as noise (the seed's behaviour)."""
    if len(boxes) == 0:
        return []
    boxes, label_of = _cut_across_lines(boxes, labels)
    top, left, bottom, right = boxes.T.astype(np.float64)
    h = bottom - top
    tall = h >= TALL * _tall_height(boxes[:, 2] - boxes[:, 0])
    tall_ix = np.flatnonzero(tall)
    group = _line_groups(boxes[tall_ix])
    n_lines = group.max() + 1
    cx, cy = (left + right) / 2, (top + bottom) / 2
    fits, heights = _fit_lines(boxes, tall_ix, group)
    line_of = np.full(len(boxes), -1)
    line_of[tall_ix] = group
    small_ix = np.flatnonzero(~tall)
    if len(small_ix):
        centre = fits[:, 0][None] * cx[small_ix, None] + fits[:, 1][None]
        offset = (cy[small_ix, None] - centre) / heights[None]
        extent = np.array(
            [
                [left[tall_ix[group == g]].min(), right[tall_ix[group == g]].max()]
                for g in range(n_lines)
            ]
        )
        near = (cx[small_ix, None] > extent[None, :, 0] - 2 * heights[None]) & (
            cx[small_ix, None] < extent[None, :, 1] + 2 * heights[None]
        )
        inside = (offset > -0.8) & (offset < 0.9) & near
        best = np.argmin(np.where(inside, np.abs(offset), np.inf), axis=1)
        ok = inside[np.arange(len(small_ix)), best]
        big_enough = np.maximum(h[small_ix], (right - left)[small_ix]) >= (
            SMALL_KEPT * heights[best]
        )
        keep = ok & big_enough & punctuation
        line_of[small_ix[keep]] = best[keep]

    order = np.argsort(fits[:, 0] * np.median(cx) + fits[:, 1])
    lines = []
    for g in order:
        ix = np.flatnonzero(line_of == g)
        ix = ix[np.argsort(cx[ix], kind="stable")]
        lines.append(
            _make_line(boxes, label_of, ix, tall, fits[g], heights[g], labels, split, punctuation)
        )
    return lines


def _fit_lines(
    boxes: np.ndarray, tall_ix: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per line group of the tall boxes `tall_ix`: its height (`_tall_height` of its boxes:
    pieces of letters whose thin strokes broke do not pull it down) and its centre line
    (row = a * column + b, fitted through the centres of the boxes of about that height when
    there are 3 or more)."""
    top, left, bottom, right = boxes.T.astype(np.float64)
    cx, cy, h = (left + right) / 2, (top + bottom) / 2, bottom - top
    n_lines = int(group.max()) + 1 if len(group) else 0
    fits, heights = np.zeros((n_lines, 2)), np.zeros(n_lines)
    for g in range(n_lines):
        ix = tall_ix[group == g]
        heights[g] = _tall_height(h[ix])
        ix = ix[h[ix] >= 0.5 * np.percentile(h[ix], 90)]
        if len(ix) >= 3 and np.ptp(cx[ix]) > 0:
            fits[g] = np.polyfit(cx[ix], cy[ix], 1)
        else:
            fits[g] = (0.0, np.mean(cy[ix]))
    return fits, heights


def _cut_across_lines(boxes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes with each component that joins letters of two or more lines (a descender
    touching the line below) cut into one box per line, and the component label of every box
    (cut pieces share their component's).

    Such a component is much taller than the letters of the line group it links (`SPAN`
    times their `_tall_height`); without it the lines are grouped again, and where two or
    more of their centre lines cross it well inside (a quarter of a line height from its
    top and bottom), it is cut between each two, at the row of least ink nearest the middle
    of the gap between their bands."""
    label_of = np.arange(1, len(boxes) + 1)
    h = boxes[:, 2] - boxes[:, 0]
    tall_ix = np.flatnonzero(h >= TALL * _tall_height(h))
    if len(tall_ix) < 3:
        return boxes, label_of
    group = _line_groups(boxes[tall_ix])
    typical = np.array([_tall_height(h[tall_ix[group == g]]) for g in range(group.max() + 1)])
    spanning = h[tall_ix] > SPAN * typical[group]
    if not spanning.any() or spanning.all():
        return boxes, label_of
    rest = tall_ix[~spanning]
    rest_group = _line_groups(boxes[rest])
    fits, heights = _fit_lines(boxes, rest, rest_group)
    extent = np.array(
        [
            [boxes[rest[rest_group == g], 1].min(), boxes[rest[rest_group == g], 3].max()]
            for g in range(len(fits))
        ]
    )
    pieces, piece_labels, cut = [], [], []
    for i in tall_ix[spanning]:
        top, left, bottom, right = boxes[i].tolist()
        cx = (left + right) / 2
        centre = fits[:, 0] * cx + fits[:, 1]
        crossing = np.flatnonzero(
            (centre > top + 0.25 * heights)
            & (centre < bottom - 0.25 * heights)
            & (cx > extent[:, 0] - 2 * heights)
            & (cx < extent[:, 1] + 2 * heights)
        )
        if len(crossing) < 2:
            continue
        crossing = crossing[np.argsort(centre[crossing])]
        ink = labels[top:bottom, left:right] == i + 1
        profile = ink.sum(axis=1)
        edges = [0]
        for a, b in zip(crossing[:-1], crossing[1:], strict=True):
            lo, hi = int(centre[a] - top), int(np.ceil(centre[b] - top))
            gap = ((centre[a] + heights[a] / 2) + (centre[b] - heights[b] / 2)) / 2 - top
            window = profile[lo:hi]
            rows = np.flatnonzero(window <= window.min() + 0.5) + lo
            edges.append(int(rows[np.argmin(np.abs(rows - gap))]))
        edges.append(bottom - top)
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            r, c = np.flatnonzero(ink[a:b].any(axis=1)), np.flatnonzero(ink[a:b].any(axis=0))
            if len(r):
                pieces.append((top + a + r[0], left + c[0], top + a + r[-1] + 1, left + c[-1] + 1))
                piece_labels.append(i + 1)
        cut.append(i)
    if not cut:
        return boxes, label_of
    keep = np.setdiff1d(np.arange(len(boxes)), cut)
    boxes = np.concatenate([boxes[keep], np.array(pieces, np.int64).reshape(-1, 4)])
    return boxes, np.concatenate([label_of[keep], piece_labels]).astype(np.int64)


def _make_line(
    boxes: np.ndarray,
    label_of: np.ndarray,
    ix: np.ndarray,
    tall: np.ndarray,
    fit: np.ndarray,
    height: float,
    labels: np.ndarray,
    split: bool,
    punctuation: bool,
) -> Line:
    # merge pieces of one letter: boxes overlapping horizontally by 60% of the narrower
    # (stacked pieces), and marks that abut and together reach from the upper to the lower
    # quarter of the line's band (a letter's thin stroke broke into marks: punctuation sits
    # at the baseline or mid-height, never across the band)
    merged: list[list[int]] = []
    for i in ix.tolist():
        if merged:
            j = merged[-1]
            l0, r0 = boxes[j, 1].min(), boxes[j, 3].max()
            l1, r1 = boxes[i, 1], boxes[i, 3]
            if min(r0, r1) - max(l0, l1) >= 0.6 * min(r0 - l0, r1 - l1):
                j.append(i)
                continue
            t0, b0 = boxes[j, 0].min(), boxes[j, 2].max()
            t1, b1 = boxes[i, 0], boxes[i, 2]
            centre = fit[0] * (min(l0, l1) + max(r0, r1)) / 2 + fit[1]
            if (
                max(b0 - t0, b1 - t1) < MARK * height
                and l1 - r0 <= FRAGMENT_GAP * height
                and min(t0, t1) < centre - 0.25 * height
                and max(b0, b1) > centre + 0.25 * height
            ):
                j.append(i)
                continue
        merged.append([i])
    out_boxes, kinds, members, cuts, piece_of, wholes = [], [], [], [], [], []
    widths = np.array(
        [boxes[m, 3].max() - boxes[m, 1].min() for m in merged if tall[m].any()], float
    )
    # where most letters touch, their median width is that of pairs: cap it at the width of a
    # broad capital
    typical = min(float(np.median(widths)), TYPICAL_MAX * height) if len(widths) else height
    # capitals and digits are all about the line's height: anything much lower is a mark.
    # Judged on the merged pieces: a letter whose thin strokes broke (a hairline Z's bars) is
    # as tall as a letter even when none of its pieces is
    small = [boxes[m, 2].max() - boxes[m, 0].min() < MARK * height for m in merged]
    for m, is_mark in zip(merged, small, strict=True):
        box = np.array([boxes[m, 0].min(), boxes[m, 1].min(), boxes[m, 2].max(), boxes[m, 3].max()])
        width = box[3] - box[1]
        centre = fit[0] * (box[1] + box[3]) / 2 + fit[1]
        if is_mark and not punctuation:
            continue
        if is_mark:
            out_boxes.append(box)
            kinds.append(_punctuation(box, centre, height))
            members.append(m)
            cuts.append(None)
            piece_of.append(-1)
            continue
        if split and width > SPLIT_WIDTH * typical and width > SPLIT_ASPECT * height:
            n = max(2, round(width / typical))
            ink = np.isin(labels[box[0] : box[2], box[1] : box[3]], label_of[m])
            wholes.append(box)
            for piece in split_component(box, ink, n):
                out_boxes.append(piece)
                kinds.append("letter")
                members.append(m)
                cuts.append((int(piece[1]), int(piece[3])))
                piece_of.append(len(wholes) - 1)
            continue
        out_boxes.append(box)
        kinds.append("letter")
        members.append(m)
        cuts.append(None)
        piece_of.append(-1)
    b = np.array(out_boxes, np.int64).reshape(-1, 4)
    labels_of = [sorted({int(label_of[i]) for i in m}) for m in members]
    gaps = _slanted_gaps(b, labels_of, labels)
    space = np.zeros(len(b), bool)
    if len(gaps):
        # beside a narrow letter (a tabular "1" has wide side bearings) a gap must be wider
        narrow = (b[:, 3] - b[:, 1] < NARROW * typical) & (np.array(kinds) == "letter")
        threshold = _space_threshold(gaps.astype(float), height)
        beside_narrow = narrow[:-1] | narrow[1:]
        space[1:] = gaps > np.where(beside_narrow, max(threshold, NARROW_SPACE * height), threshold)
    return Line(b, kinds, space, labels_of, height, cuts, piece_of, wholes, typical)
