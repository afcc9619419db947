"""`nnlab run --tensorboard`: the run directory's metrics, figures, settings and headline as
TensorBoard events, read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from nnlab.cli import main

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)
from tensorboard.plugins.hparams import metadata  # noqa: E402

SMOKE = ["run", "mlp-classifier", "--preset", "smoke", "--quiet", "--device", "cpu"]


def _read(run_dir) -> EventAccumulator:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    return acc.Reload()


def test_a_run_writes_its_metrics_figures_and_settings_as_events(tmp_path, capsys):
    assert main([*SMOKE, "--out", str(tmp_path), "--tensorboard"]) == 0
    (run_dir,) = tmp_path.glob("mlp-classifier/*")
    acc = _read(run_dir)
    tags = acc.Tags()

    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    names = sorted({k for line in lines for k in line} - {"step"})
    summary = json.loads((run_dir / "summary.json").read_text())
    assert sorted(tags["scalars"]) == sorted([*names, "headline/test_accuracy"])
    for name in names:
        events = acc.Scalars(name)
        assert [e.step for e in events] == [x["step"] for x in lines if name in x]
        expected = np.float32([x[name] for x in lines if name in x])  # stored as float32
        assert np.array_equal(np.float32([e.value for e in events]), expected), name
    (headline,) = acc.Scalars("headline/test_accuracy")
    assert headline.value == np.float32(summary["test_accuracy"])

    figures = sorted((run_dir / "figures").glob("*.png"))
    assert sorted(tags["images"]) == [f"figures/{p.stem}" for p in figures]
    for png in figures:
        (image,) = acc.Images(f"figures/{png.stem}")
        assert image.encoded_image_string == png.read_bytes()  # the very file
        assert image.width > 300 and image.height > 200

    content = acc.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.SESSION_START_INFO_TAG]
    start = metadata.parse_session_start_info_plugin_data(content)
    config = json.loads((run_dir / "config.json").read_text())
    hparams = {
        k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
        for k, v in start.hparams.items()
    }
    assert hparams["experiment"] == "mlp-classifier" and hparams["preset"] == "smoke"
    assert hparams["lr"] == config["config"]["lr"] and hparams["epochs"] == 3
    assert hparams["hidden"] == "[64]" and hparams["dataset"] == "digits"
    print(
        f"scalars {sorted(tags['scalars'])}\nimages {sorted(tags['images'])}\n"
        f"test_accuracy per epoch {[round(e.value, 4) for e in acc.Scalars('test_accuracy')]}\n"
        f"hparams {dict(sorted(hparams.items()))}"
    )


def test_nnlab_tensorboard_1_turns_it_on_and_without_it_no_events(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_TENSORBOARD", "1")
    assert main([*SMOKE, "--out", str(tmp_path / "on"), "--set", "epochs=1"]) == 0
    monkeypatch.delenv("NNLAB_TENSORBOARD")
    assert main([*SMOKE, "--out", str(tmp_path / "off"), "--set", "epochs=1"]) == 0
    assert len(list(tmp_path.glob("on/mlp-classifier/*/events.out.tfevents.*"))) == 1
    assert not list(tmp_path.glob("off/mlp-classifier/*/events.out.tfevents.*"))


def test_without_tensorboard_it_is_a_one_line_error_before_anything_runs(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    assert main([*SMOKE, "--out", str(tmp_path), "--tensorboard"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "nnlab: error: --tensorboard (or NNLAB_TENSORBOARD=1) needs TensorBoard: "
        "pip install 'nnlab[tensorboard]'\n"
    )
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
