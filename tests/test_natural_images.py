"""Natural images whitened like Olshausen's IMAGES.mat, UFLDL's IMAGES.mat, patch sampling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import savemat

from nnlab.data import DATASETS, load_natural_images, status
from nnlab.data.natural_images import (
    F0_FRACTION,
    NATURAL_IMAGE_NAMES,
    _grey_square,
    load_ufldl_images,
    normalize_patches,
    olshausen_whiten,
    radial_power_spectrum,
    sample_patches,
    whiten,
)
from nnlab.errors import DataError


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """An n×n image whose Fourier amplitude is exactly 1/f, with the random phases of white
    noise (so the spectrum stays Hermitian): 'natural' second-order statistics."""
    f = np.hypot(np.fft.fftfreq(n)[:, None] * n, np.fft.rfftfreq(n)[None, :] * n)
    amplitude = np.divide(1.0, f, out=np.zeros_like(f), where=f > 0)
    noise = np.fft.rfft2(rng.normal(size=(n, n)))
    return np.fft.irfft2(amplitude * noise / np.abs(noise), s=(n, n))


def log_slope(f: np.ndarray, power: np.ndarray, lo: float, hi: float) -> float:
    keep = (f >= lo) & (f <= hi)
    return float(np.polyfit(np.log(f[keep]), np.log(power[keep]), 1)[0])


def test_whitening_makes_a_1_over_f_spectrum_flat_in_the_pass_band():
    n = 160  # f0 = 0.4 n = 64 cycles per image
    image = pink_noise(n, np.random.default_rng(0))
    f, raw = radial_power_spectrum(image)
    assert log_slope(f, raw, 2, 40) == pytest.approx(-2.0, abs=0.1)  # power ~ 1/f²
    assert raw[1] / raw[39] > 200

    f, white = radial_power_spectrum(whiten(image))
    f0 = F0_FRACTION * n
    # R(f)² = f² exp(-2 (f/f0)^4): flat once the roll-off is divided out, up to f0 ...
    flattened = white / np.exp(-2 * (f / f0) ** 4)
    band = (f >= 1) & (f <= f0)
    assert flattened[band].max() / flattened[band].min() < 1.05
    # ... and flat within 15% as it is, in the pass band f <= f0/2
    band = (f >= 1) & (f <= f0 / 2)
    assert white[band].max() / white[band].min() < 1.15
    # the cut-off sits where it should: power at f = f0 = 64 is e^-2 of the flat level
    level = flattened[(f >= 1) & (f <= f0)].mean()
    assert white[f == f0][0] / level == pytest.approx(np.exp(-2), rel=0.03)


def test_whitening_removes_the_mean_and_scales_to_variance_0_1():
    rng = np.random.default_rng(1)
    stack = np.stack([5.0 + 3.0 * pink_noise(64, rng) for _ in range(3)])
    out = olshausen_whiten(stack)
    assert out.shape == stack.shape
    assert np.abs(out.mean(axis=(1, 2))).max() < 1e-12
    assert out.var(axis=(1, 2)).mean() == pytest.approx(0.1, rel=1e-12)


def test_natural_images_are_whitened_tiles_with_variance_0_1():
    images = load_natural_images()
    assert images.shape == (23, 256, 256) and images.dtype == np.float64
    assert not images.flags.writeable
    assert images.var(axis=(1, 2)).mean() == pytest.approx(0.1, rel=1e-9)
    assert DATASETS["natural-images"].origin == "embedded"
    (row,) = status("natural-images")
    assert row.present and row.source == "embedded" and "scikit-image" in row.message


def test_whitening_flattens_the_photographs():
    """Photographs' power falls like f^-1.6 .. f^-3 (mean -2.5) between N/64 and N/4
    cycles/image; whitened, each is within ±1.1 of flat, and flat on average (±0.8)."""
    raw_slopes, white_slopes = [], []
    for name in NATURAL_IMAGE_NAMES:
        image = _grey_square(name)
        n = image.shape[0]
        raw_slopes.append(log_slope(*radial_power_spectrum(image), n / 64, n / 4))
        white_slopes.append(log_slope(*radial_power_spectrum(whiten(image)), n / 64, n / 4))
    assert np.mean(raw_slopes) < -2.0
    assert max(abs(s) for s in white_slopes) < 1.1
    assert abs(np.mean(white_slopes)) < 0.8


def test_bad_natural_image_arguments():
    with pytest.raises(DataError, match="between 16 and 300"):
        load_natural_images(size=400)
    with pytest.raises(DataError, match="unknown natural image"):
        load_natural_images(names=("text",))


def test_sample_patches_are_the_image_pixels_seeded_and_vectorised():
    rng = np.random.default_rng(2)
    images = rng.normal(size=(3, 20, 30))
    patches = sample_patches(images, 5, 1000, rng=7)
    assert patches.shape == (1000, 25) and patches.flags.c_contiguous
    np.testing.assert_array_equal(patches, sample_patches(images, 5, 1000, rng=7))
    assert not np.array_equal(patches, sample_patches(images, 5, 1000, rng=8))
    # every patch is a 5x5 window of one image, flattened row-major
    windows = {
        tuple(images[k, r : r + 5, c : c + 5].ravel())
        for k in range(3)
        for r in range(16)
        for c in range(26)
    }
    assert all(tuple(p) in windows for p in patches[:200])
    with pytest.raises(ValueError, match="exceeds"):
        sample_patches(images, 21, 10)


def test_patch_normalisation_range_and_steps():
    rng = np.random.default_rng(3)
    patches = rng.standard_t(df=3, size=(5000, 64)) + rng.normal(size=(5000, 1)) * 10
    out = normalize_patches(patches)
    assert out.min() >= 0.1 and out.max() <= 0.9
    assert out.min() == pytest.approx(0.1) and out.max() == pytest.approx(0.9)  # heavy tails clip
    # by hand: remove each patch's mean, truncate to ±3σ, divide by 3σ, map to [0.1, 0.9]
    centred = patches - patches.mean(axis=1, keepdims=True)
    s = 3 * centred.std()
    np.testing.assert_allclose(out, (np.clip(centred, -s, s) / s + 1) * 0.4 + 0.1)
    # the patch means (here up to ±30) are gone: unclipped patches average to 0.5
    inside = (np.abs(centred) < s).all(axis=1)
    np.testing.assert_allclose(out[inside].mean(axis=1), 0.5, atol=1e-12)


def test_ufldl_images_from_a_local_copy(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    images = rng.normal(size=(32, 32, 10)) * np.sqrt(0.1)  # MATLAB layout: 512x512x10
    savemat(tmp_path / "IMAGES.mat", {"IMAGES": images})
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    loaded = load_ufldl_images()
    assert loaded.shape == (10, 32, 32)
    np.testing.assert_array_equal(loaded[3], images[:, :, 3])
    (row,) = status("ufldl-images", verify=True)
    assert row.present and row.verified is None and "no checksum" in row.message


def test_ufldl_images_missing_or_not_a_mat_file(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="IMAGES.mat.*nnlab data fetch ufldl-images"):
        load_ufldl_images(download=True)  # NNLAB_OFFLINE is set by conftest
    (tmp_path / "IMAGES.mat").write_bytes(b"not a MATLAB file")
    with pytest.raises(DataError, match="is not UFLDL's IMAGES.mat"):
        load_ufldl_images()
    spec = DATASETS["ufldl-images"].files[0]
    assert spec.sha256 is None and spec.member == "IMAGES.mat"
    assert spec.urls == ("http://ufldl.stanford.edu/wiki/resources/sparseae_exercise.zip",)


def test_fetch_extracts_images_mat_from_the_exercise_zip(tmp_path, monkeypatch):
    """`nnlab data fetch ufldl-images` downloads the zip and keeps only IMAGES.mat."""
    import io
    import zipfile

    images = np.random.default_rng(5).normal(size=(16, 16, 10))
    mat = io.BytesIO()
    savemat(mat, {"IMAGES": images})
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("starter/train.m", "% the exercise's code")
        zf.writestr("starter/IMAGES.mat", mat.getvalue())
    served = []

    def download_one(url, spec, progress):
        served.append(url)
        return archive.getvalue()

    monkeypatch.setattr("nnlab.data.registry._download_one", download_one)
    monkeypatch.delenv("NNLAB_OFFLINE")
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    loaded = load_ufldl_images(download=True)
    assert served == list(DATASETS["ufldl-images"].files[0].urls)
    np.testing.assert_array_equal(loaded, np.moveaxis(images, -1, 0))
    cached = tmp_path / "cache" / "nnlab" / "ufldl-images"
    # the archive's member, and the digest of the first download (trust on first use)
    assert sorted(p.name for p in cached.iterdir()) == ["IMAGES.mat", "IMAGES.mat.sha256"]
