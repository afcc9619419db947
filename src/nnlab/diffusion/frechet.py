"""Sample quality under one fixed protocol: the Fréchet distance between real and generated
images in the features of a fixed classifier (a "Fréchet classifier distance").

FID (Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to a local
Nash equilibrium", NeurIPS) fits a Gaussian to Inception-v3 features of real images and one to
those of generated images and reports the Fréchet distance between the two. Inception
features mean little on 28x28 greyscale digits, and MNIST has no standard FID; for such data
the FID authors advise the statistics of one of the last layers of a classifier trained on the
dataset, and warn that the number then compares only with numbers from the same classifier
(github.com/bioinf-jku/TTUR issue 24). So here the classifier is pinned:

* **Extractor.** nnlab's `CNN` trained by the fixed `RECIPES[dataset]` (seed, architecture,
  epochs, optimizer, schedule) on the dataset's training split, on one CPU thread (which is
  also the fastest on shared cores), its weights rounded to float16. It ships with nnlab as
  `nnlab/trained/frechet/<dataset>-cnn-v<version>.pt` (see `nnlab.data.trained`; `nnlab
  retrain frechet` rebuilds it); `extractor_info(dataset)` gives the recipe version, the
  SHA-256 of that file and the extractor's test accuracy. Training is seeded and
  single-threaded, so it repeats byte for byte on one machine, but another torch build or CPU
  may round differently: quote the digest with every number, as two numbers compare only
  under one.
* **Images** are float (N, 1, H, W) in [-1, 1], the diffusion convention. The extractor was
  trained on dataset images converted the same way (`to_signed`: x in [0, 1] -> 2x - 1), so
  real and generated images go through one conversion.
* **Features**: the activations of the classifier's last hidden layer (128 after ReLU for
  MNIST and Fashion-MNIST, 32 for the 8x8 digits), in eval mode, in float64.
* **Distance**: `frechet_distance` between the Gaussians with the sample mean and covariance
  of the images' features and of the reference split's (by default the whole test set:
  10,000 images for MNIST).
* **Floor**: `real_floor(dataset, n)` scores n real training images, drawn at random, against
  the same test reference: what a generator reproducing the data exactly would get with n
  samples (it includes MNIST's small train/test difference). The estimate is biased upwards
  for small n, so read a number beside the floor at the same n.

    images = sampler(...)                        # (N, 1, 28, 28) in [-1, 1]
    sample_quality(images, "mnist")              # frechet_distance, mean_max_probability, ...
    real_floor("mnist", len(images))             # the same for real digits
    extractor_info("mnist")                      # {"recipe": "mnist-cnn-v1", "sha256": ...}

Measured by `NNLAB_DATA=../shared/data python benchmarks/bench_frechet.py` (torch 2.13 CPU)
with the shipped MNIST extractor, test accuracy 99.26%, weights sha256
aa8c478654914f76e6f9f536221538988ed9835669952ebffe524fcf5fc3b317 (float16; training it took
115-130 s wall on 2 shared cores). Against the 10,000 test images:

    real training images, n = 1,000 (the floor)      6.6
    real training images, n = 10,000 (the floor)     2.4
    the floor's 1,000, blurred sigma 0.5 / 1 / 2 px  32 / 308 / 918
    the same with Gaussian noise sigma 0.1 / 0.25 / 0.5 (clamped)   9.4 / 33 / 152
    uniform noise in [-1, 1], n = 1,000              1262 (mean max probability 1.000)

With the same recipe's float32 weights (sha256 dd757976...; the same numbers as above to the
digits shown) the floor at n = 1,000 over seeds 0-4 was 6.3 to 10.4, with all 60,000 training
images 1.8, two disjoint halves of the test set (5,000 each) 3.3, and Fashion-MNIST's extractor
(91.00% test accuracy, also unchanged in float16) gave a floor of 2.9 at n = 1,000 and 0.75 at
n = 10,000.
The mean max probability alone says little: the MNIST classifier is certain about uniform
noise (all of it one class); the class fractions show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnlab.errors import DataError
from nnlab.training.settings import CNNRecipe

if TYPE_CHECKING:
    import numpy as np
    import torch

    from nnlab.data.trained import TrainedPart
    from nnlab.models.cnn import CNN

#: Slack allowed outside [-1, 1] for rounding in a sampler's last step.
RANGE_TOLERANCE = 1e-4


@dataclass(frozen=True, kw_only=True)
class Recipe(CNNRecipe):
    """How a feature extractor is trained: a shipped CNN's recipe with the width of its last
    hidden layer, the features' dimension."""

    features: int

    def name(self, dataset: str) -> str:
        return f"{dataset}-cnn-v{self.version}"


