"""chars36: fonts found, split by font, generated images, cache, the EMNIST path, status."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import NearestCentroid

from nnlab.data import DATASETS, ArraySplits, load_dataset, status, write_idx
from nnlab.data import chars36 as c36
from nnlab.data.chars36 import Font, find_fonts, load_chars36, split_fonts
from nnlab.errors import DataError


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ArraySplits:
    """Two samples per (font, character), generated once for the module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
        return load_chars36(source="fonts", samples_per_glyph=2, seed=0)


# ---------------------------------------------------------------------------- fonts


def test_fonts_found_and_symbol_fonts_skipped(env):
    fonts = find_fonts()
    families = {f.family for f in fonts}
    # matplotlib's bundled text fonts are always there
    assert {"DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono", "STIXGeneral", "cmr10"} <= families
    # symbol fonts map ASCII to other glyphs or to nothing
    for skipped in ["cmsy10", "cmex10", "STIXSizeOneSym", "STIXNonUnicode", "DejaVu Sans Display"]:
        assert skipped not in families
    assert not any(f.family.startswith("Last Resort") for f in fonts)
    names = [(f.family, f.style) for f in fonts]
    assert len(names) == len(set(names)) and names == sorted(names)


def test_default_fonts_come_with_nnlab_not_with_the_machine(env):
    import matplotlib

    homes = [Path(matplotlib.get_data_path())] + [c36._package_dir(p) for p in c36.FONT_PACKAGES]
    fonts = find_fonts()
    assert all(any(f.path.is_relative_to(h) for h in homes) for f in fonts)
    # every declared font package contributes (its fonts pass the glyph checks)
    assert {"Amatic SC", "Intuitive", "Fredoka One", "Caladea", "Lato", "Hanken Grotesk"} <= {
        f.family for f in fonts
    }
    assert set(find_fonts("system")) >= set(fonts)
    with pytest.raises(DataError, match="unknown chars36 fonts 'comic'; choose one of: bundled"):
        find_fonts("comic")


def test_split_by_font_is_disjoint_stratified_and_seeded():
    sizes = {"Sans": 9, "Serif": 4, "Hand": 3, "A": 1, "B": 1, "C": 2, "D": 1}
    fonts = [
        Font(Path(f"/fonts/{fam}{i}.ttf"), fam, f"Style {i}")
        for fam, n in sizes.items()
        for i in range(n)
    ]
    splits = split_fonts(fonts, seed=0)
    sets = {name: set(fs) for name, fs in splits.items()}
    assert sets["train"] | sets["val"] | sets["test"] == set(fonts)
    assert sum(len(s) for s in sets.values()) == len(fonts)  # disjoint
    for name in ["val", "test"]:
        assert {f.family for f in sets[name]} >= {"Sans", "Serif", "Hand"}  # each big family
        assert any(f.family in "ABCD" for f in sets[name])  # and the pooled small ones
    assert {f.family for f in sets["train"]} >= {"Sans", "Serif", "Hand"}
    assert split_fonts(fonts, seed=0) == splits
    assert any(split_fonts(fonts, seed=s)["test"] != splits["test"] for s in range(1, 4))
    with pytest.raises(DataError, match="at least 3 usable fonts"):
        split_fonts(fonts[:2])


def test_real_fonts_split_keeps_test_fonts_out_of_training(env):
    splits = split_fonts(find_fonts(), seed=0)
    train = {f.name for f in splits["train"]}
    assert splits["val"] and splits["test"]
    assert train.isdisjoint(f.name for f in splits["test"])
    assert train.isdisjoint(f.name for f in splits["val"])


# ---------------------------------------------------------------------------- generated


def test_generated_shapes_dtype_range_and_classes(generated, env):
    s = generated
    n_fonts = {k: len(v) for k, v in split_fonts(find_fonts(), seed=0).items()}
    assert s.name == "chars36" and s.num_classes == 36
    assert s.class_names == list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for split in ["train", "val", "test"]:
        x, y = getattr(s, f"x_{split}"), getattr(s, f"y_{split}")
        assert x.shape == (36 * 2 * n_fonts[split], 32, 32) and x.dtype == np.float32
        assert y.shape == (len(x),) and y.dtype == np.int64
        assert x.min() >= 0.0 and x.max() <= 1.0
        # every class, equally often (2 samples per font)
        np.testing.assert_array_equal(np.bincount(y, minlength=36), 2 * n_fonts[split])
        # dark ink on white: the border is paper, and every image has some ink
        assert x[:, 0, :].mean() > 0.85
        assert (x.reshape(len(x), -1).min(axis=1) < 0.5).all()
    assert len(s.y_train) > len(s.y_val) > 0


def test_same_seed_same_images_other_seed_differs(tmp_path, monkeypatch, env):
    first = load_chars36(source="fonts", samples_per_glyph=1, seed=3)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-cache"))  # regenerate
    again = load_chars36(source="fonts", samples_per_glyph=1, seed=3)
    other = load_chars36(source="fonts", samples_per_glyph=1, seed=4)
    for split in ["train", "val", "test"]:
        for key in ["x", "y"]:
            np.testing.assert_array_equal(
                getattr(first, f"{key}_{split}"), getattr(again, f"{key}_{split}")
            )
    assert other.x_train.shape != first.x_train.shape or not np.array_equal(
        other.x_train, first.x_train
    )


