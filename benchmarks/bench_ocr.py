"""How long `nnlab.ocr.read_page` takes on a generated page of about 200 characters, on CPU.

Reads each of chars36's 11 test fonts' pages (seed 0) `REPEATS` times with the default
classifier (shipped with nnlab) and prints the median and worst wall time per
page and the characters per page; the goal is under 1 s for 200 characters. Run pinned to
one thread, e.g. `taskset -c 1 env OMP_NUM_THREADS=1 python benchmarks/bench_ocr.py`.
"""

from __future__ import annotations

import statistics
import time

import torch

from nnlab.ocr import character_classifier, generate_pages, read_page

REPEATS = 3


def main() -> None:
    torch.set_num_threads(1)
    classifier = character_classifier()
    pages = generate_pages(11, seed=0, chars_per_page=200)
    read_page(pages[0].image, classifier)  # warm-up: imports, first allocations
    times = []
    for page in pages:
        for _ in range(REPEATS):
            started = time.perf_counter()
            read_page(page.image, classifier)
            times.append(time.perf_counter() - started)
    chars = [len(p.text) for p in pages]
    sizes = {p.image.shape for p in pages}
    print(f"classifier {classifier.source} sha256 {classifier.sha256[:16]}")
    print(f"{len(pages)} pages of {min(chars)}-{max(chars)} characters, {sorted(sizes)[0]} px ...")
    print(
        f"read_page: median {statistics.median(times):.3f} s, worst {max(times):.3f} s per page "
        f"({len(times)} reads, 1 torch thread)"
    )


if __name__ == "__main__":
    main()
