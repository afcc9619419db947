"""Importing these experiment modules (as `nnlab list` / `describe` do) loads no heavy library;
constants copied to keep them light match their sources."""

import subprocess
import sys

import pytest

LIGHT = [
    "backprop_by_hand",
    "fundamentals",
    "numpy_autoencoder",
    "numpy_classifier",
    "sparse_autoencoder",
    "xor",
]


@pytest.mark.parametrize("module", LIGHT)
def test_experiment_module_imports_nothing_heavy(module):
    code = (
        f"import sys, nnlab.experiments.{module}\n"
        "heavy = {'torch', 'numpy', 'matplotlib', 'scipy'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_light_copies_of_constants_match_their_sources():
    from nnlab.data.chars36 import CLASS_NAMES
    from nnlab.experiments import numpy_autoencoder

    assert list(numpy_autoencoder.CLASS_NAMES) == CLASS_NAMES
