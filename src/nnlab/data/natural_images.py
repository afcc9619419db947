"""Whitened natural images, prepared like Olshausen's IMAGES.mat, and patches sampled from them.

Two sources of ten-or-so whitened grey images, each an array (M, N, N) float64:

- ``load_natural_images()`` (dataset ``natural-images``, embedded): the photographs of natural
  scenes that scikit-image ships (no download), ``NATURAL_IMAGE_NAMES``, prepared as
  Olshausen & Field's sparsenet images were (``whiten``):

  1. each image, converted to grey and cut to its largest centred square at its native
     resolution (no resampling: shrinking would blur the finest scale, whose statistics
     matter for 8×8 patches), is normalised to zero mean and unit variance;
  2. it is whitened in the Fourier domain by R(f) = f·exp(−(f/f0)⁴), f the radial frequency
     in cycles per image and f0 = 0.4·N: natural images have an amplitude spectrum falling
     like 1/f, so multiplying by f flattens it (whitens), and the exponential cuts the corner
     frequencies above ~0.4 cycles/pixel, where noise and aliasing live;
  3. the whitened square is cut into non-overlapping ``size``×``size`` tiles (default 256: a
     512² photo gives 4, the 300-427-pixel ones 1, centred), which also drops the border
     where the FFT's wrap-around leaves artefacts;
  4. all tiles are scaled together so that their mean variance is 0.1.

- ``load_ufldl_images()`` (dataset ``ufldl-images``): the UFLDL exercise's own IMAGES.mat,
  ten whitened 512×512 images (from the sparse-coding work of Olshausen & Field), read with
  ``scipy.io.loadmat``. Found in ``$NNLAB_DATA`` or the cache, or fetched from the exercise's
  zip, http://ufldl.stanford.edu/wiki/resources/sparseae_exercise.zip.

``sample_patches`` draws random square patches (vectorised, seeded) and
``normalize_patches`` scales them for sigmoid outputs as UFLDL's ``sampleIMAGES.m`` does.
"""

from __future__ import annotations

import functools

import numpy as np

from nnlab.data.digest import note_dataset
from nnlab.errors import DataError

Array = np.ndarray

#: scikit-image sample photographs used for ``natural-images`` (their short sides are 300 to 512
#: pixels): natural textures (grass, gravel, the moon's surface) and photographs of scenes
#: in natural light (a cat, a landscape with a rocket and trees, a cameraman on a meadow, a
#: cup of coffee, an astronaut). Left out: drawings, text, microscopy, synthetic and binary
#: images, the tiny or mostly black ones (coins, hubble_deep_field), and the brick wall,
#: whose regular man-made grid would over-represent horizontal and vertical edges.
NATURAL_IMAGE_NAMES: tuple[str, ...] = (
    "grass",
    "gravel",
    "moon",
    "chelsea",
    "rocket",
    "camera",
    "coffee",
    "astronaut",
)

#: Olshausen's whitening cut-off, as a fraction of the image size N.
F0_FRACTION = 0.4
#: Variance of the prepared images (Olshausen's IMAGES.mat convention).
TARGET_VARIANCE = 0.1
#: Largest tile: the short side of the smallest photograph (chelsea, 300x451).
MAX_TILE = 300


# --------------------------------------------------------------------------- whitening


def radial_frequency(n: int) -> Array:
    """|f| in cycles per image on the grid of ``np.fft.rfft2`` of an n×n image, (n, n//2+1)."""
    fy = np.fft.fftfreq(n) * n
    fx = np.fft.rfftfreq(n) * n
    return np.hypot(fy[:, None], fx[None, :])


def whitening_filter(n: int, f0_fraction: float = F0_FRACTION) -> Array:
    """R(f) = f·exp(−(f/f0)⁴), f0 = ``f0_fraction``·n, on the ``rfft2`` grid of an n×n image."""
    f = radial_frequency(n)
    return f * np.exp(-((f / (f0_fraction * n)) ** 4))


def whiten(image: Array, f0_fraction: float = F0_FRACTION) -> Array:
    """One square image normalised (zero mean, unit variance), then filtered by R(f)."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or image.shape[0] != image.shape[1]:
        raise ValueError(f"whiten needs a square 2-D image, got shape {image.shape}")
    std = image.std()
    if std == 0:
        raise ValueError("whiten: the image is constant")
    image = (image - image.mean()) / std
    n = image.shape[0]
    spectrum = np.fft.rfft2(image) * whitening_filter(n, f0_fraction)
    return np.fft.irfft2(spectrum, s=image.shape)


def olshausen_whiten(
    images: Array, f0_fraction: float = F0_FRACTION, variance: float = TARGET_VARIANCE
) -> Array:
    """Olshausen's preparation of a stack (M, N, N): ``whiten`` each image, then scale all by
    one factor so the mean of the images' variances is ``variance`` (sparsenet's
    ``IMAGES = sqrt(0.1)*IMAGES/sqrt(mean(var(IMAGES)))``)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"images must be a stack (M, N, N), got shape {images.shape}")
    white = np.stack([whiten(image, f0_fraction) for image in images])
    return white * np.sqrt(variance / white.var(axis=(1, 2)).mean())


