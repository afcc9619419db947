"""OCR with scikit-image and a chars36 network (seed 004 Q4): find the letters on a page,
lay them out in lines and words, read them.

    from nnlab.ocr import character_classifier, read_page
    reading = read_page(image, character_classifier())   # image: grey or RGB array
    print(reading.text)

Pieces: `letters` (`find_letters(image) -> (boxes, binary)`, `layout`: lines, order, spaces,
touching letters, punctuation), `read` (crops that look like chars36 images, classification,
text), `classifier` (the shipped chars36 CNN, or one from a run directory: a CNN, or a
`numpy-classifier` run's NumPy Q3 network), `pages` (generated
photographed pages with their truth, in fonts chars36 never trains on), `score` (character
accuracy, box recall and precision). Alphabet: 0-9 and A-Z, as chars36 (no lowercase), plus
the marks ". , -" (and "'" by shape).
"""

from nnlab.ocr.classifier import (
    Classifier,
    ScratchClassifier,
    character_classifier,
    load_run_classifier,
    load_scratch_classifier,
)
from nnlab.ocr.letters import find_letters, label_letters, layout
from nnlab.ocr.pages import Page, PageStyle, generate_pages, page_arrays, page_fonts
from nnlab.ocr.read import Reading, read_page

__all__ = [
    "Classifier",
    "Page",
    "PageStyle",
    "Reading",
    "ScratchClassifier",
    "character_classifier",
    "find_letters",
    "generate_pages",
    "label_letters",
    "layout",
    "load_run_classifier",
    "load_scratch_classifier",
    "page_arrays",
    "page_fonts",
    "read_page",
]
