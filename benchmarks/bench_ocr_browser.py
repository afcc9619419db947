"""How well `nnlab.ocr.read_page` reads pages it did not generate: text set by Chromium.

nnlab's page generator draws each letter itself; here headless Chromium lays out and
renders six lines of pangrams (with digits and ". , -") in four of chars36's unseen test
fonts, with the browser's own word spacing and no extra letter spacing. Each page is read
as rendered ("clean") and as a simulated photograph made with Pillow and NumPy only
("photo": seen slightly from one side, light falling off, blurred, noised, saved as JPEG at
quality 70). Prints the character accuracy with and without whitespace per page and on
average. Needs Playwright and Debian's `chromium`; without them it says so and exits 1 (it
cannot measure).

    python benchmarks/bench_ocr_browser.py [DIR]     # DIR: keep the pages and readings
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from nnlab.ocr import character_classifier, page_fonts, read_page
from nnlab.ocr.score import character_accuracy
from nnlab.report.browser import chromium_missing, launch_chromium

LINES = [
    ("THE QUICK BROWN FOX JUMPS", 40),
    ("OVER THE LAZY DOG, 1984.", 40),
    ("PACK MY BOX WITH FIVE DOZEN", 32),
    ("LIQUOR JUGS - 27 TIMES.", 32),
    ("SPHINX OF BLACK QUARTZ", 46),
    ("JUDGE MY VOW 3605", 46),
]
FONTS = [
    "Lato Italic",
    "DejaVu Serif Bold Italic",
    "Hanken Grotesk Medium Italic",
    "cmti10 Regular",
]


def page_html(font: Path) -> str:
    paragraphs = "".join(f'<p style="font-size:{size}px">{text}</p>' for text, size in LINES)
    return (
        f"<html><head><style>@font-face {{font-family: unseen; src: url('{font.as_uri()}');}}"
        "body {margin: 60px; background: white; color: #111; font-family: unseen;}"
        "p {margin: 0 0 18px 0; white-space: pre;}</style></head>"
        f"<body>{paragraphs}</body></html>"
    )


def photograph(clean: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The page seen slightly from one side under uneven warm light, blurred and noised."""
    grey = clean.convert("L")
    w, h = grey.size
    tilt = [1.02, 0.03, -12, 0.01, 1.01, -8, 2.5e-5, 1.5e-5]  # a perspective transform
    grey = grey.transform(
        (w, h), Image.Transform.PERSPECTIVE, tilt, Image.Resampling.BICUBIC, fillcolor=235
    )
    a = np.asarray(grey, np.float32) / 255
    rows, cols = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    a = a * (0.95 - 0.3 * rows * cols - 0.1 * (cols - 0.5) ** 2)
    blurred = Image.fromarray(np.uint8(np.clip(a, 0, 1) * 255)).filter(
        ImageFilter.GaussianBlur(0.8)
    )
    a = np.asarray(blurred, np.float32) / 255 + rng.normal(0, 0.02, (h, w))
    warm = np.stack([a, 0.97 * a, 0.9 * a], axis=-1)
    return Image.fromarray(np.uint8(np.clip(warm, 0, 1) * 255))


def main() -> int:
    reason = chromium_missing()
    if reason:
        print(f"bench_ocr_browser: cannot measure: {reason}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    fonts = {f.name: f for f in page_fonts()}
    truth = "\n".join(text for text, _ in LINES)
    classifier = character_classifier()
    rng = np.random.default_rng(0)
    scores = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        for name in FONTS:
            stem = out / name.replace(" ", "-")
            stem.with_suffix(".html").write_text(page_html(fonts[name].path))
            tab = browser.new_page(viewport={"width": 900, "height": 560})
            tab.goto(stem.with_suffix(".html").as_uri())
            tab.wait_for_timeout(300)  # the web font
            tab.screenshot(path=f"{stem}-clean.png")
            tab.close()
            photograph(Image.open(f"{stem}-clean.png"), rng).save(f"{stem}-photo.jpg", quality=70)
            for kind, path in (("clean", f"{stem}-clean.png"), ("photo", f"{stem}-photo.jpg")):
                reading = read_page(np.asarray(Image.open(path).convert("RGB")), classifier)
                with_ws = character_accuracy(truth, reading.text)
                without = character_accuracy(truth, reading.text, whitespace=False)
                scores.append((with_ws, without))
                print(
                    f"{name:30s} {kind}: accuracy {with_ws:.1%}, {without:.1%} without whitespace"
                )
        browser.close()
    mean = np.mean(scores, axis=0)
    print(f"mean over {len(scores)} pages: {mean[0]:.1%}, {mean[1]:.1%} without whitespace")
    print(f"pages in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