def radial_power_spectrum(image: Array, n_bins: int | None = None) -> tuple[Array, Array]:
    """Power |F(f)|² of a square image averaged over rings of radial frequency.

    Returns (f, power): ring centres in cycles per image (1, 2, ... N/2) and the mean power
    in each ring (the DC term is left out).
    """
    image = np.asarray(image, dtype=np.float64)
    n = image.shape[0]
    power = np.abs(np.fft.rfft2(image)) ** 2
    f = radial_frequency(n)
    n_bins = n_bins or n // 2
    ring = np.rint(f).astype(int)
    keep = (ring >= 1) & (ring <= n_bins)
    # rfft2 stores the columns 1 .. n/2-1 once for two conjugate halves: weight them twice
    weight = np.full(f.shape, 2.0)
    weight[:, 0] = 1.0
    if n % 2 == 0:
        weight[:, -1] = 1.0
    sums = np.bincount(ring[keep], weights=(power * weight)[keep], minlength=n_bins + 1)
    counts = np.bincount(ring[keep], weights=weight[keep], minlength=n_bins + 1)
    centres = np.arange(1, n_bins + 1)
    return centres.astype(float), sums[1:] / counts[1:]


# --------------------------------------------------------------------------- sources


def _grey_square(name: str) -> Array:
    """scikit-image's sample image ``name``, grey in [0, 1], cut to its largest centred square."""
    import skimage.data
    from skimage.color import rgb2gray

    image = getattr(skimage.data, name)()
    if image.ndim == 3:
        image = rgb2gray(image[..., :3])
    image = np.asarray(image, dtype=np.float64)
    if image.max() > 1.0:
        image = image / 255.0
    h, w = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return image[top : top + side, left : left + side]


def tiles(image: Array, size: int) -> list[Array]:
    """The non-overlapping ``size``×``size`` tiles of a square image, on a centred grid."""
    k = image.shape[0] // size
    off = (image.shape[0] - k * size) // 2
    return [
        image[off + i * size : off + (i + 1) * size, off + j * size : off + (j + 1) * size]
        for i in range(k)
        for j in range(k)
    ]


@functools.lru_cache(maxsize=4)
def _natural_images(names: tuple[str, ...], size: int) -> Array:
    pieces = [t for name in names for t in tiles(whiten(_grey_square(name)), size)]
    stack = np.stack(pieces)
    stack *= np.sqrt(TARGET_VARIANCE / stack.var(axis=(1, 2)).mean())
    stack.flags.writeable = False
    return stack


def load_natural_images(size: int = 256, names: tuple[str, ...] = NATURAL_IMAGE_NAMES) -> Array:
    """scikit-image's natural photographs, whitened like IMAGES.mat, as ``size``² tiles.

    Returns (tiles, size, size) float64 with mean variance 0.1 (read-only; cached). With the
    default 256 the eight photographs give 23 tiles (4 from each 512² one).
    """
    if not 16 <= size <= MAX_TILE:
        raise DataError(
            f"natural-images tile size must be between 16 and {MAX_TILE} pixels, got {size}"
        )
    unknown = [n for n in names if n not in NATURAL_IMAGE_NAMES]
    if unknown:
        raise DataError(
            f"unknown natural image(s) {', '.join(unknown)}; "
            f"choose from {', '.join(NATURAL_IMAGE_NAMES)}"
        )
    images = _natural_images(tuple(names), int(size))
    note_dataset("natural-images", {"images": images}, size=int(size), names=list(names))
    return images