RECIPES: dict[str, Recipe] = {
    "mnist": Recipe(version=1, channels=(16, 32), kernels=(5, 3), features=128, epochs=3),
    "fashion-mnist": Recipe(version=1, channels=(16, 32), kernels=(5, 3), features=128, epochs=3),
    # the 8x8 scikit-learn digits, for smoke tests: trains in seconds
    "digits": Recipe(
        version=1, channels=(16, 32), kernels=(3, 3), features=32, epochs=20, batch_size=64
    ),
}


def recipe(dataset: str) -> Recipe:
    """The fixed training recipe of `dataset`'s extractor; DataError for any other dataset."""
    if dataset not in RECIPES:
        raise DataError(
            f"no Fréchet feature extractor for {dataset!r}; choose one of: {', '.join(RECIPES)}"
        )
    return RECIPES[dataset]


def trained_parts() -> dict[str, TrainedPart]:
    """Every extractor as a shipped part (`nnlab.data.trained`)."""
    from nnlab.data.trained import TrainedPart

    def trainer(dataset: str) -> Callable[[bool], dict[str, Any]]:
        return lambda progress: _train(dataset, recipe(dataset), progress=progress)

    return {
        dataset: TrainedPart("frechet", dataset, rec.name(dataset), rec, trainer(dataset))
        for dataset, rec in RECIPES.items()
    }


def to_signed(x):
    """Images in [0, 1] (as nnlab's loaders give them) to the [-1, 1] of diffusion models."""
    return x * 2.0 - 1.0


# --------------------------------------------------------------------------- the extractor


@dataclass
class FeatureExtractor:
    """A trained classifier loaded from its shipped file, with the file's SHA-256."""

    dataset: str
    recipe: Recipe
    model: CNN
    sha256: str
    test_accuracy: float
    path: Path

    def info(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.name(self.dataset),
            "version": self.recipe.version,
            "sha256": self.sha256,
            "test_accuracy": self.test_accuracy,
        }

    def features_and_probabilities(
        self, images: torch.Tensor, batch_size: int = 1000
    ) -> tuple[np.ndarray, np.ndarray]:
        """(N, features) activations of the last hidden layer in float64, and (N, classes)
        class probabilities, of (N, 1, H, W) float images in [-1, 1] (not checked here)."""
        import torch

        self.model.eval()
        features, probabilities = [], []
        with torch.no_grad():
            for batch in images.split(batch_size):
                hidden = self.model.penultimate(batch)
                logits = self.model.head.net[-1](hidden)
                features.append(hidden.double())
                probabilities.append(torch.softmax(logits.double(), dim=1))
        return torch.cat(features).numpy(), torch.cat(probabilities).numpy()


def _build(rec: Recipe, input_shape: tuple[int, ...], n_classes: int) -> CNN:
    from nnlab.models.cnn import CNN

    return CNN(input_shape, n_classes, rec.channels, rec.kernels, (rec.features,), rec.dropout)


def _image_tensor(x: np.ndarray) -> torch.Tensor:
    """(N, H, W) float images in [0, 1] as an (N, 1, H, W) float32 tensor in [-1, 1]."""
    import torch

    return to_signed(torch.as_tensor(x, dtype=torch.float32)).unsqueeze(1).contiguous()


def _train(
    dataset: str, rec: Recipe, *, download: bool = False, progress: bool = False
) -> dict[str, Any]:
    """Train `dataset`'s extractor by its recipe; the file's payload (weights rounded to
    float16, as they ship; recipe; test accuracy), which depends only on the recipe, the data
    and the torch build."""
    import torch

    from nnlab.data import load_dataset
    from nnlab.data.trained import round_to_float16
    from nnlab.training.classifier import evaluate, train_by_recipe
    from nnlab.training.threads import torch_threads

    data = load_dataset(dataset, download=download, progress=progress)
    x_train, y_train = _image_tensor(data.x_train), torch.as_tensor(data.y_train)
    x_test, y_test = _image_tensor(data.x_test), torch.as_tensor(data.y_test)
    shape = tuple(x_train.shape[1:])
    model = train_by_recipe(
        rec,
        lambda: _build(rec, shape, data.num_classes),
        x_train,
        y_train,
        desc=f"training the {rec.name(dataset)} feature extractor",
        progress=progress,
    )
    round_to_float16(model)
    with torch_threads(1):
        _, accuracy, _ = evaluate(model, x_test, y_test)
    return {
        "dataset": dataset,
        "recipe": asdict(rec),
        "input_shape": list(x_train.shape[1:]),
        "n_classes": data.num_classes,
        "test_accuracy": accuracy,
        "state_dict": model.state_dict(),
    }


