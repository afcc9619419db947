"""nnlab.diffusion.frechet: the Fréchet distance against closed forms and scipy, the shipped
digits extractor, sample quality of real digits and of noise against the real-data floor, the input
checks, and the MNIST extractor on the shared data (slow)."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg
import torch

from nnlab.data import load_dataset, trained
from nnlab.diffusion import frechet
from nnlab.diffusion.frechet import (
    extractor_info,
    feature_extractor,
    frechet_distance,
    real_floor,
    sample_quality,
    to_signed,
)
from nnlab.errors import DataError


def random_covariance(rng: np.random.Generator, d: int, rank: int | None = None) -> np.ndarray:
    a = rng.normal(size=(d, rank or d))
    return a @ a.T / (rank or d)


def rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return q


def digits_images(split: str = "test") -> torch.Tensor:
    data = load_dataset("digits")
    x = data.x_test if split == "test" else data.x_train
    return to_signed(torch.as_tensor(x)).unsqueeze(1)


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


# --------------------------------------------------------------------------- the distance


@pytest.mark.parametrize(
    ("mu1", "sd1", "mu2", "sd2"),
    [(0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 3.0, 1.0), (1.5, 0.5, -2.0, 2.0), (0.0, 0.0, 0.0, 4.0)],
)
def test_one_dimensional_gaussians_match_the_closed_form(mu1, sd1, mu2, sd2):
    expected = (mu1 - mu2) ** 2 + (sd1 - sd2) ** 2
    assert frechet_distance(mu1, sd1**2, mu2, sd2**2) == pytest.approx(expected, abs=1e-12)
    assert frechet_distance([mu1], [[sd1**2]], [mu2], [[sd2**2]]) == pytest.approx(
        expected, abs=1e-12
    )


def test_diagonal_and_commuting_covariances_match_the_closed_form():
    """Commuting covariances (diagonal in one rotated basis): the root of the product is the
    product of the roots, so the distance is |mu1 - mu2|² + sum (sqrt(a) - sqrt(b))². Zeros on
    the diagonal make both covariances singular."""
    rng = np.random.default_rng(0)
    d = 20
    a, b = rng.uniform(0, 3, d), rng.uniform(0, 3, d)
    a[:5] = 0.0
    b[3:8] = 0.0
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)
    r = rotation(rng, d)
    rotated = frechet_distance(mu1, r @ np.diag(a) @ r.T, mu2, r @ np.diag(b) @ r.T)
    assert rotated == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("rank", [None, 10])
def test_identical_gaussians_are_at_distance_zero(rank):
    """Also for a singular covariance (10 samples' worth of rank in 64 dimensions)."""
    rng = np.random.default_rng(1)
    mu, sigma = rng.normal(size=64), random_covariance(rng, 64, rank)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-8


def test_general_covariances_match_scipy_sqrtm_and_are_symmetric():
    rng = np.random.default_rng(2)
    for d in (2, 16, 128):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = random_covariance(rng, d), random_covariance(rng, d)
        root = scipy.linalg.sqrtm(s1 @ s2).real
        expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * root)
        got = frechet_distance(mu1, s1, mu2, s2)
        assert got == pytest.approx(expected, rel=1e-8), d
        assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(got, rel=1e-10)


def test_gaussian_estimates_converge_to_the_closed_form():
    """Sample statistics of two 3-D normals: the estimate approaches the true distance."""
    rng = np.random.default_rng(3)
    mu1, mu2 = np.zeros(3), np.array([1.0, 0.0, -1.0])
    s1, s2 = np.diag([1.0, 2.0, 0.5]), np.diag([4.0, 1.0, 0.5])
    x1 = rng.multivariate_normal(mu1, s1, size=200_000)
    x2 = rng.multivariate_normal(mu2, s2, size=200_000)
    estimate = frechet_distance(*frechet.gaussian(x1), *frechet.gaussian(x2))
    exact = 2.0 + (1 - 2) ** 2 + (np.sqrt(2) - 1) ** 2
    assert estimate == pytest.approx(exact, rel=0.02)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros(3), np.eye(3), np.zeros(2), np.eye(2)), "for one d"),
        ((np.zeros(3), np.eye(2), np.zeros(3), np.eye(3)), "covariances (2, 2) and (3, 3)"),
        ((np.zeros(2), np.full((2, 2), np.nan), np.zeros(2), np.eye(2)), "finite"),
    ],
)
def test_mismatched_or_non_finite_statistics_are_one_line_errors(args, message):
    with pytest.raises(ValueError) as exc:
        frechet_distance(*args)
    assert message in one_line(exc)


# --------------------------------------------------------------------------- the extractor


def test_digits_extractor_ships_with_its_digest_and_loads_the_same_twice():
    # corrupt or outdated shipped files: tests/test_trained.py
    first = feature_extractor("digits")
    assert first.path == trained.SHIPPED / "frechet" / "digits-cnn-v1.pt"
    assert first.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()
    assert first.sha256 == trained.read_manifest()["files"]["frechet/digits-cnn-v1.pt"]["sha256"]
    assert first.test_accuracy >= 0.98
    assert extractor_info("digits") == {
        "recipe": "digits-cnn-v1",
        "version": 1,
        "sha256": first.sha256,
        "test_accuracy": first.test_accuracy,
    }
    second = feature_extractor("digits")
    images = digits_images()
    f1, p1 = first.features_and_probabilities(images)
    f2, p2 = second.features_and_probabilities(images)
    assert f1.shape == (len(images), 32) and p1.shape == (len(images), 10)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(p1, p2)


