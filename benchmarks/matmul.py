"""The float32 matmul peak of this CPU, measured; the benchmarks state utilisation against it."""

from __future__ import annotations

import time

import torch


def matmul_peak(sizes=(256, 512, 1024, 1536, 2048), seconds: float = 1.0) -> float:
    """Best float32 GFLOP/s of an n x n product over `sizes`, each timed for ~`seconds`."""
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(3):
            a @ b
        reps, began = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - began) < seconds:
            a @ b
            reps += 1
        best = max(best, 2 * n**3 * reps / elapsed / 1e9)
    return best