def feature_extractor(dataset: str = "mnist") -> FeatureExtractor:
    """`dataset`'s shipped extractor. DataError for another dataset, or if its file is corrupt
    or was built by another recipe than the code's (see `nnlab.data.trained`); the dataset
    itself is not needed."""
    from nnlab.data.trained import load

    rec = recipe(dataset)
    shipped = load(trained_parts()[dataset])
    payload = shipped.payload
    try:
        model = _build(rec, tuple(payload["input_shape"]), payload["n_classes"])
        model.load_state_dict(payload["state_dict"])  # float16 in the file, float32 here
        accuracy = float(payload["test_accuracy"])
    except Exception:  # keys missing, tensors of the wrong shapes
        raise DataError(
            f"{shipped.path} is unreadable; reinstall nnlab or run `nnlab retrain frechet`"
        ) from None
    model.eval()
    return FeatureExtractor(dataset, rec, model, shipped.sha256, accuracy, shipped.path)


def extractor_info(dataset: str = "mnist") -> dict[str, Any]:
    """{"recipe", "version", "sha256", "test_accuracy"} of `dataset`'s shipped extractor."""
    return feature_extractor(dataset).info()


# --------------------------------------------------------------------------- the distance


def gaussian(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and covariance (N - 1 normalisation) of (N, d) features, in float64."""
    import numpy as np

    f = np.asarray(features, dtype=np.float64)
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix; eigenvalues below
    zero (rounding in a near-singular matrix) count as zero."""
    import numpy as np

    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet (2-Wasserstein squared) distance between N(mu1, sigma1) and N(mu2, sigma2):
    ||mu1 - mu2||² + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)).

    The trace of the matrix root is the sum of the square roots of the eigenvalues of
    S = sigma1^(1/2) sigma2 sigma1^(1/2), which has the same eigenvalues as sigma1 sigma2 but
    is symmetric positive semi-definite, so `eigvalsh` applies and singular covariances
    (fewer samples than dimensions) need no regularising offset. Float64 throughout; a
    result below zero from rounding is returned as 0. Scalars are 1-D means and variances.
    """
    import numpy as np

    mu1, mu2 = (np.atleast_1d(np.asarray(m, dtype=np.float64)) for m in (mu1, mu2))
    s1, s2 = (np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in (sigma1, sigma2))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            f"means must have shape (d,) and covariances (d, d) for one d; got means "
            f"{mu1.shape} and {mu2.shape}, covariances {s1.shape} and {s2.shape}"
        )
    if not all(np.isfinite(a).all() for a in (mu1, mu2, s1, s2)):
        raise ValueError("means and covariances must be finite; got NaN or infinity")
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    root1 = _psd_sqrt(s1)
    middle = root1 @ s2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_root = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_root
    return max(float(distance), 0.0)


# --------------------------------------------------------------------------- sample quality

_REFERENCES: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, int]] = {}
SPLITS = ("test", "train")


def check_images(images, input_shape: tuple[int, ...]) -> torch.Tensor:
    """`images` (a tensor or array) as a float32 CPU tensor, or a one-line ValueError unless
    they are float (N, C, H, W) of `input_shape`, finite and in [-1, 1], with N >= 2."""
    import numpy as np
    import torch

    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"images must be a tensor or an array, got {type(images).__name__}")
    want = f"(N, {', '.join(map(str, input_shape))})"
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(input_shape):
        raise ValueError(f"images must have shape {want}, got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(
            f"images must be floats in [-1, 1], got {images.dtype}; for uint8 pixels p use "
            "p / 127.5 - 1"
        )
    if len(images) < 2:
        raise ValueError(f"need at least 2 images for a covariance, got {len(images)}")
    images = images.detach().to("cpu", torch.float32)
    if not torch.isfinite(images).all():
        raise ValueError("images contain NaN or infinity")
    low, high = images.min().item(), images.max().item()
    if low < -1 - RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        raise ValueError(
            f"images must be in [-1, 1] (the diffusion convention; x in [0, 1] is 2x - 1), "
            f"got values in [{low:.4g}, {high:.4g}]"
        )
    return images.contiguous()


def _check_split(split: str, what: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"{what} must be one of {', '.join(SPLITS)}, got {split!r}")


def _split(dataset: str, split: str, download: bool) -> tuple[np.ndarray, np.ndarray]:
    from nnlab.data import load_dataset

    _check_split(split, "split")
    data = load_dataset(dataset, download=download)
    return (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)


def _reference(
    extractor: FeatureExtractor, reference: str, download: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """(mean, covariance, size) of the reference split's features, kept for the process."""
    key = (extractor.sha256, reference)
    if key not in _REFERENCES:
        x, _ = _split(extractor.dataset, reference, download)
        features, _ = extractor.features_and_probabilities(_image_tensor(x))
        _REFERENCES[key] = (*gaussian(features), len(features))
    return _REFERENCES[key]


