"""Thread limits for compute libraries, scoped to a block. A light module: importing it loads
neither NumPy nor a BLAS; the limit is applied when the block is entered.

    with blas_threads(1):   # small matrices on shared cores: one BLAS thread is fastest
        fit(model, ...)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def cores() -> int:
    """CPU cores this process may run on (its affinity mask, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Limit BLAS to ``n`` threads inside the block (``n = 0``: leave it alone)."""
    if n <= 0:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n, user_api="blas"):
        yield


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Use `n` torch CPU threads inside the block (`n = 0`: leave the setting alone).

    Small matrices on shared or busy cores train much faster on one thread: with two, the
    threads spin waiting for each other whenever another process holds a core.
    """
    if n <= 0:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
