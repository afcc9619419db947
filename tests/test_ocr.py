"""nnlab.ocr: letters found, laid out and read on generated pages; `nnlab ocr`'s bad input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from nnlab.cli import main
from nnlab.ocr import PageStyle, character_classifier, label_letters, layout, page_fonts, read_page
from nnlab.ocr.pages import render_page
from nnlab.ocr.score import character_accuracy, edit_distance, iou_matrix, match_boxes

CLEAN = PageStyle(rotation=0.0, lighting=0.2, blur=0.6, noise=0.01)


@pytest.fixture(scope="module")
def font():
    return next(f for f in page_fonts() if f.name == "DejaVu Sans Oblique")


@pytest.fixture(scope="session")
def small_classifier():
    """The smoke recipe's classifier (shipped with nnlab)."""
    return character_classifier("chars36-cnn-small")


def _lines(page):
    boxes, labels = label_letters(page.image)
    return boxes, labels, layout(boxes, labels)


@pytest.mark.parametrize(
    "style",
    [CLEAN, PageStyle(rotation=2.0), PageStyle(font_size=(22, 60), lighting=0.5)],
    ids=["clean", "skewed 2 degrees", "mixed sizes, uneven light"],
)
def test_find_letters_gives_every_box_in_lines_in_order_with_spaces(style, font):
    text = ["THE 42 QUICK FOXES", "JUMP OVER 7 LAZY", "DOGS AT 1900 HOURS"]
    page = render_page(text, font, np.random.default_rng(3), style)
    _, _, lines = _lines(page)
    assert len(lines) == len(text)
    for line, truth in zip(lines, text, strict=True):
        assert len(line.boxes) == len(truth.replace(" ", ""))
        assert np.all(np.diff(line.boxes[:, 1]) > 0), "boxes must go left to right"
        words = np.cumsum(line.space_before)  # word index of every box
        assert words[-1] == truth.count(" ")
        assert np.array_equal(np.bincount(words), [len(w) for w in truth.split()])
    found = np.concatenate([line.boxes for line in lines])
    assert len(match_boxes(page.boxes, found)) == len(page.boxes)  # recall 1 at IoU 0.5


def test_a_letter_touching_the_line_below_is_cut_between_the_lines(font):
    """A descender touching the letter below makes one component of two lines' letters: the
    lines stay apart and the component is cut into one box per line."""
    text = ["HELLO WORLD", "THERE 42 AT"]
    page = render_page(text, font, np.random.default_rng(5), CLEAN)
    image = page.image.copy()
    upper = np.flatnonzero(page.line == 0)[2]  # the first L
    below = np.flatnonzero(page.line == 1)
    overlap = np.minimum(page.boxes[below, 3], page.boxes[upper, 3]) - np.maximum(
        page.boxes[below, 1], page.boxes[upper, 1]
    )
    lower = below[np.argmax(overlap)]
    col = (
        max(page.boxes[upper, 1], page.boxes[lower, 1])
        + min(page.boxes[upper, 3], page.boxes[lower, 3])
    ) // 2
    image[page.boxes[upper, 2] - 3 : page.boxes[lower, 0] + 3, col - 1 : col + 2] = image.min()
    boxes, labels = label_letters(image)
    assert len(boxes) == len(page.boxes) - 1, "the bar must join two letters to test"
    lines = layout(boxes, labels)
    assert [len(line.boxes) for line in lines] == [len(t.replace(" ", "")) for t in text]
    found = np.concatenate([line.boxes for line in lines])
    assert len(match_boxes(page.boxes, found)) == len(page.boxes)


def test_a_hairline_beside_a_bold_stem_is_ink_and_the_stem_does_not_grow():
    """A thin stroke a quarter as dark as the stem 5 pixels away (a hairline font's diagonal
    beside its stem) is ink, though below the fraction of nearby ink that keeps a bold
    stroke's blurred halo out; that halo stays out (the stem is as wide as a lone one)."""
    from scipy import ndimage

    from nnlab.ocr.ink import flatten_lighting, ink_mask

    ink = np.zeros((600, 600))
    ink[250:310, 200:204] = 0.85  # a bold stem
    ink[250:310, 209] = 0.2  # a hairline beside it
    ink[250:310, 300:304] = 0.85  # a bold stem alone
    grain = ndimage.gaussian_filter(np.random.default_rng(0).standard_normal(ink.shape), 0.7)
    mask = ink_mask(
        flatten_lighting(ndimage.gaussian_filter(0.92 * (1 - ink), 0.8) + 0.025 * grain)
    )
    assert mask[250:310, 208:211].any(axis=1).all(), "the hairline is found along its length"
    assert not mask[250:310, 205:208].all(axis=1).any(), "the gap to the stem stays paper"
    assert mask[280, 195:207].sum() == mask[280, 295:307].sum() <= 4 + 2


