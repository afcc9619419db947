"""blas_threads: a scoped BLAS thread limit, from a module that imports nothing heavy."""

import subprocess
import sys

import numpy as np
from threadpoolctl import threadpool_info

from nnlab.training.threads import blas_threads


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_blas_threads_limits_inside_the_block_and_restores_after():
    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded
    before = _blas_threads()
    with blas_threads(1):
        assert _blas_threads() <= {1}
    assert _blas_threads() == before
    with blas_threads(0):  # 0: leave it alone
        assert _blas_threads() == before


def test_importing_threads_loads_no_numpy():
    code = "import sys, nnlab.training.threads; assert 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