def test_unknown_dataset_and_missing_mnist_are_one_line_data_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))  # no MNIST here
    with pytest.raises(DataError) as exc:
        feature_extractor("kmnist")
    assert "mnist, fashion-mnist, digits" in one_line(exc)
    for dataset in ("mnist", "fashion-mnist"):
        with pytest.raises(DataError) as exc:
            sample_quality(torch.zeros(4, 1, 28, 28), dataset)
        assert dataset in one_line(exc)


def test_importing_the_module_loads_neither_torch_nor_numpy():
    code = (
        "import sys, nnlab.diffusion.frechet\n"
        "heavy = {'torch', 'numpy', 'scipy', 'matplotlib'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- sample quality


def test_real_digits_score_at_the_floor_and_noise_far_above_it():
    floor = real_floor("digits", 450)
    assert floor["source"] == "train" and floor["n"] == 450 and floor["reference_n"] == 450

    other_real = real_floor("digits", 450, seed=1)  # another sample of training digits
    assert 0.5 * floor["frechet_distance"] < other_real["frechet_distance"]
    assert other_real["frechet_distance"] < 2 * floor["frechet_distance"]

    test = sample_quality(digits_images("test"), "digits")  # the reference itself
    assert test["frechet_distance"] < 1e-8
    assert test["mean_max_probability"] > 0.9
    fractions = test["class_fractions"]
    assert list(fractions) == [str(i) for i in range(10)]
    assert sum(fractions.values()) == pytest.approx(1.0)
    assert all(abs(f - 0.1) < 0.02 for f in fractions.values())  # digits are balanced
    assert test["extractor"] == extractor_info("digits")

    noise = torch.rand(450, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    noisy = sample_quality(noise, "digits")
    assert noisy["frechet_distance"] > 20 * floor["frechet_distance"]
    assert sum(noisy["class_fractions"].values()) == pytest.approx(1.0)

    # images left in [0, 1] pass the range check but are far from the data: convert them
    unconverted = torch.as_tensor(load_dataset("digits").x_test).unsqueeze(1)
    far = sample_quality(unconverted, "digits")["frechet_distance"]
    assert far > 5 * floor["frechet_distance"]


def test_n_uses_the_first_images_and_numpy_arrays_are_accepted():
    images = digits_images("train")
    first = sample_quality(images, "digits", n=200)
    assert first["n"] == 200
    same = sample_quality(images[:200].numpy().astype(np.float64), "digits")
    assert same["frechet_distance"] == pytest.approx(first["frechet_distance"], rel=1e-6)
    against_train = sample_quality(images, "digits", reference="train")
    assert against_train["reference"] == "train" and against_train["reference_n"] == len(images)
    assert against_train["frechet_distance"] < 1e-8


@pytest.mark.parametrize(
    ("images", "kwargs", "message"),
    [
        (torch.zeros(4, 8, 8), {}, "shape (N, 1, 8, 8), got (4, 8, 8)"),
        (torch.zeros(4, 3, 8, 8), {}, "shape (N, 1, 8, 8), got (4, 3, 8, 8)"),
        (torch.zeros(4, 1, 28, 28), {}, "shape (N, 1, 8, 8)"),
        (torch.zeros(4, 1, 8, 8, dtype=torch.uint8), {}, "floats in [-1, 1], got torch.uint8"),
        (torch.full((4, 1, 8, 8), float("nan")), {}, "NaN"),
        (torch.full((4, 1, 8, 8), 255.0), {}, "in [-1, 1]"),
        (torch.full((4, 1, 8, 8), -1.5), {}, "got values in [-1.5, -1.5]"),
        (torch.zeros(1, 1, 8, 8), {}, "at least 2 images"),
        (torch.zeros(4, 1, 8, 8), {"n": 5}, "between 2 and the 4 images"),
        (torch.zeros(4, 1, 8, 8), {"reference": "val"}, "reference must be one of test, train"),
        ([[0.0]], {}, "a tensor or an array, got list"),
    ],
)
def test_bad_images_are_one_line_errors(images, kwargs, message):
    with pytest.raises(ValueError) as exc:
        sample_quality(images, "digits", **kwargs)
    assert message in one_line(exc)


def test_floor_sizes_beyond_the_real_data_are_one_line_errors():
    with pytest.raises(ValueError) as exc:
        real_floor("digits", 5000)
    assert "between 2 and the 1347 digits train images" in one_line(exc)


# --------------------------------------------------------------------------- MNIST


@pytest.mark.slow
def test_mnist_extractor_recipe_reaches_99_percent_and_separates_noise(shared_data, monkeypatch):
    """The shipped MNIST extractor: ≥ 99% test accuracy, 128 features, and noised digits far
    above the real-data floor at n = 1,000."""
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    info = extractor_info("mnist")
    assert info["recipe"] == "mnist-cnn-v1" and info["test_accuracy"] >= 0.99
    floor = real_floor("mnist", 1000)
    assert floor["reference_n"] == 10_000 and floor["mean_max_probability"] > 0.95
    x = to_signed(torch.as_tensor(load_dataset("mnist").x_train[-1000:])).unsqueeze(1)
    noised = (x + 0.5 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(
        -1, 1
    )
    assert sample_quality(noised, "mnist")["frechet_distance"] > 10 * floor["frechet_distance"]
    features, _ = feature_extractor("mnist").features_and_probabilities(x[:10])
    assert features.shape == (10, 128)