def _faint_n(diagonal: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A hairline N (1-pixel stems, darkness 0.3) whose diagonal is `diagonal` dark, on
    grainy paper; and the diagonal's pixel rows and columns."""
    from scipy import ndimage

    ink = np.zeros((400, 400))
    ink[180:220, 180] = ink[180:220, 204] = 0.3
    rows = np.arange(182, 218)
    cols = np.rint(181 + (rows - 182) * 22 / 36).astype(int)
    ink[rows, cols] = diagonal
    grain = ndimage.gaussian_filter(rng.standard_normal(ink.shape), 0.7)
    page = ndimage.gaussian_filter(0.92 * (1 - ink), 0.8) + 0.02 * grain
    return np.clip(page, 0, 1), np.stack([rows, cols])


def test_a_diagonal_as_faint_as_the_grain_is_found_along_its_line(monkeypatch):
    """A hairline N's diagonal, each pixel of it barely darker than the grain, is ink by the
    line evidence (without it, most of the diagonal is lost); the letter is one component."""
    from nnlab.ocr import ink as letters
    from nnlab.ocr.ink import flatten_lighting, ink_mask

    page, (rows, cols) = _faint_n(0.1, np.random.default_rng(1))
    flat = flatten_lighting(page)

    def found(mask):  # the diagonal's rows with ink within a pixel of the line
        return np.mean([mask[r, c - 1 : c + 2].any() for r, c in zip(rows, cols, strict=True)])

    with_lines = ink_mask(flat)
    boxes, _ = label_letters(page)
    monkeypatch.setattr(letters, "LINE_SIGMAS", np.inf)
    without = ink_mask(flat)
    assert found(with_lines) >= 0.9 > 0.5 > found(without)
    assert len(boxes) == 1 and boxes[0, 1] in (178, 179, 180) and boxes[0, 3] in (205, 206, 207)


def test_line_evidence_stays_off_bold_strokes_and_the_gaps_between_them():
    """Bold letters 3 pixels apart with collinear bars stay apart (a line through the gap
    is not a faint stroke where strokes are thick), and their stems do not grow."""
    from scipy import ndimage

    from nnlab.ocr.ink import flatten_lighting, ink_mask

    ink = np.zeros((300, 300))
    ink[130:170, 100:106] = ink[130:136, 100:130] = 0.85  # a bold F-like letter ...
    ink[130:170, 133:139] = ink[130:136, 133:160] = 0.85  # ... 3 px from the next
    grain = ndimage.gaussian_filter(np.random.default_rng(0).standard_normal(ink.shape), 0.7)
    page = ndimage.gaussian_filter(0.92 * (1 - ink), 0.9) + 0.02 * grain
    mask = ink_mask(flatten_lighting(page))
    assert ndimage.label(mask, np.ones((3, 3)))[1] == 2
    assert mask[150, 95:112].sum() <= 6 + 2


def _broken_letters_line(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A line of 36-pixel block letters, several broken as a hairline font's thin strokes
    break: in two stacked halves, a Y as an arm and a stem side by side (each shorter than
    a mark), a Z as three small pieces; and one wide letter. Returns the page and its boxes."""
    from scipy import ndimage

    ink, truth, left, top, bottom = np.zeros((600, 600)), [], 40, 300, 336
    for kind in ["whole", "halves", "whole", "Y", "wide", "halves", "Z", "whole", "halves"]:
        right = left + (30 if kind == "wide" else 18)
        if kind in ("whole", "wide"):
            ink[top:bottom, left:right] = 0.8
        elif kind == "halves":
            ink[top : top + 16, left:right] = ink[bottom - 16 : bottom, left:right] = 0.8
        elif kind == "Y":
            ink[top : top + 17, left : left + 9] = ink[bottom - 17 : bottom, left + 9 : right] = 0.8
        else:
            ink[top : top + 8, left:right] = ink[bottom - 8 : bottom, left:right] = 0.8
            ink[top + 14 : top + 22, left + 6 : left + 12] = 0.8
        truth.append((top, left, bottom, right))
        left = right + 8
    image = ndimage.gaussian_filter(0.92 * (1 - ink), 0.7) + 0.005 * rng.standard_normal(ink.shape)
    return np.clip(image, 0, 1), np.array(truth)


def test_letters_broken_into_pieces_are_put_back_together():
    """Pieces of broken letters are one letter box each, not punctuation: stacked pieces,
    abutting marks that together span the line's band, and pieces that are each too small
    to count as tall; the line's height is its whole letters' (the pieces would halve it,
    and the wide letter would then be cut as two touching ones)."""
    image, truth = _broken_letters_line(np.random.default_rng(0))
    boxes, labels = label_letters(image)
    assert len(boxes) == len(truth) + 6, "the letters must be broken to test"
    [line] = layout(boxes, labels)
    assert line.kind == ["letter"] * len(truth)
    assert line.height == 36
    assert len(match_boxes(truth, line.boxes, 0.8)) == len(truth)


def test_gaps_are_measured_along_an_italic_slant():
    """Letters 40 pixels tall leaning 12 degrees, 3 pixels of white apart along the slant,
    have boxes that overlap by 5; a word space of 14 pixels is a gap of 6 between boxes, less
    than the 10 (a quarter of the height) a space needs. Along the slant the gaps are 3 and
    14, and the space is found."""
    from scipy import ndimage

    ink = np.zeros((200, 400))
    slant = np.tan(np.deg2rad(12))
    lefts = [40, 71, 102, 144, 175]  # letter lefts at the middle row: 28 pixels wide
    for left in lefts:
        for r in range(80, 120):
            c = int(round(left - slant * (r - 100)))
            ink[r, c : c + 28] = 0.85 if r < 86 or r > 113 else 0
            ink[r, c : c + 6] = ink[r, c + 22 : c + 28] = 0.85  # an O-like letter
    page = np.clip(ndimage.gaussian_filter(0.92 * (1 - ink), 0.6), 0, 1)
    boxes, labels = label_letters(page)
    [line] = layout(boxes, labels)
    box_gaps = line.boxes[1:, 1] - line.boxes[:-1, 3]
    assert box_gaps.tolist() == [-5, -5, 6, -5], "boxes overlap; the space is 6 between boxes"
    assert line.space_before.astype(int).tolist() == [0, 0, 0, 1, 0]


def test_touching_letters_are_split_into_as_many_boxes(font):
    text = ["MANNHEIM", "WANDERUNG"]
    page = render_page(text, font, np.random.default_rng(0), PageStyle(tracking=-0.12, rotation=0))
    boxes, labels, lines = _lines(page)
    letters = sum(len(t) for t in text)
    assert len(boxes) <= letters - 4, "the page must have touching letters to test"
    split_boxes = np.concatenate([line.boxes for line in lines])
    whole = np.concatenate([line.boxes for line in layout(boxes, labels, split=False)])
    assert len(whole) == len(boxes)
    assert len(split_boxes) == letters
    assert len(match_boxes(page.boxes, split_boxes)) >= letters - 2
    assert len(match_boxes(page.boxes, whole)) <= letters - 4


def test_the_reader_cuts_a_component_as_the_classifier_reads_it_best(monkeypatch):
    """Where touching letters of unequal width make `layout`'s count wrong (MY WAY as six
    letters), the reader tries the component whole and in n - 1, n, n + 1 pieces and keeps
    the most probable reading. The stand-in classifier is sure only of crops whose box is a
    true letter's box, so the right cut is the one it must pick; a classifier sure of every
    crop makes it keep the fewest pieces."""
    import itertools

    from nnlab.ocr import read
    from nnlab.ocr.ink import flatten_lighting

    stix = next(f for f in page_fonts() if f.name == "STIXGeneral Bold")
    page = render_page(["MY WAY"], stix, np.random.default_rng(0), PageStyle(tracking=-0.08))
    flat = flatten_lighting(page.image)
    boxes, labels = label_letters(page.image)
    lines = layout(boxes, labels)

    def right(found_lines) -> bool:
        found = np.concatenate([line.boxes for line in found_lines])
        return len(found) == len(page.boxes) == len(match_boxes(page.boxes, found, 0.75))

    [cut_line] = lines
    cut = [
        [cut_line.boxes[i] for i, g in enumerate(cut_line.piece_of) if g == w]
        for w in range(len(cut_line.wholes))
    ]
    for whole in itertools.product([False, True], repeat=len(cut_line.wholes)):
        pieces = [
            [w] if keep else c for keep, w, c in zip(whole, cut_line.wholes, cut, strict=True)
        ]
        assert not right([cut_line.with_pieces(pieces)]), "the page must need another count to test"

    monkeypatch.setattr(read, "box_crops", lambda flat, labels, items: [b for b, _ in items])

    class Truthful:  # p = 0.99 for a true letter's box, 0.3 for any other
        def probabilities(self, crops):
            best = [max((iou_matrix(np.array([b]), page.boxes)[0]), default=0) for b in crops]
            return np.array([[0.99 if iou >= 0.75 else 0.3, 0.01] for iou in best])

    class Sure:
        def probabilities(self, crops):
            return np.tile([0.99, 0.01], (len(crops), 1))

    assert right(read.choose_pieces(flat, labels, lines, Truthful()))
    fewest = read.choose_pieces(flat, labels, lines, Sure())
    assert sum(len(line.boxes) for line in fewest) < len(cut_line.boxes)


@pytest.mark.parametrize("name", ["Lato Hairline", "Caladea Bold", "cmmi10 Regular"])
def test_true_boxes_are_the_ink_of_each_glyph_not_its_advance(name):
    """A page's true box is the glyph's ink where it was drawn: a hairline "I" is 1-2 pixels
    wide, not the 12 of its advance box (what `getbbox` gives, side bearings included)."""
    from PIL import ImageDraw, ImageFont

    from nnlab.ocr.pages import _ink_box

    font = next(f for f in page_fonts() if f.name == name)
    pil = ImageFont.truetype(str(font.path), 41)
    for char, x in zip("I1AW.", [20.0, 60.3, 100.5, 140.75, 190.2], strict=True):
        canvas = Image.new("L", (240, 90))
        ImageDraw.Draw(canvas).text((x, 60.4), char, font=pil, fill=255, anchor="ls")
        ink = np.asarray(canvas) > 0
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        expected = [rows[0], cols[0], rows[-1] + 1, cols[-1] + 1]
        assert _ink_box(char, pil, x, 60.4).tolist() == expected, (name, char)
    if name == "Lato Hairline":
        _, left, _, right = _ink_box("I", pil, 20.0, 60.4)
        advance_left, _, advance_right, _ = pil.getbbox("I")
        assert right - left <= 2 and advance_right - advance_left >= 8


def test_dots_commas_and_hyphens_are_kept_as_punctuation(font):
    text = ["ONE, TWO. THREE-FOUR", "FIVE SIX."]
    page = render_page(text, font, np.random.default_rng(1), CLEAN)
    boxes, labels, lines = _lines(page)
    kinds = ["".join("x" if k == "letter" else k for k in line.kind) for line in lines]
    assert kinds == ["xxx,xxx.xxxxx-xxxx", "xxxxxxx."]
    dropped = layout(boxes, labels, punctuation=False)
    assert all(k == "letter" for line in dropped for k in line.kind)
    assert sum(len(line.kind) for line in dropped) == len(page.boxes) - 4


def test_reads_a_small_generated_page(small_classifier, font):
    from nnlab.ocr import generate_pages

    page = generate_pages(1, seed=2, chars_per_page=90, fonts=[font])[0]
    reading = read_page(page.image, small_classifier)
    assert character_accuracy(page.text, reading.text, whitespace=False) >= 0.9, reading.text
    assert character_accuracy(page.text, reading.text) >= 0.9
    assert reading.text.count("\n") == page.text.count("\n")
    assert len(match_boxes(page.boxes, reading.boxes)) == len(page.boxes)


def test_a_blank_page_reads_nothing(small_classifier):
    rng = np.random.default_rng(0)
    paper = np.clip(0.9 + 0.02 * rng.standard_normal((400, 600)), 0, 1)
    reading = read_page(np.linspace(0.7, 1, 600)[None] * paper, small_classifier)
    assert reading.text == "" and len(reading.boxes) == 0 and not reading.binary.any()


def test_edit_distance_matches_the_textbook_recurrence():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = ("".join(rng.choice(list("AB C\n"), rng.integers(0, 9))) for _ in range(2))
        d = np.arange(len(b) + 1)
        for i, ca in enumerate(a, 1):  # the plain O(n m) table, one row at a time
            prev, d = d, np.zeros_like(d)
            d[0] = i
            for j, cb in enumerate(b, 1):
                d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (ca != cb))
        assert edit_distance(a, b) == d[-1], (a, b)
    assert character_accuracy("AB C", "ABC") == 0.75
    assert character_accuracy("AB C", "ABC", whitespace=False) == 1.0


# ------------------------------------------------------------- the classifier's augmentation


def _bars(n: int = 4) -> torch.Tensor:
    """`n` 32x32 'glyphs': a dark vertical bar on paper of 0.9."""
    x = torch.full((n, 1, 32, 32), 0.9)
    x[:, :, 6:26, 14:18] = 0.1
    return x


def test_a_crop_keeps_faint_strokes_and_blanks_other_letters():
    """A letter's crop shows the page in its box: ink of no component (a faint stroke
    `ink_mask` missed) stays, a neighbour's ink that reaches into the box is paper (1), the
    letter's ink is 0 and the paper about 1 whatever its level on the page."""
    from nnlab.ocr.read import box_crops

    flat = np.full((60, 60), 0.9)
    labels = np.zeros((60, 60), np.int32)
    flat[10:50, 10:14], labels[10:50, 10:14] = 0.2, 1  # the letter's stem
    flat[10:50, 30] = 0.7  # a faint stroke of no component
    flat[10:50, 44:48], labels[10:50, 44:48] = 0.2, 2  # a neighbour reaching into the box
    [crop] = box_crops(flat, labels, [(np.array([10, 10, 50, 48]), [1])])
    row = crop[16]  # 38 x 40 box -> 21 x 22 pixels from crop column 5 (scale 22/40)
    assert row[5:8].min() < 0.05, "the letter's ink is black"
    assert 0.5 < row[14:18].min() < 0.92, f"the faint stroke shows grey: {row[14:18]}"
    assert row[22:27].min() > 0.95, f"the neighbour is blanked: {row[22:27]}"
    assert np.median(crop) > 0.98


