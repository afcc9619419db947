"""Videos with PyAV: frames read back in their colours and orientation, a clip nnlab writes
itself classified by its own character CNN through pretrained-eval, and bounded, one-line
failures for corrupt, oversized and over-long videos."""

from __future__ import annotations

import json

import numpy as np
import pytest

from needs import need_module
from nnlab.cli import main
from nnlab.errors import DataError
from runs_helper import single_run

need_module("av", "videos need PyAV: pip install 'nnlab[video]'")

from nnlab.data import video  # noqa: E402  (after the PyAV check)


def quadrants(height: int = 48, width: int = 64, frames: int = 5) -> np.ndarray:
    """Frames with a red left half, a blue right half and the top half darker: any swap of
    channels or of the axes changes the colour read in a quadrant."""
    out = np.zeros((frames, height, width, 3), np.uint8)
    out[:, :, : width // 2] = (220, 40, 30)
    out[:, :, width // 2 :] = (30, 60, 210)
    out[:, : height // 2] //= 2
    return out


def test_frames_read_back_in_their_colours_and_orientation(tmp_path):
    frames = quadrants()
    path = video.write_video(tmp_path / "q.mp4", frames, fps=5)
    read = video.read_frames(path, size=32)
    assert read.shape == (5, 32, 32, 3) and read.dtype == np.uint8
    # every frame resized 64x48 -> 32x32: quadrant centres sit 8 px in from each side
    for y, x in ((8, 8), (8, 24), (24, 8), (24, 24)):
        want = frames[0, y * 48 // 32, x * 2].astype(int)
        got = read[:, y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3).mean(0)
        assert np.abs(got - want).max() < 12, (y, x, got, want)  # MPEG-4 at qscale 2
    assert video.read_frames(path, size=16, max_frames=3).shape == (3, 16, 16, 3)


def test_writing_is_repeatable(tmp_path):
    frames = quadrants(frames=3)
    a = video.write_video(tmp_path / "a.mp4", frames).read_bytes()
    assert video.write_video(tmp_path / "b.mp4", frames).read_bytes() == a


@pytest.mark.usefixtures("one_torch_thread")
def test_a_clip_of_one_character_is_read_as_that_character(tmp_path):
    out = tmp_path / "runs"
    sets = ["demo_video=true", "label=7", "demo_frames=36"]
    args = [a for s in sets for a in ("--set", s)]
    assert main(["run", "pretrained-eval", "--preset", "smoke", "--quiet", *args, "--out",
                 str(out)]) == 0  # fmt: skip
    run = single_run(out)
    s = json.loads((run / "summary.json").read_text())
    assert s["source_kind"] == "video" and s["images"] == 36 and s["model"] == "local chars36-cnn"
    # chance is 1/36; measured 36 of 36. Frames read transposed (a 7 on its side) or
    # upside down are called other characters.
    top = s["most_frequent_predictions"][0]
    assert top["label"] == "7" and top["fraction"] >= 0.8
    assert s["top1_accuracy"] >= 0.8 and s["top5_accuracy"] >= s["top1_accuracy"]
    frames = video.read_frames(run / "demo_clip.mp4", size=64)
    assert frames.shape == (36, 64, 64, 3)
    # the page is the cream PAPER, not its channels reversed
    corner = frames[:, :4, :4].reshape(-1, 3).mean(0)
    assert corner[0] > corner[2] + 10


def test_corrupt_and_foreign_files_are_one_line_errors(tmp_path, capsys):
    good = video.write_video(tmp_path / "good.mp4", quadrants()).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(good[: len(good) // 3])
    (tmp_path / "text.mp4").write_bytes(b"not a video " * 50)
    for name in ("cut.mp4", "text.mp4"):
        with pytest.raises(DataError, match="cannot read video|has no frames|has no video stream"):
            video.read_frames(tmp_path / name, size=8)
    args = ["--set", "model=chars36-cnn", "--set", f"source={tmp_path / 'text.mp4'}"]
    assert main(["run", "pretrained-eval", "--quiet", *args, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot read video" in err and len(err.splitlines()) == 1


def test_oversized_frames_and_too_many_frames_are_refused(tmp_path, monkeypatch):
    path = video.write_video(tmp_path / "q.mp4", quadrants(frames=6))
    monkeypatch.setattr(video, "MAX_PIXELS", 64 * 48 - 1)
    with pytest.raises(DataError, match="64 x 48 pixels, over nnlab's limit"):
        video.read_frames(path, size=8)
    monkeypatch.undo()
    monkeypatch.setattr(video, "MAX_FRAME_BYTES", 4 * 8 * 8 * 3)  # room for 4 frames
    with pytest.raises(DataError, match="more than 4 frames.*max_frames=4"):
        video.read_frames(path, size=8)
    assert len(video.read_frames(path, size=8, max_frames=4)) == 4
