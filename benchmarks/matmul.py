"""The matmul peak of this CPU, measured; the benchmarks state utilisation against it."""

from __future__ import annotations

import time

import torch


def matmul_peak(
    sizes=(256, 512, 1024, 1536, 2048), seconds: float = 1.0, dtype: torch.dtype = torch.float32
) -> float:
    """Best GFLOP/s of an n x n product in `dtype` over `sizes`, each timed for ~`seconds`."""
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        for _ in range(3):
            a @ b
        reps, began = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - began) < seconds:
            a @ b
            reps += 1
        best = max(best, 2 * n**3 * reps / elapsed / 1e9)
    return best
