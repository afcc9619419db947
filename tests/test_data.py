"""The data layer: IDX files, registry lookup/verification/download, loaders, toy sets."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from nnlab.data import (
    DATASETS,
    TOY_KINDS,
    load_dataset,
    load_idx_images,
    load_text,
    locate,
    make_toy,
    read_idx,
    registry,
    status,
    write_idx,
)
from nnlab.errors import DataError

FASHION_LABELS = "train-labels-idx1-ubyte.gz"
FASHION_LABELS_SHA = DATASETS["fashion-mnist"].files[1].sha256
IDX_NAMES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def sha256_of_content(path: Path) -> str:
    return hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()


def fake_mnist(directory: Path, monkeypatch, *, digests: bool, gz: bool = True) -> dict:
    """Write small MNIST-like IDX files into `directory` and register them as "mnist"."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": (np.arange(50) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": (np.arange(20) % 10).astype(np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for spec in DATASETS["mnist"].files:
        path = write_idx(directory / (spec.name if gz else spec.name[:-3]), arrays[spec.name])
        raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest() if digests else None
        files.append(dataclasses.replace(spec, sha256=digest, size=len(raw)))
    ds = dataclasses.replace(DATASETS["mnist"], files=tuple(files))
    monkeypatch.setitem(DATASETS, "mnist", ds)
    return arrays


# ---------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(1)
    for shape in [(7,), (3, 4), (2, 3, 5), (2, 1, 3, 2), (0, 4)]:
        array = (rng.normal(size=shape) * 100).astype(dtype)
        path = write_idx(tmp_path / f"a{len(shape)}.idx{suffix}", array)
        back = read_idx(path)
        assert back.dtype == np.dtype(dtype) and back.dtype.isnative
        assert back.shape == shape
        np.testing.assert_array_equal(back, array)
        assert back.flags.writeable


def test_idx_header_is_the_mnist_magic(tmp_path):
    path = write_idx(tmp_path / "x.idx", np.zeros((2, 28, 28), np.uint8))
    data = path.read_bytes()
    assert int.from_bytes(data[:4], "big") == 2051  # MNIST image files' magic number
    assert data[4:16] == (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    assert len(data) == 16 + 2 * 28 * 28
    path = write_idx(tmp_path / "y.idx", np.array([1, -2], np.int32))
    assert path.read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 255, 255, 255, 254])


def test_idx_truncated_or_not_idx_raises(tmp_path):
    path = write_idx(tmp_path / "x.idx", np.arange(24, dtype=np.int16).reshape(2, 3, 4))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataError, match="truncated") as e:
        read_idx(path)
    assert str(path) in str(e.value)

    gz = write_idx(tmp_path / "x.idx.gz", np.zeros((100, 28, 28), np.uint8) + 7)
    gz.write_bytes(gz.read_bytes()[:-20])
    with pytest.raises(DataError, match=str(gz)):
        read_idx(gz)

    (tmp_path / "text.idx").write_bytes(b"hello world")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "text.idx")

    with pytest.raises(ValueError, match="dtype"):
        write_idx(tmp_path / "bad.idx", np.zeros(3, np.uint16))


def test_emnist_style_transpose(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x.gz", images)
    write_idx(tmp_path / "y.gz", np.array([0, 1], np.uint8))
    x, y = load_idx_images(tmp_path / "x.gz", tmp_path / "y.gz", transpose=True)
    assert x.shape == (2, 4, 3) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x, images.transpose(0, 2, 1) / 255, rtol=1e-6)
    write_idx(tmp_path / "y3.gz", np.array([0, 1, 2], np.uint8))
    with pytest.raises(DataError, match="do not match"):
        load_idx_images(tmp_path / "x.gz", tmp_path / "y3.gz")


# ---------------------------------------------------------------------------- real data


