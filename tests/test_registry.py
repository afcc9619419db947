"""Every registered experiment, walked the same way: presets and tour overrides build, the
CLI describes it, the light commands stay light, and `nnlab tour` runs and indexes."""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys

import pytest

from nnlab.cli import main
from nnlab.config import field_help
from nnlab.experiments import PRESET_NAMES, Experiment, registry

EXPERIMENTS = registry()
HEAVY = {"torch", "matplotlib", "scipy", "numpy"}


def test_the_registry_holds_every_experiment_module_of_every_chapter():
    import pkgutil

    import nnlab.experiments as package

    modules = []
    for chapter in package.CHAPTERS:
        folder = [m.name for m in pkgutil.iter_modules([f"{package.__path__[0]}/{chapter}"])]
        listed = importlib.import_module(f"nnlab.experiments.{chapter}").ORDER
        assert sorted(listed) == sorted(folder), f"{chapter}: ORDER and its modules differ"
        modules += folder
    top = [m.name for m in pkgutil.iter_modules(package.__path__)]
    assert sorted(top) == sorted(package.CHAPTERS), "an experiment module outside a chapter"
    assert len(EXPERIMENTS) == len(modules) >= 15
    assert sorted(e.replace("-", "_") for e in EXPERIMENTS) == sorted(modules)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_preset_and_the_tour_build_and_describe(name, capsys):
    exp: Experiment = EXPERIMENTS[name]
    names = [f.name for f in dataclasses.fields(exp.config)]
    for preset in PRESET_NAMES:
        cfg = exp.make_config(preset)
        assert set(cfg.to_dict()) == set(names)
        assert set(exp.presets[preset]) <= set(names)
    exp.make_config("quick", exp.tour)
    if exp.tour_mnist is not None:
        settings = exp.make_config("quick", exp.tour_mnist).to_dict()  # shared data, not embedded
        assert settings.get("dataset", settings.get("corpus")) in ("mnist", "tinyshakespeare")
    assert exp.headline and exp.description and exp.reproduces
    assert main(["describe", name]) == 0
    out = capsys.readouterr().out
    assert all(row[0] in out for row in field_help(exp.config))


@pytest.mark.parametrize(
    "argv", [["--help"], ["list"], ["describe", "mlp-classifier"], ["data", "list"]]
)
def test_light_commands_import_no_heavy_library(argv):
    probe = (
        "import sys\nfrom nnlab.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(set({sorted(HEAVY)!r}) & set(sys.modules)), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    heavy = result.stderr.strip().splitlines()[-1]
    allowed = "['numpy']" if argv == ["data", "list"] else "[]"  # data list hashes arrays
    assert heavy in ("[]", allowed), f"nnlab {' '.join(argv)} imported {heavy}"


def test_tour_runs_each_experiment_on_its_tour_settings_and_indexes(tmp_path, monkeypatch, capsys):
    import nnlab.experiments

    chosen = {n: EXPERIMENTS[n] for n in ("xor", "mlp-classifier")}
    monkeypatch.setattr(nnlab.experiments, "registry", lambda: chosen)
    assert main(["tour", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tour on embedded data (MNIST not found")
    for name in chosen:
        assert f"== {name} (smoke" in out
        assert len(list(tmp_path.glob(f"{name}/*/summary.json"))) == 1
    assert (tmp_path / "index.html").is_file() and str(tmp_path / "index.html") in out


def test_tour_takes_shared_data_only_where_it_is_present(tmp_path, shared_data, monkeypatch):
    from nnlab.cli import _data_present

    lstm, cnn = EXPERIMENTS["char-lstm"], EXPERIMENTS["cnn-mnist"]
    shared = [exp.make_config("quick", exp.tour_mnist) for exp in (lstm, cnn)]
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))  # an empty folder (and an empty cache)
    assert not any(_data_present(cfg) for cfg in shared)
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    assert all(_data_present(cfg) for cfg in shared)  # Tiny Shakespeare, MNIST
    assert not _data_present(lstm.make_config("quick", lstm.tour))  # toy-play is generated
