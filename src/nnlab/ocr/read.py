"""Reading a page: letters found and laid out (`nnlab.ocr.letters`), each cropped to look like
a chars36 image and classified, punctuation named by its shape, words and lines joined.

A crop matches chars36's look: the page inside the box with its lighting flattened, the ink
of other components that reach into it blanked (the letter's own mask is grown by one pixel
to keep its anti-aliased edge), ink stretched to 0 and paper (the median of the box's pixels
outside any component) to 1, padded to a square and resized so the longer side is 22 of 32
pixels (chars36 draws a glyph's longer side at 22 pixels, scaled 0.8-1.1), centred. Pixels
of no component are kept: a hairline font's faint stroke that `ink_mask` missed still
shows to the classifier.

Touching letters: `layout` cuts a component wide enough to be several letters into n pieces,
n its width over the line's typical letter's. Shape alone cannot tell a wide W or M from two
narrow letters touching, nor an "MY" from three letters, so the reader tries the component
whole (if at most `WHOLE_WIDTH` typical letters wide) and cut into n - 1, n and n + 1 pieces,
and keeps the reading the classifier finds most probable: the product of each piece's top
probability (`choose_pieces`), which also prefers fewer pieces when both read well.

Context (on by default): chars36 cannot tell O from 0 or I from 1 in many fonts, so each
word is read as letters or as a number, whichever holds more of the classifier's
probability over the word; a character whose best class is of the other kind takes the best
class of the word's kind unless the other kind's class is at least `OTHER_KIND_ODDS` times
more probable.

    reading = read_page(image, character_classifier())
    reading.text, reading.boxes, reading.chars
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlab.ocr.ink import flatten_lighting, to_grey
from nnlab.ocr.letters import Line, label_letters, layout, split_component

CROP = 32
GLYPH = 22  # chars36's longer glyph side in a 32x32 image at scale 1
OTHER_KIND_ODDS = 20.0
WHOLE_WIDTH = 1.9  # typical letters: a component wider than this is never one letter (the
# widest single letters measured, 44 pages: 1.85 for a bold serif M, 2.0 for a hairline W)


@dataclass
class Reading:
    """What was read: `text` (lines joined by "\\n", words by " "); per box in reading
    order `boxes` (N, 4) (top, left, bottom, right), `chars` and `confidence` (the
    classifier's probability; 1 for punctuation) and `line` (its line, from 0); the ink
    image `binary`."""

    text: str
    boxes: np.ndarray
    chars: list[str]
    confidence: np.ndarray
    line: np.ndarray
    binary: np.ndarray


def letter_crops(flat: np.ndarray, labels: np.ndarray, lines: list[Line]) -> np.ndarray:
    """(N, 32, 32) float32 crops, dark ink on white, of the letter boxes of `lines` in order
    (punctuation boxes are skipped)."""
    items = [
        (box, members)
        for line in lines
        for box, kind, members in zip(line.boxes, line.kind, line.members, strict=True)
        if kind == "letter"
    ]
    return box_crops(flat, labels, items)


def box_crops(
    flat: np.ndarray, labels: np.ndarray, items: list[tuple[np.ndarray, list[int]]]
) -> np.ndarray:
    """(N, 32, 32) crops of (box, component labels) pairs: the page in the box, other
    components blanked. Pixels of no component are kept: a hairline font's faint diagonal
    that `ink_mask` missed still shows to the classifier."""
    from PIL import Image
    from scipy import ndimage

    out = []
    grow = np.ones((3, 3), bool)
    for (top, left, bottom, right), members in items:
        region, inside = flat[top:bottom, left:right], labels[top:bottom, left:right]
        mine = ndimage.binary_dilation(np.isin(inside, members), grow)
        other = (inside > 0) & ~mine
        free = region[~mine & ~other]
        paper = float(np.median(free)) if free.size >= 10 else 1.0
        grey = np.where(other, paper, region)
        ink = grey.min()
        grey = np.clip((grey - ink) / max(paper - ink, 1e-3), 0, 1).astype(np.float32)
        h, w = grey.shape
        scale = GLYPH / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = np.asarray(Image.fromarray(grey, "F").resize(size, Image.Resampling.LANCZOS))
        crop = np.ones((CROP, CROP), np.float32)
        r, c = (CROP - size[1]) // 2, (CROP - size[0]) // 2
        crop[r : r + size[1], c : c + size[0]] = np.clip(small, 0, 1)
        out.append(crop)
    return np.stack(out) if out else np.zeros((0, CROP, CROP), np.float32)


def choose_pieces(
    flat: np.ndarray, labels: np.ndarray, lines: list[Line], classifier
) -> list[Line]:
    """Lines with each component `layout` cut into n pieces cut instead as the classifier
    reads most probably (see the module docstring)."""
    items, owner, options = [], [], []  # crops; (whole, option) of each crop; options per whole
    for li, line in enumerate(lines):
        for w, whole in enumerate(line.wholes):
            members = line.members[line.piece_of.index(w)]
            n = line.piece_of.count(w)
            top, left, bottom, right = whole.tolist()
            ink = np.isin(labels[top:bottom, left:right], members)
            counts = [k for k in (n - 1, n, n + 1) if k >= 2 and k * 4 <= right - left]
            if (right - left) <= WHOLE_WIDTH * line.typical:
                counts.insert(0, 1)
            whole_options = []
            for k in counts:
                boxes = [whole] if k == 1 else split_component(whole, ink, k)
                whole_options.append(boxes)
                for box in boxes:
                    items.append((box, members))
                    owner.append((len(options), len(whole_options) - 1))
            options.append((li, w, whole_options))
    if not items:
        return lines
    log_p = np.log(
        np.maximum(classifier.probabilities(box_crops(flat, labels, items)).max(1), 1e-12)
    )
    score: dict[tuple[int, int], float] = {}
    for key, value in zip(owner, log_p.tolist(), strict=True):
        score[key] = score.get(key, 0.0) + value
    chosen: list[list[list[np.ndarray]]] = [[] for _ in lines]
    for g, (li, _, whole_options) in enumerate(options):
        best = max(range(len(whole_options)), key=lambda o: score[(g, o)])
        chosen[li].append(whole_options[best])
    return [line.with_pieces(c) if c else line for line, c in zip(lines, chosen, strict=True)]


def _word_kind_choice(probabilities: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Class index per letter box, with the letters-or-number rule of the module docstring
    (classes 0-9 are digits, 10-35 letters, as in chars36)."""
    digit_mass = probabilities[:, :10].sum(axis=1)
    n_words = int(words.max()) + 1 if len(words) else 0
    word_digit = np.bincount(words, digit_mass, n_words) / np.maximum(np.bincount(words), 1)
    wants_digit = word_digit[words] > 0.5
    best_digit = probabilities[:, :10].argmax(axis=1)
    best_letter = probabilities[:, 10:].argmax(axis=1) + 10
    rows = np.arange(len(probabilities))
    p_digit, p_letter = probabilities[rows, best_digit], probabilities[rows, best_letter]
    same_kind = np.where(wants_digit, best_digit, best_letter)
    other_wins = np.where(
        wants_digit, p_letter > OTHER_KIND_ODDS * p_digit, p_digit > OTHER_KIND_ODDS * p_letter
    )
    return np.where(other_wins, np.where(wants_digit, best_letter, best_digit), same_kind)


def read_page(
    image: np.ndarray,
    classifier,
    *,
    split: bool = True,
    punctuation: bool = True,
    context: bool = True,
) -> Reading:
    """Read a page (grey or colour array). `classifier`: a `nnlab.ocr.classifier.Classifier`
    (anything with `probabilities(crops)` and `class_names`). `split`, `punctuation`: see
    `layout`; `context`: the letters-or-number rule."""
    flat = flatten_lighting(to_grey(image))
    boxes, labels = label_letters(image, flat)
    lines = layout(boxes, labels, split=split, punctuation=punctuation)
    if split:
        lines = choose_pieces(flat, labels, lines, classifier)
    if not lines:  # a blank page
        return Reading(
            "", np.zeros((0, 4), np.int64), [], np.zeros(0), np.zeros(0, int), labels > 0
        )
    probabilities = classifier.probabilities(letter_crops(flat, labels, lines))
    kinds = [k for line in lines for k in line.kind]
    is_letter = np.array([k == "letter" for k in kinds], bool)
    starts = np.concatenate(
        [line.space_before | (np.arange(len(line.kind)) == 0) for line in lines]
    )
    words = np.cumsum(starts)[is_letter] - 1 if len(kinds) else np.zeros(0, int)
    if context and len(probabilities):
        chosen = _word_kind_choice(probabilities, words)
    else:
        chosen = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, int)
    names = np.array(classifier.class_names)
    chars = np.array(kinds, dtype=object)
    chars[is_letter] = names[chosen]
    confidence = np.ones(len(kinds))
    confidence[is_letter] = probabilities[np.arange(len(chosen)), chosen]
    text_lines, k = [], 0
    for line in lines:
        parts = []
        for space in line.space_before:
            parts.append((" " if space else "") + chars[k])
            k += 1
        text_lines.append("".join(parts))
    all_boxes = np.concatenate([line.boxes for line in lines]) if lines else np.zeros((0, 4))
    line_ix = np.repeat(np.arange(len(lines)), [len(line.kind) for line in lines])
    return Reading(
        "\n".join(text_lines),
        all_boxes.astype(np.int64),
        [str(c) for c in chars],
        confidence,
        line_ix,
        labels > 0,
    )


# A page image is downscaled to this longer side (on its 8-bit pixels, JPEG while decoding)
# before any float work: an A4 page at 210 dpi fits, 10-point letters stay about 20 pixels
# tall, and a 40-Mpx photographed page is read in 0.74 GB peak instead of 4.5 GB.
PAGE_MAX_SIDE = 2500


def read_image_file(path: Path, classifier) -> tuple[Reading, np.ndarray]:
    """Read the page in an image file (anything Pillow opens: PNG, JPEG, ...; colour or
    grey; EXIF rotation applied; downscaled to `PAGE_MAX_SIDE`). Returns the reading and the
    page as an array. DataError (one line) for a missing, unreadable or too large
    (`nnlab.io.MAX_PIXELS`) file."""
    from nnlab.errors import DataError
    from nnlab.io import read_image

    path = Path(path)
    if not path.is_file():
        raise DataError(f"image {path} does not exist")
    with read_image(path, max_side=PAGE_MAX_SIDE) as im:
        page = np.asarray(im.convert("RGBA" if "A" in im.getbands() else "RGB"))
    return read_page(page, classifier), page