def test_glyph_augment_is_deterministic_and_keeps_the_shape():
    from nnlab.data.augment import GlyphAugment, glyph_augment
    from nnlab.ocr.classifier import PAGE_AUGMENT

    x = _bars()
    a = glyph_augment(x, torch.Generator().manual_seed(7), PAGE_AUGMENT)
    b = glyph_augment(x, torch.Generator().manual_seed(7), PAGE_AUGMENT)
    c = glyph_augment(x, torch.Generator().manual_seed(8), PAGE_AUGMENT)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(a[0], a[1]), "each image draws its own distortion"
    # nothing to draw: the batch comes back as it was; an empty batch too
    assert torch.allclose(glyph_augment(x, torch.Generator(), GlyphAugment()), x, atol=1e-6)
    assert glyph_augment(x[:0], torch.Generator(), PAGE_AUGMENT).shape == (0, 1, 32, 32)
    # standardised input gives the standardised output (every step commutes with it)
    standard = glyph_augment((x - 0.7) / 0.3, torch.Generator().manual_seed(7), PAGE_AUGMENT)
    assert torch.allclose(standard * 0.3 + 0.7, a, atol=1e-5)


def test_glyph_augment_slants_right_thickens_thins_and_keeps_the_paper():
    from nnlab.data.augment import GlyphAugment, glyph_augment

    x = _bars(16)
    ink = (0.9 - x[0]).sum()

    def run(**kwargs) -> torch.Tensor:
        return glyph_augment(x, torch.Generator().manual_seed(0), GlyphAugment(**kwargs))

    slanted = 0.9 - run(shear=(0.3, 0.3))
    cols = torch.arange(32.0)
    top = (slanted[:, 0, 6:12].sum(1) * cols).sum(1) / slanted[:, 0, 6:12].sum((1, 2))
    bottom = (slanted[:, 0, 20:26].sum(1) * cols).sum(1) / slanted[:, 0, 20:26].sum((1, 2))
    assert (top - bottom > 3).all(), "italic leans right: the top moves right of the bottom"
    stroked = (0.9 - run(stroke=1.0)).sum((1, 2, 3))  # each image a draw in [-1, 1]
    assert (stroked > 1.2 * ink).any() and (stroked < 0.8 * ink).any() and (stroked > 0).all()
    assert run(shift=2.0, scale=0.1, blur=0.6)[:, :, :3, :3].allclose(torch.tensor(0.9))