def test_cache_hit_returns_identical_arrays_without_rendering(env, monkeypatch):
    first = load_chars36(source="fonts", samples_per_glyph=1, seed=5)
    assert len(list((env["cache"] / "chars36").glob("fonts-*.npz"))) == 1

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered again despite the cache")

    monkeypatch.setattr(c36, "render_fonts", no_rendering)
    cached = load_chars36(source="fonts", samples_per_glyph=1, seed=5)
    np.testing.assert_array_equal(cached.x_train, first.x_train)
    np.testing.assert_array_equal(cached.y_test, first.y_test)
    np.testing.assert_array_equal(cached.x_val, first.x_val)
    bright = load_chars36(source="fonts", samples_per_glyph=1, seed=5, ink="bright")
    np.testing.assert_allclose(bright.x_test, 1.0 - first.x_test, atol=1e-6)
    with pytest.raises(AssertionError, match="rendered again"):  # other parameters: no hit
        load_chars36(source="fonts", samples_per_glyph=1, seed=5, augment=c36.Augmentation.none())


def test_nearest_centroid_recognises_unseen_test_fonts(generated):
    s = generated
    model = NearestCentroid().fit(s.x_train.reshape(len(s.x_train), -1), s.y_train)
    accuracy = model.score(s.x_test.reshape(len(s.x_test), -1), s.y_test)
    assert accuracy > 0.3  # chance is 1/36 = 0.028


# ---------------------------------------------------------------------------- EMNIST


def fake_emnist(directory: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    """EMNIST byclass-like IDX files: labels 0..61 cycling, one lit pixel at stored (3, 20)."""
    arrays = {}
    for split, n in [("train", 124), ("test", 62)]:
        images = np.zeros((n, 28, 28), np.uint8)
        images[:, 3, 20] = 255  # column-major storage: upright, this is row 20, column 3
        arrays[f"{split}-images-idx3-ubyte.gz"] = images
        arrays[f"{split}-labels-idx1-ubyte.gz"] = (np.arange(n) % 62).astype(np.uint8)
    files = []
    for spec in DATASETS["emnist-byclass"].files:
        short = spec.name.removeprefix("emnist-byclass-")
        path = write_idx(directory / spec.name, arrays[short])
        files.append(dataclasses.replace(spec, size=len(gzip.decompress(path.read_bytes()))))
    ds = dataclasses.replace(DATASETS["emnist-byclass"], files=tuple(files))
    monkeypatch.setitem(DATASETS, "emnist-byclass", ds)
    return arrays


def test_emnist_digits_and_uppercase_upright_and_padded(env, monkeypatch):
    fake_emnist(env["data"], monkeypatch)
    s = load_chars36(source="emnist", ink="bright", seed=0)
    assert s.x_train.shape[1:] == (32, 32) and s.x_train.dtype == np.float32
    labels = np.concatenate([s.y_train, s.y_val])
    # 124 training images, labels 0..61 twice: 72 are digits or uppercase; 10% validation
    np.testing.assert_array_equal(np.sort(labels), np.repeat(np.arange(36), 2))
    assert len(s.y_val) == 7 and s.y_train.dtype == np.int64
    np.testing.assert_array_equal(np.sort(s.y_test), np.arange(36))
    # transposed upright, then padded by 2 on each side
    lit = np.zeros((32, 32), np.float32)
    lit[20 + 2, 3 + 2] = 1.0
    for x in [s.x_train, s.x_val, s.x_test]:
        np.testing.assert_array_equal(x, np.broadcast_to(lit, x.shape))
    dark = load_chars36(source="emnist", seed=0)
    np.testing.assert_array_equal(dark.x_test, 1.0 - s.x_test)
    assert load_chars36(seed=1).y_val.tolist() != s.y_val.tolist()  # auto: EMNIST; seeded


def test_auto_status_and_load_dataset_use_emnist_when_present(env, monkeypatch):
    assert status("chars36")[0].source.startswith("generated (")
    fake_emnist(env["data"], monkeypatch)
    line = status("chars36")[0]
    assert line.present and line.source == "EMNIST" and line.where == env["data"]
    s = load_dataset("chars36")
    assert isinstance(s, ArraySplits) and s.x_val is not None and len(s.y_test) == 36


def test_status_shows_number_of_fonts(env):
    line = status("chars36")[0]
    assert line.present and line.source == f"generated ({len(find_fonts())} fonts)"
    assert c36.chars36_source() == line.source


def test_missing_emnist_and_bad_arguments_are_clear_errors(env):
    with pytest.raises(DataError, match="'emnist-balanced' is not available"):
        load_chars36(source="emnist")
    with pytest.raises(DataError, match=r"unknown chars36 source 'nist36'; choose one of: auto"):
        load_chars36(source="nist36")
    with pytest.raises(DataError, match="unknown chars36 ink"):
        load_chars36(ink="blue")
    for bad in [0, 1.5, True]:
        with pytest.raises(DataError, match="samples_per_glyph must be an integer >= 1"):
            load_chars36(source="fonts", samples_per_glyph=bad)
    with pytest.raises(DataError, match="seed must be an integer >= 0"):
        load_chars36(source="fonts", seed=-1)
    with pytest.raises(DataError, match="use nnlab.data.load_dataset\\('chars36'\\)"):
        load_dataset("emnist-byclass")


def test_array_splits_without_validation_still_work():
    x, y = np.zeros((2, 4, 4), np.float32), np.zeros(2, np.int64)
    s = ArraySplits(x, y, x, y, ["a"], "tiny")
    assert s.x_val is None and s.y_val is None and s.num_classes == 1
