"""Hostile input, crashes and full disks: reports, images, checkpoints, run directories,
data and text files (the "trust" findings). Each test fails on the code before its fix."""

import base64
import errno
import json
import os
import stat
import struct
import types
import zlib
from pathlib import Path

import pytest
from PIL import Image

from nnlab.cli import main
from nnlab.errors import DataError, UserError
from nnlab.report.render import render_index, render_run


def one_line_error(capsys, args: list[str], expected: str) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nnlab: error: ") and expected in err[0], err
    return err[0]


def bomb_png(path: Path, side: int = 20000) -> Path:
    """A 74-byte PNG whose header claims side x side grey pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 778, 9))
        + chunk(b"IEND", b"")
    )
    return path


def a_run(root: Path, name: str = "run") -> Path:
    run = root / "mlp" / name
    (run / "figures").mkdir(parents=True)
    config = {"experiment": "mlp", "preset": "smoke", "seed": 0, "versions": {"nnlab": "0"}}
    (run / "config.json").write_text(json.dumps(config))
    (run / "status.json").write_text(json.dumps({"state": "completed"}))
    (run / "summary.json").write_text(json.dumps({"accuracy": 0.5}))
    return run


# --------------------------------------------------------------------------- reports


def test_report_renders_only_nnlab_runs_and_keeps_files_it_did_not_write(tmp_path, capsys):
    foreign = tmp_path / "project"
    foreign.mkdir()
    (foreign / "config.json").write_text(json.dumps({"name": "my web app"}))
    one_line_error(capsys, ["report", str(foreign)], "was not written by nnlab")
    assert sorted(p.name for p in foreign.iterdir()) == ["config.json"]

    run = a_run(tmp_path)
    (run / "report.html").write_text("<h1>my notes</h1>")
    one_line_error(capsys, ["report", str(run)], "report.html was not written by nnlab")
    assert (run / "report.html").read_text() == "<h1>my notes</h1>"
    assert not (run / "report.md").exists()

    (run / "report.html").unlink()
    render_run(run)
    render_run(run)  # its own files are replaced
    assert "nnlab.report" in (run / "report.md").read_text().splitlines()[0]

    (tmp_path / "index.md").write_text("# my index\n")
    one_line_error(capsys, ["report", str(tmp_path)], "index.md was not written by nnlab")
    assert (tmp_path / "index.md").read_text() == "# my index\n"
    (tmp_path / "index.md").unlink()
    render_index(tmp_path)
    render_index(tmp_path)


def test_report_embeds_only_png_files_inside_the_run_directory(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"PRIVATE KEY " * 20)
    run = a_run(tmp_path / "runs")
    Image.new("RGB", (8, 8), (200, 0, 0)).save(run / "figures" / "real.png")
    (run / "figures" / "leak.png").symlink_to(secret)
    (run / "figures" / "notes.png").write_text("not a PNG at all " * 20)
    html = render_run(run).read_text()
    assert "real" in html and base64.b64encode(secret.read_bytes()).decode() not in html
    assert "leak" not in html and "notes" not in html
    card = render_index(tmp_path / "runs").read_text()
    assert "leak.png" not in card and "notes.png" not in card


# --------------------------------------------------------------------------- images


def test_decompression_bombs_are_one_line_errors_everywhere(tmp_path, capsys):
    from nnlab.data.imagefolder import load_image

    bomb = bomb_png(tmp_path / "bomb.png")
    assert bomb.stat().st_size == 74
    no_model = ["--model", str(tmp_path / "none")]  # checked after the image
    one_line_error(capsys, ["ocr", str(bomb), *no_model], "over nnlab's limit of 64 Mpx")
    big = tmp_path / "big.png"  # under Pillow's own error limit, over nnlab's
    Image.new("1", (9000, 9000)).save(big)
    one_line_error(capsys, ["ocr", str(big), *no_model], "9000 x 9000 pixels (81 Mpx)")
    with pytest.raises(DataError, match="64 Mpx"):
        load_image(bomb, 32)
    run = a_run(tmp_path / "runs")
    bomb_png(run / "figures" / "bomb.png")
    one_line_error(capsys, ["report", str(run)], "over nnlab's limit")


def test_a_large_page_is_downscaled_before_the_float_work(tmp_path):
    from nnlab.io import read_image
    from nnlab.ocr.read import PAGE_MAX_SIDE

    page = tmp_path / "page.jpg"
    Image.new("RGB", (6000, 4000), (250, 250, 250)).save(page, quality=80)
    with read_image(page, max_side=PAGE_MAX_SIDE) as im:
        assert max(im.size) <= PAGE_MAX_SIDE and im.size[0] > im.size[1]


# --------------------------------------------------------------------------- other input


def test_a_text_file_over_the_cap_is_refused_before_reading(tmp_path, capsys):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(128 * 2**20 + 1)  # sparse: no disk used
    args = ["run", "char-gpt", "--preset", "smoke", "--quiet", "--out", str(tmp_path / "runs")]
    one_line_error(capsys, [*args, "--set", f"text={big}"], "cap of 128 MiB")
    assert not (tmp_path / "runs" / "char-gpt").exists() or not any(
        (tmp_path / "runs" / "char-gpt").iterdir()
    )


# --------------------------------------------------------------------------- run directories

SMOKE = ["run", "mlp-classifier", "--preset", "smoke", "--quiet"]


def a_smoke_run(root: Path, capsys) -> Path:
    assert main([*SMOKE, "--out", str(root)]) == 0
    capsys.readouterr()
    (run,) = root.glob("mlp-classifier/*")
    return run


def set_state(run: Path, state: str) -> None:
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "state": state}))


def test_run_files_follow_the_umask(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        run = a_smoke_run(tmp_path, capsys)
    finally:
        os.umask(old)
    for name in ["config.json", "status.json", "report.html", "checkpoints/last.pt"]:
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o644, name


def test_a_second_writer_is_refused_and_a_stale_lock_taken_over(tmp_path, capsys):
    from nnlab.runs.runner import LOCK, locked

    run = a_smoke_run(tmp_path, capsys)
    set_state(run, "running")
    with locked(run):  # another process writing the run
        one_line_error(capsys, ["run", "--resume", str(run)], f"pid {os.getpid()} on ")
    assert (run / LOCK).read_text().startswith(f"pid {os.getpid()}")  # left behind: stale
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    assert json.loads((run / "status.json").read_text())["state"] == "completed"


def test_resume_notices_an_edited_config(tmp_path, capsys):
    run = a_smoke_run(tmp_path, capsys)
    set_state(run, "failed")
    config = json.loads((run / "config.json").read_text())
    config["config"]["lr"] = config["config"]["lr"] * 2
    (run / "config.json").write_text(json.dumps(config))
    one_line_error(capsys, ["run", "--resume", str(run)], "was edited since the checkpoint")


def test_a_full_disk_leaves_a_failed_status_and_no_temporary_files(tmp_path, capsys, monkeypatch):
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the disk fills up when the checkpoint is written
        if "checkpoints" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    line = one_line_error(capsys, [*SMOKE, "--out", str(tmp_path)], "No space left on device")
    (run,) = tmp_path.glob("mlp-classifier/*")
    assert f"--resume {run}" in line
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "failed" and "No space left on device" in status["error"]
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    assert not (run / "checkpoints" / "last.pt").exists()


# --------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ({"n_layer": 1000, "n_head": 4, "n_embd": 128}, "setting 'n_layer' must be in [1, 96]"),
        # within the bounds, but its weights are not those of such a model (a real 8192-wide,
        # 24-layer one would take 77 GB; this one stays small if the shape check is missing)
        (
            {"n_layer": 8, "n_head": 8, "n_embd": 1024},
            "its architecture does not match its weights",
        ),
    ],
)
def test_a_checkpoint_cannot_choose_a_huge_model(tmp_path, capsys, size, expected):
    import torch

    (tmp_path / "checkpoints").mkdir()
    gpt_config = {"vocab_size": 4, "block_size": 16, **size}
    state = {"model": {}, "gpt_config": gpt_config, "chars": "abc\n"}
    torch.save(state, tmp_path / "checkpoints" / "best.pt")
    one_line_error(capsys, ["generate", str(tmp_path), "--tokens", "1"], expected)


def _huge_files(tmp_path):
    """(loader, path) pairs: files of a few KB whose architecture asks for gigabytes."""
    import torch

    from nnlab.models.autoencoders import autoencoder_from_state
    from nnlab.models.pretrained import load_model_file
    from nnlab.ocr.classifier import load_classifier_file

    cnn = {"input_shape": (1, 32, 32), "n_classes": 36, "channels": (4096, 4096)}
    cnn |= {"kernels": (5, 3), "hidden": (2**20,)}
    files = {
        "classifier": (
            load_classifier_file,
            {"cnn": cnn, "state_dict": {}, "class_names": ["a"], "mean": 0.0, "std": 1.0},
        ),
        "pretrained": (load_model_file, {"cnn": cnn, "state_dict": {}}),
        "autoencoder": (
            lambda p: autoencoder_from_state(torch.load(p, weights_only=True), str(p)),
            {"architecture": {"kind": "mlp", "sizes": [2**20, 2**16, 8]}, "state_dict": {}},
        ),
    }
    for name, (loader, payload) in files.items():
        torch.save(payload, tmp_path / f"{name}.pt")
        yield name, loader, tmp_path / f"{name}.pt"


def test_no_checkpoint_loader_builds_the_model_its_file_asks_for(tmp_path):
    # each would allocate 64 GB or more if it built the model before comparing with its weights
    for name, loader, path in _huge_files(tmp_path):
        with pytest.raises(DataError, match="architecture does not match its weights") as err:
            loader(path)
        assert "\n" not in str(err.value), name


def test_a_weight_cannot_claim_more_than_it_stores(tmp_path):
    import torch

    from nnlab.models.autoencoders import autoencoder_from_state

    # a 2**16 x 2**15 weight (8 GB as float32) over one stored float: an expanded view
    sizes = [2**15, 2**16]
    arch = {"kind": "mlp", "sizes": sizes}
    weights = {
        "encoder.0.weight": torch.zeros(1).expand(2**16, 2**15),
        "encoder.0.bias": torch.zeros(2**16),
        "decoder.0.weight": torch.zeros(1).expand(2**15, 2**16),
        "decoder.0.bias": torch.zeros(2**15),
    }
    torch.save({"architecture": arch, "state_dict": weights}, tmp_path / "ae.pt")
    state = torch.load(tmp_path / "ae.pt", weights_only=True)
    with pytest.raises(DataError, match="claims more than it stores"):
        autoencoder_from_state(state, "ae.pt")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # a 4096-channel U-Net (gigabytes) over no weights at all
        ({"unet": {"channels": (4096, 4096)}}, "architecture does not match its weights"),
        ({"schedule": {"kind": "linear", "T": 10**12}}, "schedule of T = 1000000000000"),
        ({"image_shape": [1, 10**6, 10**6]}, "images of shape"),
    ],
)
def test_a_ddpm_file_cannot_choose_what_sampling_allocates(tmp_path, change, expected):
    import torch

    from nnlab.diffusion.pipeline import DiffusionPipeline

    state = {"model": {}, "unet": {}, "schedule": {"kind": "linear", "T": 100}}
    state |= {"image_shape": [1, 8, 8], "clip_x0": True, **change}
    torch.save(state, tmp_path / "ema.pt")
    with pytest.raises(UserError, match=expected) as err:
        DiffusionPipeline.from_file(tmp_path / "ema.pt")
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- data


def test_torchvision_weights_are_not_downloaded_offline(tmp_path, monkeypatch):
    pytest.importorskip("torchvision")
    from nnlab.models.pretrained import imagenet_model

    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(UserError, match="NNLAB_OFFLINE is set, so nothing is downloaded"):
        imagenet_model("resnet18")
    assert not any(tmp_path.rglob("*.pth*"))


def test_downloads_and_zip_members_have_a_size_cap(monkeypatch):
    import io
    import zipfile

    from nnlab.data import registry

    class Response(io.BytesIO):
        headers = {"Content-Length": str(10**12)}

    monkeypatch.setattr(registry.urllib.request, "urlopen", lambda *a, **k: Response(b"x"))
    spec = types.SimpleNamespace(name="f.bin")
    with pytest.raises(ValueError, match="over the cap of 512 MiB"):
        registry._download_one("https://example.org/f", spec, progress=False)
    monkeypatch.setattr(registry, "MAX_DOWNLOAD_BYTES", 1000)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/IMAGES.mat", b"\0" * 100_000)  # 100 kB from a few hundred bytes
    with pytest.raises(ValueError, match="zip member IMAGES.mat is over the cap"):
        registry._extract_member(archive.getvalue(), "IMAGES.mat")


def test_a_file_without_a_registered_digest_keeps_the_first_downloads(tmp_path, monkeypatch):
    import hashlib

    from nnlab.data import registry

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    spec = registry.FileSpec("IMAGES.mat", None, None, ("https://example.org/IMAGES.mat",))
    ds = registry.Dataset("tofu-test", "a test", "none", (spec,))
    monkeypatch.setattr(registry, "_download_one", lambda *a: b"first content")
    path = registry._download(ds, spec, progress=False)
    recorded = path.with_name("IMAGES.mat.sha256").read_text().strip()
    assert recorded == hashlib.sha256(b"first content").hexdigest()
    registry.verify_file(path, spec, ds)
    path.write_bytes(b"other content")  # changed after the first download
    with pytest.raises(DataError, match=f"expected {recorded}"):
        registry.verify_file(path, spec, ds)