# Each shipped recipe's fields as of its version: change a recipe's training and this fails until
# its version is bumped (a new shipped file name: old weights are never taken for new ones);
# a new field that leaves training as it was only needs its digest here updated
RECIPE_DIGESTS = {"chars36-cnn-v2": "c19d2e7eb6817730", "chars36-cnn-small-v2": "54848a6830941701"}


def test_a_recipe_never_changes_under_the_same_version():
    import hashlib
    import json
    from dataclasses import asdict

    from nnlab.ocr.classifier import RECIPES, trained_parts

    for key, recipe in RECIPES.items():
        fields = json.dumps(asdict(recipe), sort_keys=True).encode()
        digest = hashlib.sha256(fields).hexdigest()[:16]
        name = recipe.name(key)
        assert RECIPE_DIGESTS.get(name) == digest, f"{key} changed: bump its version from {name}"
        assert trained_parts()[key].file == f"ocr/{name}.pt"


# ------------------------------------------------------------------------------ nnlab ocr


@pytest.fixture
def model_dir(tmp_path, small_classifier):
    """A run directory holding a classifier, as an ocr run leaves it."""
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    shutil.copy(small_classifier.path, tmp_path / "run" / "checkpoints" / "classifier.pt")
    return tmp_path / "run"


def _one_line_error(capsys, args, expected):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nnlab: error: ") and expected in err[0], err


