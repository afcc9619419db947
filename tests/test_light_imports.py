"""Every experiment module imports nothing heavy (torch, numpy, matplotlib, scipy), and its
presets build and describe without them: `nnlab list` and `describe` pay for none of it.
Constants copied to keep a module light match their sources."""

import subprocess
import sys

import pytest

import nnlab.experiments

MODULES = [path for _, path in nnlab.experiments.chapter_modules()]


@pytest.mark.parametrize("module", MODULES)
def test_experiment_module_and_its_configs_import_nothing_heavy(module):
    code = (
        f"import sys, {module} as m\n"
        "from nnlab.config import field_help\n"
        "for preset in m.PRESETS:\n"
        "    m.EXPERIMENT.make_config(preset)\n"
        "field_help(m.Config)\n"
        "heavy = {'torch', 'numpy', 'matplotlib', 'scipy'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_light_copies_of_constants_match_their_sources():
    from nnlab.data.chars36 import CLASS_NAMES
    from nnlab.experiments.engine import numpy_autoencoder

    assert list(numpy_autoencoder.CLASS_NAMES) == CLASS_NAMES
