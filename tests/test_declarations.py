"""What an experiment declares lives in a TOML sidecar beside its recipe module, read by
`Experiment.load`: every key of every sidecar reaches the experiment with the types the
dataclass holds (tuples, `Reference`, `Teaching`), and a broken sidecar is a one-line error
that names the file."""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
import types
from pathlib import Path

import pytest

from nnlab.errors import ConfigError
from nnlab.experiments import CHAPTERS, Experiment, Reference, Teaching, registry

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

EXPERIMENTS = registry()


def sidecar(exp: Experiment) -> tuple[Path, dict]:
    path = Path(sys.modules[exp.run.__module__].__file__).with_suffix(".toml")
    return path, tomllib.loads(path.read_text(encoding="utf-8"))


def plain(value):
    """JSON values: tuples as lists, dataclasses as dicts."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value))


def test_every_module_has_a_sidecar_and_every_sidecar_a_module():
    for chapter in CHAPTERS:
        package = importlib.import_module(f"nnlab.experiments.{chapter}")
        folder = Path(package.__file__).parent
        assert sorted(p.stem for p in folder.glob("*.toml")) == sorted(package.ORDER), chapter


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_key_of_the_sidecar_reaches_the_experiment(name):
    """Caught: a loader that drops a key (`mode`: every min-mode experiment became max)."""
    exp = EXPERIMENTS[name]
    path, data = sidecar(exp)
    fields = {f.name: f for f in dataclasses.fields(Experiment)}
    for key, value in data.items():
        field = fields[key]
        default = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        if default is not dataclasses.MISSING:  # sidecars leave defaults out
            assert getattr(exp, key) != default, f"{path.name}: {key} is left at its default"
        got = plain(getattr(exp, key))
        if key == "teaching":
            pairs = value.get("try_next", [])
            value = {**value, "try_next": [[p["command"], p["shows"]] for p in pairs]}
        if key in ("reference", "teaching"):  # the file leaves their defaults out too
            got = {k: v for k, v in got.items() if k in value}
        assert got == value, f"{path.name}: {key}"


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_sidecar_arrays_become_the_tuples_a_declaration_holds(name):
    """Caught: tour settings and try_next pairs left as lists (`hidden = [64, 32, 16]`)."""
    exp = EXPERIMENTS[name]
    assert isinstance(exp.teaching, Teaching)
    assert isinstance(exp.teaching.try_next, tuple)
    assert all(type(pair) is tuple and len(pair) == 2 for pair in exp.teaching.try_next)
    assert exp.reference is None or isinstance(exp.reference, Reference)
    for overrides in (exp.tour, exp.tour_mnist or {}):
        assert not any(isinstance(v, list) for v in overrides.values()), overrides


def test_three_declarations_are_as_their_python_was():
    """Frozen from the `Experiment(...)` blocks the sidecars replaced (commit 2e3280f)."""
    mlp_ae, ddpm, numpy_classifier = (
        EXPERIMENTS[n] for n in ("mlp-autoencoder", "ddpm", "numpy-classifier")
    )
    assert (mlp_ae.headline, mlp_ae.mode, mlp_ae.key_figure) == ("test_mse", "min", "codes")
    assert mlp_ae.tour == {"dataset": "digits", "hidden": (64, 32, 16)}
    assert mlp_ae.tour_mnist == {"dataset": "mnist", "epochs": 3}
    assert mlp_ae.teaching.try_next[0][0] == "nnlab run mlp-autoencoder --set latent=10"
    assert list(mlp_ae.teaching.figures) == ["reconstructions", "codes", "learning_curves"]
    assert (ddpm.mode, ddpm.data_parallel, ddpm.uses_torch) == ("min", True, True)
    assert ddpm.tour_mnist["ddim_steps"] == (10, 50) and ddpm.tour_mnist["ddpm_quality"] is False
    assert (ddpm.reference.value, ddpm.reference.data, ddpm.reference.preset) == (
        0.0372,
        "mnist",
        "full",
    )
    assert (numpy_classifier.mode, numpy_classifier.uses_torch) == ("max", False)
    assert numpy_classifier.tour == {} and numpy_classifier.tour_mnist is None
    assert numpy_classifier.reference == Reference(
        0.774, "64-unit network on NIST36 in the course (seed 004 Q3)"
    )


GOOD = """name = "probe"
description = "d"
reproduces = "seed 001"
headline = "loss"

[teaching]
question = "q?"
answer = "{loss}"

[[teaching.try_next]]
command = "nnlab run probe"
shows = "s"
"""

BROKEN = {
    "missing": (None, "cannot read"),
    "not TOML": ('name = "probe\n', "is not valid TOML"),
    "unknown key": (GOOD.replace("headline", "headlin"), "unknown key 'headlin'"),
    "unknown teaching key": (
        GOOD.replace("answer =", "answers ="),
        "unknown key 'teaching.answers'",
    ),
    "half a try_next": (GOOD.replace('shows = "s"\n', ""), "needs command and shows"),
    "bad reference": (GOOD + '\n[reference]\nvalue = "high"\nsource = "x"\n', "must be a number"),
    "tour not a table": (GOOD.replace('headline = "loss"', 'headline = "loss"\ntour = 3'), "tour"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_sidecar_is_a_one_line_error_naming_its_file(case, tmp_path, monkeypatch):
    """Caught: a sidecar with a misspelt key loaded without a word (the key was ignored)."""
    text, message = BROKEN[case]
    module = types.ModuleType("probe_recipe")
    module.__file__ = str(tmp_path / "probe_recipe.py")
    monkeypatch.setitem(sys.modules, "probe_recipe", module)
    if text is not None:
        (tmp_path / "probe_recipe.toml").write_text(text, encoding="utf-8")
    code = EXPERIMENTS["perceptron"]
    load = dict(config=code.config, presets=code.presets, run=code.run)
    with pytest.raises(ConfigError) as error:
        Experiment.load("probe_recipe", **load)
    assert str(tmp_path / "probe_recipe.toml") in str(error.value)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)
    if text is not None:  # the same file, mended, loads
        (tmp_path / "probe_recipe.toml").write_text(GOOD, encoding="utf-8")
        assert Experiment.load("probe_recipe", **load).teaching.try_next == (
            ("nnlab run probe", "s"),
        )
