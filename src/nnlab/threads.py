"""Thread limits for compute libraries, scoped to a block. A light module: importing it loads
neither NumPy nor a BLAS; the limit is applied when the block is entered.

    with blas_threads(1):   # small matrices on shared cores: one BLAS thread is fastest
        fit(model, ...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Limit BLAS to ``n`` threads inside the block (``n = 0``: leave it alone)."""
    if n <= 0:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n, user_api="blas"):
        yield
