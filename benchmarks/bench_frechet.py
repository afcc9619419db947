"""The scale of the Fréchet classifier distance (nnlab.diffusion.frechet), measured in one run:

* the extractor: the shipped file (nnlab/trained/frechet/), its test accuracy and SHA-256;
* the real-data floor: n training images drawn at random against the whole test set, at
  n = 1,000 and 10,000;
* the same 1,000 training images degraded: Gaussian blur, Gaussian noise (clamped to
  [-1, 1]), and uniform noise in place of images, so a generator's number can be placed on
  the scale.

    NNLAB_DATA=../shared/data .venv/bin/python benchmarks/bench_frechet.py [--dataset mnist]

Without the dataset (MNIST and Fashion-MNIST need NNLAB_DATA) it cannot measure: it says so
and exits 1. `nnlab retrain frechet` times the extractor's training.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from scipy.ndimage import gaussian_filter

from nnlab.diffusion.frechet import (
    feature_extractor,
    real_floor,
    real_images,
    sample_quality,
)
from nnlab.errors import DataError


def blurred(x: torch.Tensor, sigma: float) -> torch.Tensor:
    return torch.from_numpy(gaussian_filter(x.numpy(), sigma=(0, 0, sigma, sigma)))


def noised(x: torch.Tensor, sigma: float) -> torch.Tensor:
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    return (x + sigma * noise).clamp(-1, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist", "digits"])
    args = parser.parse_args()
    dataset = args.dataset
    started = time.perf_counter()
    try:
        extractor = feature_extractor(dataset)
        seconds = time.perf_counter() - started
        real_images(dataset, 2)  # the dataset is needed for every row below
    except DataError as exc:
        print(f"bench_frechet: cannot measure: {exc}", file=sys.stderr)
        return 1
    info = extractor.info()
    print(
        f"extractor {info['recipe']}: loaded in {seconds:.2f} s, test accuracy "
        f"{info['test_accuracy']:.4f}"
    )
    print(f"weights {extractor.path}\nsha256 {info['sha256']}\n")

    small = 1000 if dataset != "digits" else 200
    large = 10_000 if dataset != "digits" else 1000
    rows = []
    for n in (small, large):
        floor = real_floor(dataset, n)
        rows.append((f"real: {n:,} training images (the floor)", floor))
    x = real_images(dataset, small)  # the floor's sample at n = small
    for sigma in (0.5, 1.0, 2.0):
        rows.append((f"blurred, sigma {sigma} px", sample_quality(blurred(x, sigma), dataset)))
    for sigma in (0.1, 0.25, 0.5):
        rows.append((f"Gaussian noise, sigma {sigma}", sample_quality(noised(x, sigma), dataset)))
    uniform = torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    rows.append(("uniform noise in [-1, 1]", sample_quality(uniform, dataset)))

    reference_n = rows[0][1]["reference_n"]
    print(f"against the {reference_n:,} test images; images in [-1, 1]\n")
    print("| images | n | Fréchet distance | mean max probability | largest class fraction |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows:
        top = max(r["class_fractions"].values())
        print(
            f"| {name} | {r['n']:,} | {r['frechet_distance']:.3f} | "
            f"{r['mean_max_probability']:.3f} | {top:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
