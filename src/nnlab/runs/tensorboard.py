"""TensorBoard event files of a run, written from its run directory at the end of the run.

    write_events(Path("runs/cnn-mnist/20250101-120000-quick"))  # -> .../events.out.tfevents.nnlab
    # then: tensorboard --logdir runs

One event file in the run directory holds what the run's files hold: every numeric metric of
`metrics.jsonl` as a scalar at its step (tag = the metric's name), every figure of `figures/`
as an image (tag `figures/<name>`), the settings of `config.json` (with the experiment,
preset, seed, device and processes) as the run's hyper-parameters (TensorBoard's HParams
tab), and the headline of `summary.json` as the scalar `headline/<metric>` at step 0, the
metric the HParams tab compares runs by. Nothing in the training loops writes events: the
file is (re)written from the run directory, so a resumed run's events are those of an
uninterrupted one. Needs the `tensorboard` package (`pip install 'nnlab[tensorboard]'`),
but neither TensorFlow nor PyTorch.
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any

from nnlab.errors import UserError
from nnlab.io import atomic_write_bytes

EVENTS = "events.out.tfevents.nnlab"
"""The event file's name (TensorBoard reads any file whose name holds `tfevents`)."""


def wanted(flag: bool = False) -> bool:
    """Whether a run writes TensorBoard events: `--tensorboard`, or `NNLAB_TENSORBOARD=1`."""
    return flag or os.environ.get("NNLAB_TENSORBOARD", "").strip().lower() in ("1", "true", "yes")


def require_tensorboard() -> None:
    """Raise a one-line UserError when the tensorboard package is missing."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise UserError(
            "--tensorboard (or NNLAB_TENSORBOARD=1) needs TensorBoard: "
            "pip install 'nnlab[tensorboard]'"
        ) from None


def _hparams(config: dict[str, Any]) -> dict[str, bool | float | int | str]:
    """The run's settings as TensorBoard hyper-parameters: numbers, booleans and strings as
    they are, anything else (tuples, lists, None) as its JSON text."""
    values = {
        "experiment": config["experiment"],
        "preset": config["preset"],
        "seed": config["seed"],
        "device": config.get("device", "cpu"),
        "world_size": config.get("world_size", 1),
        **config.get("config", {}),
    }
    out: dict[str, bool | float | int | str] = {}
    for key, value in values.items():
        if isinstance(value, (bool, int, float, str)) and not (
            isinstance(value, float) and not math.isfinite(value)
        ):
            out[key] = value
        else:
            out[key] = json.dumps(value)
    return out


def write_events(run_dir: Path) -> Path:
    """Write the run directory's metrics, figures, settings and headline as one TensorBoard
    event file in it (replacing the one written before); return its path."""
    require_tensorboard()
    from PIL import Image
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.summary.writer.record_writer import RecordWriter

    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    metrics_path = run_dir / "metrics.jsonl"
    lines = []
    if metrics_path.exists():
        text = metrics_path.read_text(encoding="utf-8")
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]

    buf = io.BytesIO()
    records = RecordWriter(buf)
    now = time.time()

    def event(step: int, **fields: Any) -> None:
        records.write(event_pb2.Event(wall_time=now, step=step, **fields).SerializeToString())

    def scalar(tag: str, value: float) -> summary_pb2.Summary.Value:
        return summary_pb2.Summary.Value(tag=tag, simple_value=value)

    event(0, file_version="brain.Event:2")
    event(0, summary=hp.hparams_pb(_hparams(config), trial_id=run_dir.name, start_time_secs=now))
    headline = config.get("headline", {}).get("metric")
    value = summary.get(headline)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        event(0, summary=summary_pb2.Summary(value=[scalar(f"headline/{headline}", value)]))
    for line in lines:
        values = [
            scalar(key, float(v))
            for key, v in line.items()
            if key != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        if values:
            event(int(line["step"]), summary=summary_pb2.Summary(value=values))
    for png in sorted((run_dir / "figures").glob("*.png")):
        data = png.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}.get(im.mode, 3)
        image = summary_pb2.Summary.Image(
            height=height, width=width, colorspace=channels, encoded_image_string=data
        )
        tag = f"figures/{png.stem}"
        event(
            0, summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, image=image)])
        )
    records.flush()
    return atomic_write_bytes(run_dir / EVENTS, buf.getvalue())