def load_ufldl_images(*, download: bool = False, progress: bool = False) -> Array:
    """UFLDL's IMAGES.mat: (10, 512, 512) float64, already whitened (variance ≈ 0.1)."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    from nnlab.data.registry import locate

    path = locate("ufldl-images", download=download, progress=progress)["IMAGES.mat"]
    try:
        images = np.asarray(loadmat(path)["IMAGES"])
    except (OSError, ValueError, KeyError, TypeError, MatReadError, NotImplementedError) as exc:
        raise DataError(
            f"{path} is not UFLDL's IMAGES.mat (a MATLAB file with a 512x512x10 array "
            f"IMAGES): {exc}; restore it from sparseae_exercise.zip"
        ) from None
    if images.ndim != 3:
        raise DataError(f"{path}: IMAGES has shape {images.shape}, expected 512x512x10")
    return np.ascontiguousarray(np.moveaxis(images, -1, 0), dtype=np.float64)


# --------------------------------------------------------------------------- colour

#: The colour photographs among ``NATURAL_IMAGE_NAMES`` (the others are grey).
COLOUR_IMAGE_NAMES: tuple[str, ...] = ("chelsea", "rocket", "coffee", "astronaut")


@functools.lru_cache(maxsize=1)
def _colour_images() -> tuple[Array, ...]:
    import skimage.data

    images = []
    for name in COLOUR_IMAGE_NAMES:
        image = np.asarray(getattr(skimage.data, name)()[..., :3], dtype=np.float32) / 255.0
        image.flags.writeable = False
        images.append(image)
    return tuple(images)


def load_colour_images() -> tuple[Array, ...]:
    """scikit-image's colour photographs ``COLOUR_IMAGE_NAMES`` as they are (no whitening, no
    resampling): float32 (H, W, 3) RGB in [0, 1], read-only, cached."""
    images = _colour_images()
    note_dataset("colour-images", dict(zip(COLOUR_IMAGE_NAMES, images, strict=True)))
    return images


def colour_patches(
    images, patch_size: int, n: int, part: str, test_fraction: float = 0.25, rng=0
) -> Array:
    """``n`` random ``patch_size``² RGB patches (n, 3, p, p) float32, each from an image drawn
    uniformly: from the left 1 − ``test_fraction`` of its columns for ``part="train"``, from
    the right ``test_fraction`` for ``part="test"`` (`column_part`), so the two never share a
    pixel. Seeded by ``rng``."""
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    regions = [column_part(image, test_fraction, part) for image in images]
    small = [r.shape for r in regions if min(r.shape[:2]) < patch_size]
    if small:
        raise DataError(
            f"patch size {patch_size} does not fit the {part} regions of the photographs "
            f"(smallest {min(min(s[:2]) for s in small)} pixels); choose a smaller one"
        )
    rng = np.random.default_rng(rng)
    which = rng.integers(0, len(regions), n)
    out = np.empty((n, 3, patch_size, patch_size), dtype=np.float32)
    for k, i in enumerate(which):
        h, w, _ = regions[i].shape
        top = rng.integers(0, h - patch_size + 1)
        left = rng.integers(0, w - patch_size + 1)
        out[k] = regions[i][top : top + patch_size, left : left + patch_size].transpose(2, 0, 1)
    return out


def column_part(image: Array, test_fraction: float, part: str = "test") -> Array:
    """The right ``test_fraction`` of an image's columns (``part="test"``) or the rest."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    cut = image.shape[1] - int(round(image.shape[1] * test_fraction))
    return image[:, cut:] if part == "test" else image[:, :cut]


# --------------------------------------------------------------------------- patches


def sample_patches(
    images: Array, patch_size: int, n: int, rng: int | np.random.Generator = 0
) -> Array:
    """``n`` random ``patch_size``² patches from a stack (M, H, W), flattened row-major:
    (n, patch_size²). Image and position are drawn uniformly (seeded), all at once."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must be a stack (M, H, W), got shape {images.shape}")
    m, h, w = images.shape
    if patch_size > min(h, w):
        raise ValueError(f"patch size {patch_size} exceeds the {h}x{w} images")
    rng = np.random.default_rng(rng)
    which = rng.integers(0, m, n)
    top = rng.integers(0, h - patch_size + 1, n)
    left = rng.integers(0, w - patch_size + 1, n)
    offsets = np.arange(patch_size)
    rows = (top[:, None] + offsets)[:, :, None]  # (n, p, 1)
    cols = (left[:, None] + offsets)[:, None, :]  # (n, 1, p)
    patches = images[which[:, None, None], rows, cols]  # (n, p, p)
    return np.ascontiguousarray(patches.reshape(n, patch_size * patch_size), dtype=np.float64)


def normalize_patches(patches: Array) -> Array:
    """UFLDL's normalisation for sigmoid outputs, on (n, pixels):

    subtract each patch's own mean; truncate to ±3 standard deviations (one σ over all
    pixels of all patches); divide by 3σ, giving [−1, 1]; map that to [0.1, 0.9].
    """
    patches = np.asarray(patches, dtype=np.float64)
    centred = patches - patches.mean(axis=1, keepdims=True)
    limit = 3.0 * centred.std()
    if limit == 0:
        return np.full_like(centred, 0.5)
    scaled = np.clip(centred, -limit, limit) / limit
    return (scaled + 1.0) * 0.4 + 0.1
