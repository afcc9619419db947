"""The PyTorch experiments' modules import nothing heavy (torch, numpy, matplotlib, scipy):
`nnlab list` and `describe` read their configs without paying for them. Their configs can
be built and described too."""

import subprocess
import sys

import pytest

LIGHT = [
    "cnn_mnist",
    "deep_vs_shallow",
    "hparam_search",
    "image_folder",
    "lenet",
    "mlp_classifier",
    "optimizers",
    "pretrained_eval",
    "regularization",
]


@pytest.mark.parametrize("module", LIGHT)
def test_torch_experiment_module_and_its_configs_import_nothing_heavy(module):
    code = (
        f"import sys, nnlab.experiments.{module} as m\n"
        "from nnlab.config import field_help\n"
        "for preset in m.PRESETS:\n"
        "    m.EXPERIMENT.make_config(preset)\n"
        "field_help(m.Config)\n"
        "heavy = {'torch', 'numpy', 'matplotlib', 'scipy'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