def sample_quality(
    images,
    dataset: str = "mnist",
    reference: str = "test",
    n: int | None = None,
    *,
    download: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """How close (N, 1, H, W) images in [-1, 1] are to `dataset`, in the features of its fixed
    extractor (shipped with nnlab):

    * `frechet_distance` of the first `n` images (all by default) against the whole
      `reference` split ("test" or "train"): 0 is identical statistics; read it beside
      `real_floor(dataset, n)`;
    * `mean_max_probability`: the classifier's mean confidence in its top class;
    * `class_fractions`: the fraction of images predicted as each class, by class name;
    * `n`, `reference`, `reference_n`, `dataset` and `extractor` (see `extractor_info`).
    """
    import numpy as np

    from nnlab.data import CLASS_NAMES

    _check_split(reference, "reference")
    extractor = feature_extractor(dataset)
    images = check_images(images, tuple(extractor.model.input_shape))
    if n is not None:
        if not 2 <= n <= len(images):
            raise ValueError(f"n must be between 2 and the {len(images)} images given, got {n}")
        images = images[:n]
    mu_ref, sigma_ref, reference_n = _reference(extractor, reference, download)
    features, probabilities = extractor.features_and_probabilities(images)
    distance = frechet_distance(*gaussian(features), mu_ref, sigma_ref)
    counts = np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1])
    names = CLASS_NAMES[dataset]
    return {
        "dataset": dataset,
        "frechet_distance": distance,
        "mean_max_probability": float(probabilities.max(axis=1).mean()),
        "class_fractions": {
            name: float(c) / len(images) for name, c in zip(names, counts, strict=True)
        },
        "n": len(images),
        "reference": reference,
        "reference_n": reference_n,
        "extractor": extractor.info(),
    }


def real_images(
    dataset: str, n: int, split: str = "train", *, seed: int = 0, download: bool = False
) -> torch.Tensor:
    """`n` images of `dataset`'s `split` drawn at random without replacement (`seed`), in
    their order in the split, as (n, 1, H, W) float32 in [-1, 1]."""
    import numpy as np

    x, _ = _split(dataset, split, download)
    if not 2 <= n <= len(x):
        raise ValueError(f"n must be between 2 and the {len(x)} {dataset} {split} images, got {n}")
    pick = np.random.default_rng([seed, 13]).choice(len(x), size=n, replace=False)
    return _image_tensor(x[np.sort(pick)])


def real_floor(
    dataset: str = "mnist",
    n: int = 1000,
    reference: str = "test",
    *,
    seed: int = 0,
    download: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """`sample_quality` of `real_images(dataset, n, seed=seed)` from the split that is not the
    reference (training images against the test reference): the score of a generator that
    reproduces the data exactly, at the same n. Adds `source` and `seed`."""
    _check_split(reference, "reference")
    source = "train" if reference == "test" else "test"
    images = real_images(dataset, n, source, seed=seed, download=download)
    result = sample_quality(images, dataset, reference, download=download, progress=progress)
    return {**result, "source": source, "seed": seed}
