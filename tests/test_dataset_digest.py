"""Content digests: what a run loaded is named in its config.json, and resume refuses
different data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnlab.cli import main
from nnlab.data import make_toy
from nnlab.data.digest import array_digest, note_dataset, recording
from nnlab.errors import UserError
from nnlab.runs.runner import _record_dataset


def test_digest_changes_with_any_value_dtype_shape_or_name():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    base = array_digest({"x": x})
    assert array_digest({"x": x.copy()}) == base
    changed = x.copy()
    changed[2, 3] += 1
    variants = [
        {"x": changed},
        {"x": x.astype(np.float64)},
        {"x": x.reshape(4, 3)},
        {"y": x},
        {"x": x, "y": x[:0]},
    ]
    assert len({base, *(array_digest(v) for v in variants)}) == 1 + len(variants)


def test_notes_reach_the_listener_only_inside_recording():
    seen = []
    note_dataset("outside", {"x": np.zeros(1)})
    with recording(seen.append):
        x, y = make_toy("moons", n=50, noise=0.2, seed=3)
    assert seen == [
        {
            "name": "toy-moons",
            "params": {"n": 50, "noise": 0.2, "seed": 3},
            "sha256": array_digest({"x": x, "y": y}),
        }
    ]


def test_a_run_records_its_data_in_config_json(tmp_path):
    assert main(["run", "xor", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]) == 0
    (config_path,) = tmp_path.glob("xor/*/config.json")
    entries = json.loads(config_path.read_text())["data"]
    assert entries and all(e["name"] == "toy-xor" for e in entries)
    for e in entries:
        x, y = make_toy("xor", **e["params"])
        assert e["sha256"] == array_digest({"x": x, "y": y})


def test_resume_with_different_data_is_refused(tmp_path: Path):
    (tmp_path / "config.json").write_text(json.dumps({"experiment": "x"}))
    entry = {"name": "toy-xor", "params": {"n": 4}, "sha256": "a" * 64}
    _record_dataset(tmp_path, entry)
    _record_dataset(tmp_path, dict(entry))  # the same data again: nothing changes
    assert json.loads((tmp_path / "config.json").read_text())["data"] == [entry]
    with pytest.raises(UserError, match="the data changed"):
        _record_dataset(tmp_path, {**entry, "sha256": "b" * 64})
