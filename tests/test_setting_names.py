"""One name per idea (src/nnlab/SETTINGS.md): no experiment uses a retired name, every retired
name still works with a note, and the glossary lists every rename."""

import dataclasses
from pathlib import Path

import pytest

from nnlab.config import RENAMED, current_names, settings_for
from nnlab.experiments import get, registry

GLOSSARY = Path(__file__).resolve().parents[1] / "src" / "nnlab" / "SETTINGS.md"
FIELDS = {name: {f.name for f in dataclasses.fields(e.config)} for name, e in registry().items()}


def test_no_experiment_uses_a_retired_setting_name():
    used = {name: sorted(fields & set(RENAMED)) for name, fields in FIELDS.items()}
    assert not any(used.values()), {k: v for k, v in used.items() if v}


def test_every_retired_name_points_at_a_setting_an_experiment_has():
    everywhere = set().union(*FIELDS.values())
    assert set(RENAMED.values()) <= everywhere


def test_the_glossary_names_every_renamed_setting():
    text = GLOSSARY.read_text()
    missing = [old for old in RENAMED if f"`{old}`" not in text]
    assert not missing


@pytest.mark.parametrize(
    ("experiment", "old", "new"),
    [("char-gpt", "max_iters", "steps"), ("hparam-search", "trial_epochs", "epochs")],
)
def test_a_retired_name_still_sets_the_new_one_with_a_one_line_note(experiment, old, new, capsys):
    cfg = get(experiment).make_config("smoke", {old: "7"})
    assert getattr(cfg, new) == 7
    note = capsys.readouterr().err.strip().splitlines()
    assert note == [f"note: setting '{old}' is now called '{new}' (src/nnlab/SETTINGS.md)"]


def test_an_old_runs_config_json_rebuilds_the_same_config(capsys):
    exp = get("char-gpt")
    new = exp.make_config("smoke").to_dict()
    old = {("max_iters" if k == "steps" else k): v for k, v in new.items()}
    assert exp.make_config("smoke", old).to_dict() == new
    assert current_names(old) == new


def test_settings_for_copies_every_field_of_the_same_name():
    from nnlab.training.lm import LMTraining

    cfg = get("char-gpt").make_config("smoke", {"steps": "123", "beta2": "0.9", "eval_every": "5"})
    lm = settings_for(LMTraining, cfg)
    shared = {f.name for f in dataclasses.fields(LMTraining)} & FIELDS["char-gpt"]
    assert {n: getattr(lm, n) for n in shared} == {n: getattr(cfg, n) for n in shared}
    assert settings_for(LMTraining, cfg, steps=9).steps == 9