def test_ocr_command_errors_are_one_line(tmp_path, capsys, model_dir):
    _one_line_error(capsys, ["ocr", str(tmp_path / "nope.png")], "does not exist")
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    _one_line_error(capsys, ["ocr", str(fake), "--model", str(model_dir)], "not an image")
    page = tmp_path / "page.png"
    Image.new("L", (64, 64), 255).save(page)
    _one_line_error(capsys, ["ocr", str(page), "--model", str(tmp_path)], "not a run directory")
    assert not (tmp_path / "fake.ocr.png").exists()


def test_ocr_command_reads_a_page_and_notes_a_blank_one(tmp_path, capsys, model_dir, font):
    page = render_page(["HELLO 2026", "WORLD"], font, np.random.default_rng(0), CLEAN)
    path = tmp_path / "page.jpg"
    rgb = np.stack([page.image, page.image * 0.95, page.image * 0.9], -1)
    Image.fromarray(np.rint(rgb * 255).astype(np.uint8)).save(path, quality=90)
    assert main(["ocr", str(path), "--model", str(model_dir)]) == 0
    captured = capsys.readouterr()  # stdout: the text only (`> page.txt`); stderr: the boxes
    assert character_accuracy("HELLO 2026\nWORLD", captured.out.strip()) >= 0.8, captured.out
    assert captured.err.splitlines() == [f"boxes: {tmp_path / 'page.ocr.png'}"]
    with Image.open(tmp_path / "page.ocr.png") as im:
        assert im.size == (page.image.shape[1], page.image.shape[0]) and im.mode == "RGB"

    blank = tmp_path / "blank.png"
    Image.new("RGB", (500, 300), (245, 245, 240)).save(blank)
    assert main(["ocr", str(blank), "--model", str(model_dir)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no letters found" in captured.err
    assert f"boxes: {tmp_path / 'blank.ocr.png'}" in captured.err