def test_load_fashion_mnist_from_shared_data(shared_data, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    s = load_dataset("fashion-mnist")
    assert s.x_train.shape == (60000, 28, 28) and s.x_test.shape == (10000, 28, 28)
    assert s.x_train.dtype == np.float32 and s.y_train.dtype == np.int64
    assert s.x_train.min() == 0.0 and s.x_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(s.y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(s.y_test), [1000] * 10)
    assert s.class_names[0] == "T-shirt/top" and s.class_names[9] == "Ankle boot"
    assert s.num_classes == 10 and s.name == "fashion-mnist"
    [st] = status("fashion-mnist", verify=True)
    assert st.present and st.verified is True and st.source == "NNLAB_DATA"
    assert st.where == shared_data / "fashion-mnist"
    [st] = status("tinyshakespeare", verify=True)
    assert st.verified is True
    text = load_text("tinyshakespeare")
    assert len(text) == 1115394 and text.startswith("First Citizen")


def test_real_mnist_verifies_against_registered_digests(shared_data, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    assert all(spec.sha256 for spec in DATASETS["mnist"].files)
    [st] = status("mnist", verify=True)
    assert st.present and st.verified is True and st.message == "SHA-256 ok"
    s = load_dataset("mnist")
    assert s.x_train.shape == (60000, 28, 28) and s.x_test.shape == (10000, 28, 28)
    # the test set's label counts, as published with the data
    counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    np.testing.assert_array_equal(np.bincount(s.y_test), counts)


def test_second_locate_does_not_rehash(shared_data, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    locate("fashion-mnist")

    def fail(f):
        raise AssertionError("re-hashed a file already verified")

    monkeypatch.setattr(registry, "_hash_stream", fail)
    assert sorted(locate("fashion-mnist")) == sorted(IDX_NAMES)


def test_corrupt_file_is_reported_and_left_alone(shared_data, tmp_path, monkeypatch):
    raw = bytearray(gzip.decompress((shared_data / "fashion-mnist" / FASHION_LABELS).read_bytes()))
    raw[1000] ^= 0xFF
    bad = tmp_path / "fashion-mnist" / FASHION_LABELS
    bad.parent.mkdir()
    bad.write_bytes(gzip.compress(bytes(raw)))
    before = bad.read_bytes()
    # the corrupt copy comes first; the other three files come from the shared folder
    monkeypatch.setenv("NNLAB_DATA", f"{tmp_path}:{shared_data}")
    with pytest.raises(DataError) as e:
        load_dataset("fashion-mnist")
    message = str(e.value)
    assert str(bad) in message and "\n" not in message
    assert FASHION_LABELS_SHA in message and hashlib.sha256(raw).hexdigest() in message
    assert "restore" in message
    assert bad.read_bytes() == before
    [st] = status("fashion-mnist", verify=True)
    assert st.verified is False and str(bad) in st.message


def test_corrupt_file_in_cache_is_not_replaced(shared_data, env, monkeypatch):
    cached = env["cache"] / "fashion-mnist" / FASHION_LABELS
    cached.parent.mkdir(parents=True)
    raw = gzip.decompress((shared_data / "fashion-mnist" / FASHION_LABELS).read_bytes())
    cached.write_bytes(gzip.compress(raw[:-1]))  # one byte short
    for name in IDX_NAMES:
        if name != FASHION_LABELS:
            (cached.parent / name).symlink_to(shared_data / "fashion-mnist" / name)
    monkeypatch.delenv("NNLAB_OFFLINE")
    monkeypatch.setattr("urllib.request.urlopen", pytest.fail)  # must not download
    before = cached.read_bytes()
    with pytest.raises(DataError, match="nnlab data fetch fashion-mnist") as e:
        locate("fashion-mnist", download=True)
    assert str(cached) in str(e.value) and "60007 bytes, expected 60008" in str(e.value)
    assert cached.read_bytes() == before


def test_truncated_gzip(shared_data, tmp_path, monkeypatch):
    bad = tmp_path / FASHION_LABELS  # directly in the NNLAB_DATA dir is fine too
    data = (shared_data / "fashion-mnist" / FASHION_LABELS).read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    monkeypatch.setenv("NNLAB_DATA", f"{tmp_path}:{shared_data}")
    with pytest.raises(DataError) as e:
        locate("fashion-mnist")
    assert str(bad) in str(e.value) and FASHION_LABELS_SHA in str(e.value)
    assert "end-of-stream" in str(e.value)  # the decompression error
    assert bad.read_bytes() == data[: len(data) // 2]


# ---------------------------------------------------------------------------- mnist code path


@pytest.mark.parametrize("digests", [False, True])
def test_generated_mnist(env, monkeypatch, digests):
    arrays = fake_mnist(env["data"] / "mnist", monkeypatch, digests=digests)
    s = load_dataset("mnist")
    assert s.x_train.shape == (50, 28, 28) and s.x_test.shape == (20, 28, 28)
    np.testing.assert_allclose(s.x_train * 255, arrays["train-images-idx3-ubyte.gz"], atol=1e-4)
    np.testing.assert_array_equal(s.y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert s.class_names == [str(i) for i in range(10)]
    [st] = status("mnist", verify=True)
    assert st.present and st.where == env["data"] / "mnist"
    if digests:
        assert st.verified is True
    else:
        assert st.verified is None and "no checksum registered" in st.message


def test_generated_mnist_uncompressed_and_flat(env, monkeypatch):
    fake_mnist(env["data"], monkeypatch, digests=True, gz=False)  # <dir>/train-images-...
    paths = locate("mnist")
    assert paths["train-images-idx3-ubyte.gz"] == env["data"] / "train-images-idx3-ubyte"
    assert load_dataset("mnist").y_train.shape == (50,)


def test_size_mismatch_without_checksum(env, monkeypatch):
    fake_mnist(env["data"] / "mnist", monkeypatch, digests=False)
    spec = DATASETS["mnist"].files[0]
    files = (dataclasses.replace(spec, size=spec.size + 1), *DATASETS["mnist"].files[1:])
    monkeypatch.setitem(DATASETS, "mnist", dataclasses.replace(DATASETS["mnist"], files=files))
    with pytest.raises(DataError, match="no checksum registered"):
        load_dataset("mnist")


def test_missing_offline(env):
    with pytest.raises(DataError) as e:
        locate("mnist")
    message = str(e.value)
    assert "\n" not in message and "nnlab data fetch mnist" in message
    assert str(env["data"] / "mnist") in message and str(env["cache"] / "mnist") in message
    assert "NNLAB_DATA" in message
    with pytest.raises(DataError, match="NNLAB_OFFLINE is set"):
        locate("mnist", download=True)
    assert not env["cache"].exists()


def test_unknown_names():
    with pytest.raises(DataError, match="fashion-mnist"):
        load_dataset("cifar-10")
    with pytest.raises(DataError, match="make_toy"):
        load_dataset("spiral")
    with pytest.raises(DataError, match="load_text"):
        load_dataset("tinyshakespeare")
    with pytest.raises(DataError, match="tinyshakespeare"):
        status("nope")


def test_status_lists_embedded_and_generated(env):
    rows = {s.name: s for s in status()}
    assert set(rows) == set(DATASETS)
    assert rows["digits"].present and rows["digits"].source == "embedded"
    for kind in TOY_KINDS:
        assert rows[kind].present and rows[kind].source == "generated"
    assert not rows["mnist"].present and "nnlab data fetch mnist" in rows["mnist"].message
    assert locate("digits") == {}


# ---------------------------------------------------------------------------- download


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def serve(monkeypatch, content: dict[str, bytes]) -> list[str]:
    """Patch urlopen to serve `content[url]`; other URLs fail. Returns the URLs asked for."""
    asked = []

    def urlopen(request, timeout=None):
        asked.append(request.full_url)
        if request.full_url not in content:
            raise urllib.error.URLError("connection refused")
        return FakeResponse(content[request.full_url])

    monkeypatch.delenv("NNLAB_OFFLINE")
    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    return asked


def test_download_verifies_into_cache(shared_data, env, monkeypatch, capsys):
    text = (shared_data / "tinyshakespeare.txt").read_bytes()
    [url] = DATASETS["tinyshakespeare"].files[0].urls
    mirror = "https://mirror.example/tinyshakespeare.txt"
    spec = dataclasses.replace(DATASETS["tinyshakespeare"].files[0], urls=(url, mirror))
    ds = dataclasses.replace(DATASETS["tinyshakespeare"], files=(spec,))
    monkeypatch.setitem(DATASETS, "tinyshakespeare", ds)
    asked = serve(monkeypatch, {mirror: text})  # the official URL fails, the mirror works
    path = locate("tinyshakespeare", download=True)["tinyshakespeare.txt"]
    assert asked == [url, mirror]
    assert path == env["cache"] / "tinyshakespeare" / "tinyshakespeare.txt"
    assert path.read_bytes() == text
    assert capsys.readouterr() == ("", "")  # progress=False prints nothing
    [st] = status("tinyshakespeare", verify=True)
    assert st.source == "cache" and st.verified is True
    assert locate("tinyshakespeare") == {"tinyshakespeare.txt": path}  # no second download
    assert len(asked) == 2


def test_download_gz_files(env, monkeypatch, tmp_path):
    arrays = fake_mnist(tmp_path / "server", monkeypatch, digests=True)
    base = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    serve(monkeypatch, {base + n: (tmp_path / "server" / n).read_bytes() for n in arrays})
    s = registry.fetch("mnist", progress=False)
    assert sorted(p.name for p in (env["cache"] / "mnist").iterdir()) == sorted(IDX_NAMES)
    assert s["train-labels-idx1-ubyte.gz"].parent == env["cache"] / "mnist"
    np.testing.assert_array_equal(load_dataset("mnist").y_train, np.arange(50) % 10)


def test_corrupt_download_leaves_nothing(shared_data, env, monkeypatch):
    text = bytearray((shared_data / "tinyshakespeare.txt").read_bytes())
    text[5] ^= 1
    [url] = DATASETS["tinyshakespeare"].files[0].urls
    serve(monkeypatch, {url: bytes(text)})
    with pytest.raises(DataError) as e:
        locate("tinyshakespeare", download=True)
    assert "could not download" in str(e.value) and "\n" not in str(e.value)
    assert hashlib.sha256(text).hexdigest() in str(e.value)
    cache = env["cache"]
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


def test_truncated_gz_download_leaves_nothing(env, monkeypatch, tmp_path):
    arrays = fake_mnist(tmp_path / "server", monkeypatch, digests=False)
    base = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    serve(monkeypatch, {base + n: (tmp_path / "server" / n).read_bytes()[:-30] for n in arrays})
    with pytest.raises(DataError, match="could not download"):
        registry.fetch("mnist", progress=False)
    cache = env["cache"]
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


# ---------------------------------------------------------------------------- embedded


def test_digits():
    s = load_dataset("digits")
    assert s.x_train.shape == (1347, 8, 8) and s.x_test.shape == (450, 8, 8)
    assert s.x_train.dtype == np.float32 and s.y_train.dtype == np.int64
    assert s.x_train.min() == 0.0 and s.x_train.max() == 1.0
    train, test = np.bincount(s.y_train), np.bincount(s.y_test)
    assert np.all(np.abs(test / (train + test) - 0.25) < 0.02)  # stratified
    np.testing.assert_array_equal(load_dataset("digits").y_test, s.y_test)


# ---------------------------------------------------------------------------- toy sets


@pytest.mark.parametrize("kind", sorted(TOY_KINDS))
def test_toy_sets(kind):
    x, y = make_toy(kind, n=301, noise=0.0, seed=3)
    assert x.shape == (301, 2) and x.dtype == np.float64 and y.dtype == np.int64
    assert sorted(np.bincount(y)) == [150, 151]
    assert np.abs(x).max() < 2.0
    x2, y2 = make_toy(kind, n=301, noise=0.0, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make_toy(kind, n=301, seed=4)[0], x)
    # the two classes are learnable: leave-one-out 1-nearest-neighbour accuracy
    d = ((x[:, None] - x[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (y[d.argmin(1)] == y).mean() > 0.95


def test_toy_shapes_match_their_descriptions():
    x, y = make_toy("circle", n=500, noise=0.0)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[y == 1].max() <= 0.5 < 0.7 <= r[y == 0].min()
    x, y = make_toy("xor", n=500, noise=0.0)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(int))
    x, y = make_toy("gaussians", n=2000, noise=0.0)
    np.testing.assert_allclose(x[y == 1].mean(0), [0.6, 0.6], atol=0.05)
    clean, noisy = make_toy("xor", n=500, noise=0.0)[0], make_toy("xor", n=500, noise=0.3)[0]
    assert abs((noisy - clean).std() - 0.3) < 0.03  # noise is the std of added coordinates


def test_toy_bad_arguments():
    with pytest.raises(DataError, match="circle"):
        make_toy("checkerboard")
    for n in [0, -5, 2.5, True]:
        with pytest.raises(DataError, match="n must be"):
            make_toy("xor", n=n)
    for noise in [-0.1, float("nan"), "a lot"]:
        with pytest.raises(DataError, match="noise"):
            make_toy("xor", noise=noise)


def test_downloads_prefer_https_wherever_the_source_offers_it():
    from nnlab.data.registry import DATASETS

    http_only = {"IMAGES.mat"}  # the UFLDL exercise zip is published over http only
    for dataset in DATASETS.values():
        for spec in dataset.files:
            if spec.urls and spec.name not in http_only:
                assert spec.urls[0].startswith("https://"), (dataset.name, spec.urls[0])
