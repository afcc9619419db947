"""lenet: FC vs LeNet-style CNN on digits; CIFAR-10's binary format read from generated files."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from figcheck import check_figure
from nnlab.cli import main
from nnlab.data import CIFAR10_CLASSES, DATASETS, load_dataset
from nnlab.data.cifar10 import FOLDER, TEST_FILE, TRAIN_FILES, parse_cifar_binary
from nnlab.errors import DataError
from runs_helper import interrupted_run, one_line_error, resumes_identically, single_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_smoke_trains_both_networks_on_digits(tmp_path):
    assert main(["run", "lenet", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]) == 0
    run = single_run(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["dataset"] == "digits"
    for name in ("fc", "cnn"):
        assert summary[f"{name}_test_accuracy"] > 0.85  # 8x8 digits; chance is 0.10
        assert summary[f"{name}_parameters"] == summary["networks"][name]["parameters"]
    # FC 64 -> 64 -> 10; CNN conv3x3 1->8, conv3x3 8->16, 16*2*2 -> 64 -> 32 -> 10
    assert summary["fc_parameters"] == 64 * 64 + 64 + 64 * 10 + 10
    cnn = (9 * 8 + 8) + (9 * 8 * 16 + 16) + (64 * 64 + 64) + (64 * 32 + 32) + (32 * 10 + 10)
    assert summary["cnn_parameters"] == cnn
    # the FC network is seed 004's Q3 network (sigmoid), compared in validation accuracy as
    # the seed does (digits has no validation split: its test split stands in)
    assert summary["networks"]["fc"]["architecture"] == "64 - 64 sigmoid - 10"
    assert summary["validation_split"] == "test"
    assert summary["fc_val_accuracy"] == summary["networks"]["fc"]["test_accuracy"]
    assert summary["cnn_minus_fc"] == summary["cnn_val_accuracy"] - summary["fc_val_accuracy"]
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(1, 7))
    for name in ("fc", "cnn"):
        assert {f"{name}_train_loss", f"{name}_test_loss", f"{name}_test_accuracy"} <= set(
            lines[-1]
        )
        assert lines[-1][f"{name}_train_loss"] < 0.5 * lines[0][f"{name}_train_loss"]
    check_figure(run / "figures" / "learning_curves.png", min_size=(600, 230), panels=(1, 2))
    check_figure(run / "figures" / "networks.png", min_size=(650, 210))  # a table


@pytest.mark.parametrize(
    ("overrides", "message"),
    [(["kernels=5"], "one kernel size per convolution"), (["activation=swish"], "activation")],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, overrides, message):
    one_line_error(tmp_path, capsys, "lenet", overrides, message)


# ----------------------------------------------------------------------------- CIFAR-10


def cifar_records(n: int, seed: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n records in CIFAR-10's binary format, and the (N, 32, 32, 3) uint8 images and labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    planes = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # R plane, G plane, B plane
    raw = np.concatenate([labels[:, None], planes], axis=1).tobytes()
    return raw, images, labels.astype(np.int64)


def write_cifar(root: Path, as_tarball: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    files = {name: cifar_records(7, seed) for seed, name in enumerate((*TRAIN_FILES, TEST_FILE))}
    if as_tarball:
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(root / "cifar-10-binary.tar.gz", "w:gz") as tar:
            for name, (raw, _, _) in files.items():
                info = tarfile.TarInfo(f"{FOLDER}/{name}")
                info.size = len(raw)
                tar.addfile(info, io.BytesIO(raw))
    else:
        (root / FOLDER).mkdir(parents=True)
        for name, (raw, _, _) in files.items():
            (root / FOLDER / name).write_bytes(raw)
    return {name: (images, labels) for name, (_, images, labels) in files.items()}


def test_parse_cifar_binary_reads_label_byte_then_rgb_planes():
    raw, images, labels = cifar_records(5, seed=0)
    x, y = parse_cifar_binary(raw)
    assert x.shape == (5, 32, 32, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(x, images / 255.0, atol=1e-7)
    # by hand: pixel (row 2, column 3) of record 1 is at 1 + c * 1024 + 2 * 32 + 3
    record = np.frombuffer(raw, np.uint8)[3073 : 2 * 3073]
    for c in range(3):
        assert x[1, 2, 3, c] == pytest.approx(record[1 + c * 1024 + 2 * 32 + 3] / 255.0)


def test_parse_cifar_binary_rejects_truncated_and_bad_labels():
    raw, _, _ = cifar_records(2, seed=1)
    with pytest.raises(DataError, match="multiple of the 3073-byte record"):
        parse_cifar_binary(raw[:-1])
    bad = bytes([10]) + raw[1:]
    with pytest.raises(DataError, match="labels are 0-9"):
        parse_cifar_binary(bad)


@pytest.mark.parametrize("as_tarball", [True, False])
@pytest.mark.parametrize("subdir", [True, False])
def test_load_dataset_cifar10_from_generated_files(tmp_path, monkeypatch, as_tarball, subdir):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    files = write_cifar(tmp_path / "cifar10" if subdir else tmp_path, as_tarball)
    data = load_dataset("cifar10")
    assert data.name == "cifar10" and data.class_names == CIFAR10_CLASSES
    assert data.x_train.shape == (35, 32, 32, 3) and data.x_test.shape == (7, 32, 32, 3)
    train_images = np.concatenate([files[n][0] for n in TRAIN_FILES])
    np.testing.assert_allclose(data.x_train, train_images / 255.0, atol=1e-7)
    np.testing.assert_array_equal(data.y_train, np.concatenate([files[n][1] for n in TRAIN_FILES]))
    np.testing.assert_array_equal(data.y_test, files[TEST_FILE][1])


def test_cifar10_is_registered_with_the_official_binary_url_and_missing_is_a_clear_error(
    tmp_path, monkeypatch
):
    (spec,) = DATASETS["cifar10"].files
    assert spec.urls == ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    with pytest.raises(DataError, match="nnlab data fetch cifar10"):
        load_dataset("cifar10", download=True)


def test_tarball_without_the_batches_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with tarfile.open(tmp_path / "cifar-10-binary.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")  # the pickled version
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(DataError, match="lacks cifar-10-batches-bin/data_batch_1.bin"):
        load_dataset("cifar10")


def test_smoke_runs_on_generated_cifar10(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_cifar(tmp_path / "data", as_tarball=True)
    args = ["run", "lenet", "--preset", "smoke", "--quiet", "--set", "dataset=cifar10"]
    assert main([*args, "--set", "epochs=1", "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((single_run(tmp_path / "out") / "summary.json").read_text())
    # 3 input channels: the FC net sees 3072 inputs, the first conv 3 channels
    assert summary["fc_parameters"] == 3072 * 64 + 64 + 64 * 10 + 10
    assert summary["networks"]["cnn"]["architecture"].startswith("conv3x3:8")


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    args = ["run", "lenet", "--preset", "smoke", "--quiet", "--set", "epochs=3"]
    assert main([*args, "--out", str(tmp_path / "ref")]) == 0
    cut, _ = interrupted_run(
        tmp_path / "cut", monkeypatch, args, stop=lambda states: len(states) == 1
    )
    resumes_identically(cut, single_run(tmp_path / "ref"))
