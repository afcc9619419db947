"""chars36: 36 classes of characters, '0'-'9' then 'A'-'Z', as 32x32 grey images.

The stand-in for the NIST36 set of the course (seed 004, Q3-Q5). Images are float32 in
[0, 1] of shape (N, 32, 32), labels int64 in 0..35 indexing `CLASS_NAMES`. By default the
ink is **dark on a white background** (ink 0, paper 1), as in NIST36 and in scanned pages
that the OCR pipeline crops; `ink="bright"` gives MNIST/EMNIST's bright ink on black
(exactly `1 - x`). Note that NIST36 ordered its classes A-Z then 0-9; chars36 uses 0-9 then
A-Z.

Two sources:

* **EMNIST** (`emnist-balanced`, else `emnist-byclass`) when its IDX files are present
  (see README.md): the digits and uppercase letters (labels 0-35; the lowercase classes
  are dropped), transposed upright and zero-padded from 28x28 to 32x32. EMNIST has no
  validation split: a seeded 10% of its training set is held out.
* **Generated**: every character of every usable font that nnlab's own installation
  brings -- matplotlib's bundled DejaVu, STIX and Computer Modern, and the font packages
  nnlab depends on (`FONT_PACKAGES`: hand-drawn Amatic SC, Intuitive and Fredoka One,
  Caladea, Lato, Hanken Grotesk) -- so the data are the same on every machine. System fonts
  join only when asked (`fonts="system"`). Each glyph is rasterised once and then drawn
  `samples_per_glyph` times with random rotation, scale, aspect, shear, translation,
  elastic distortion (Simard et al. 2003), stroke width, blur, contrast and noise, to come
  close to the variability of handwriting. Train, validation and test use **disjoint
  fonts** (stratified by font family), so test fonts are never seen in training.
  Deterministic for a seed; cached as an .npz; `dataset_digest` names its content.

    from nnlab.data.chars36 import load_chars36
    s = load_chars36()                # ArraySplits with x_val / y_val
    s = load_chars36(source="fonts", samples_per_glyph=4, seed=1)
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import warnings
import zipfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageDraw, ImageFont, features

from nnlab.data.digest import array_digest, note_dataset
from nnlab.data.idx import read_idx
from nnlab.data.registry import DatasetStatus, cache_dir, get, locate, status
from nnlab.data.splits import ArraySplits
from nnlab.errors import DataError
from nnlab.io import atomic_write_bytes

CLASS_NAMES: list[str] = list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
SOURCES = ("auto", "emnist", "fonts")
INKS = ("dark", "bright")
FONT_POOLS = ("bundled", "system")  # bundled: matplotlib's and FONT_PACKAGES'; system: + all
# Font packages from PyPI that nnlab depends on (pinned in pyproject.toml: the data depend
# on their exact files). Each holds its .ttf/.otf files inside the package.
FONT_PACKAGES = (
    "font_amatic_sc",
    "font_intuitive",
    "font_fredoka_one",
    "font_caladea",
    "font_lato",
    "font_hanken_grotesk",
)
EMNIST_VARIANTS = ("emnist-balanced", "emnist-byclass")  # the first present one is used
SIZE = 32
SPLIT_FRACTIONS = {"val": 0.15, "test": 0.15}  # of the fonts of each family; the rest train
DEFAULT_SAMPLES_PER_GLYPH = 20
GENERATOR_VERSION = 2  # bump when the generated images change, to invalidate caches

_MASTER = 64  # side of the rasterised glyph images augmentation samples from
_MASTER_GLYPH = 48  # longer side of a glyph in its master image
_OUT_GLYPH = 22.0  # longer side of a glyph in a 32x32 image at scale 1
_RENDER_SIZE = 96  # font size (pixels) glyphs are rendered at before resizing
_THICKNESS = (-2, -1, 0, 1, 2, 3)  # stroke variants: erosion (<0) / dilation radius, master px
_DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_GLYPH_NAMES = dict(zip("0123456789", _DIGIT_NAMES, strict=True))  # letters: the letter
_GENERIC_GLYPH_NAME = re.compile(r"(glyph|cid|gid|g)\d+")


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random distortions; each sample draws its own values uniformly.

    The elastic distortion follows Simard, Steinkraus & Platt (ICDAR 2003): a field of
    displacements uniform in [-1, 1] per pixel, smoothed by a Gaussian of `elastic_sigma`
    pixels and scaled by `elastic_alpha` (they used alpha 34, sigma 4 on 28x28 digits)."""

    rotation: float = 12.0  # degrees, in [-rotation, rotation]
    scale: tuple[float, float] = (0.8, 1.1)  # of a 22-pixel glyph
    aspect: float = 0.15  # width stretched by a factor in [1 - aspect, 1 + aspect]
    shear: float = 0.25  # horizontal shear factor in [-shear, shear]
    shift: float = 2.0  # pixels, on each axis
    thickness: bool = True  # thinner or bolder strokes (grey erosion / dilation)
    elastic_alpha: float = 12.0  # 0: no elastic distortion
    elastic_sigma: float = 4.0
    blur: float = 1.0  # Gaussian sigma in [0, blur] pixels (in steps of 0.25)
    contrast: float = 0.4  # ink darkness in [1 - contrast, 1] of full, paper in [0, contrast / 2]
    noise: float = 0.08  # standard deviation of additive Gaussian noise, in [0, noise]

    @classmethod
    def none(cls) -> Augmentation:
        """Clean, centred glyphs."""
        return cls(0.0, (1.0, 1.0), 0.0, 0.0, 0.0, False, 0.0, 4.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Font:
    """A usable font file; `family` groups its styles (e.g. "DejaVu Sans", "Bold")."""

    path: Path
    family: str
    style: str

    @property
    def name(self) -> str:
        return f"{self.family} {self.style}"


# ---------------------------------------------------------------------------- fonts


def _font_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".ttf", ".otf"))


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            f"the font package {name} is not installed; reinstall nnlab "
            f"(`pip install -e .`) to get the fonts chars36 is rendered from"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_font_paths() -> list[Path]:
    """matplotlib's bundled fonts, then those of `FONT_PACKAGES` (found without importing
    either, so `nnlab data list` stays fast)."""
    paths = _font_files(_package_dir("matplotlib") / "mpl-data" / "fonts" / "ttf")
    for package in FONT_PACKAGES:
        paths += _font_files(_package_dir(package))
    return paths


def _candidate_paths(fonts: str) -> list[Path]:
    """The bundled fonts first, then (`fonts="system"`) the system's, sorted."""
    paths = bundled_font_paths()
    if fonts == "system":
        from matplotlib import font_manager

        system = {Path(p) for p in font_manager.findSystemFonts(fontext="ttf")}
        paths += sorted(system - set(paths))
    return paths


def _maps_ascii_to_text(path: Path) -> bool:
    """True if the font's Unicode cmap sends 0-9 and A-Z to glyphs named like them.

    Catches TeX symbol fonts (cmsy10 maps "0" to `prime`, cmex10 "A" to a brace piece) and
    fonts without those characters; fonts with anonymous glyph names pass.
    """
    from fontTools.ttLib import TTFont, TTLibError

    try:
        cmap = TTFont(path, lazy=True, fontNumber=0).getBestCmap() or {}
    except (OSError, TTLibError, ValueError, KeyError, AssertionError, IndexError):
        return False
    for char in CLASS_NAMES:
        name = cmap.get(ord(char))
        expected = _GLYPH_NAMES.get(char, char)
        if name is None or not (
            name.startswith(expected)
            or _GENERIC_GLYPH_NAME.fullmatch(name)
            or name.lower() in (f"uni{ord(char):04x}", f"u{ord(char):04x}")
        ):
            return False
    return True


def _render(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    """The glyph of `char`, cropped to its ink (uint8, bright on black; (0, 0) if empty)."""
    left, top, right, bottom = font.getbbox(char)
    image = Image.new("L", (right - left + 4, bottom - top + 4))
    ImageDraw.Draw(image).text((2 - left, 2 - top), char, font=font, fill=255)
    ink = np.asarray(image)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return np.zeros((0, 0), np.uint8)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _renders_all(path: Path) -> bool:
    """Every character renders, differs from the font's missing-glyph box, and at least
    30 of the 36 glyphs differ from each other (a font may draw O and 0 alike)."""
    font = ImageFont.truetype(str(path), 32)
    missing = _render(font, "\U0010fffd")  # a private-use code point: the .notdef glyph
    glyphs = [_render(font, char) for char in CLASS_NAMES]
    if any(g.size == 0 or np.array_equal(g, missing) for g in glyphs):
        return False
    return len({(g.shape, g.tobytes()) for g in glyphs}) >= 30


def _scan_fonts(candidates: tuple[Path, ...]) -> list[Font]:
    fonts: dict[tuple[str, str], Font] = {}
    for path in candidates:
        try:
            family, style = ImageFont.truetype(str(path), 32).getname()
        except OSError:  # unreadable file or a format FreeType cannot load
            continue
        key = (family or path.stem, style or "Regular")
        if key in fonts or not _maps_ascii_to_text(path) or not _renders_all(path):
            continue
        fonts[key] = Font(path, *key)
    return sorted(fonts.values(), key=lambda f: (f.family, f.style))


@lru_cache(maxsize=len(FONT_POOLS))
def _find_fonts(candidates: tuple[Path, ...]) -> tuple[Font, ...]:
    """The scan takes about half a second, so its result is also cached on disk, keyed by
    the candidate files' paths, sizes and modification times."""
    stamps = [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in candidates]
    key = hashlib.sha256(json.dumps([GENERATOR_VERSION, stamps]).encode()).hexdigest()[:20]
    path = cache_dir() / "chars36" / f"fontscan-{key}.json"
    try:
        return tuple(Font(Path(p), fam, style) for p, fam, style in json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        pass  # not cached yet (or unreadable): scan
    fonts = _scan_fonts(candidates)
    _write_cache(path, json.dumps([[str(f.path), f.family, f.style] for f in fonts]).encode())
    return tuple(fonts)


def _write_cache(path: Path, data: bytes) -> None:
    """Best effort: an unwritable cache only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError as e:
        warnings.warn(f"could not write the chars36 cache {path}: {e}", stacklevel=3)


def find_fonts(fonts: str = "bundled") -> list[Font]:
    """Every usable font of the pool, one per (family, style), sorted: those that have proper
    glyphs for 0-9 and A-Z among the bundled fonts (`"bundled"`), or among the bundled and
    the system's TrueType/OpenType fonts (`"system"`)."""
    if fonts not in FONT_POOLS:
        raise DataError(f"unknown chars36 fonts {fonts!r}; choose one of: {', '.join(FONT_POOLS)}")
    return list(_find_fonts(tuple(_candidate_paths(fonts))))


def split_fonts(fonts: list[Font], seed: int = 0) -> dict[str, list[Font]]:
    """Assign fonts to "train", "val" and "test", disjointly and deterministically.

    Within each family of 3 or more fonts (the families of 1-2 fonts are pooled), about
    15% of the fonts go to validation and 15% to test, at least one each; the rest train.
    """
    if len(fonts) < 3:
        raise DataError(
            f"chars36 needs at least 3 usable fonts to split by font, found {len(fonts)}; "
            f"reinstall nnlab (its font packages) or use source='emnist'"
        )
    families: dict[str, list[Font]] = {}
    for font in sorted(fonts, key=lambda f: (f.family, f.style)):
        families.setdefault(font.family, []).append(font)
    groups = [g for g in families.values() if len(g) >= 3]
    pooled = [f for g in families.values() if len(g) < 3 for f in g]
    if len(pooled) >= 3 or not groups:
        groups.append(pooled)
    else:
        groups[-1] = groups[-1] + pooled  # too few to share out: they join the last family
    rng = np.random.default_rng([seed, 1])
    splits: dict[str, list[Font]] = {"train": [], "val": [], "test": []}
    for group in groups:
        order = [group[i] for i in rng.permutation(len(group))]
        n_val, n_test = (max(1, round(len(group) * SPLIT_FRACTIONS[s])) for s in ("val", "test"))
        splits["val"] += order[:n_val]
        splits["test"] += order[n_val : n_val + n_test]
        splits["train"] += order[n_val + n_test :]
    return {name: sorted(fs, key=lambda f: (f.family, f.style)) for name, fs in splits.items()}


# ---------------------------------------------------------------------------- rendering


@lru_cache(maxsize=256)
def _masters(font: Font) -> np.ndarray:
    """(36, len(_THICKNESS), 64, 64) uint8: each glyph scaled so its longer side is 48 px,
    centred, in each stroke thickness, lightly blurred against aliasing when shrunk."""
    from scipy import ndimage

    pil_font = ImageFont.truetype(str(font.path), _RENDER_SIZE)
    clean = np.zeros((len(CLASS_NAMES), _MASTER, _MASTER), np.float32)
    for i, char in enumerate(CLASS_NAMES):
        glyph = _render(pil_font, char)
        h, w = glyph.shape
        f = _MASTER_GLYPH / max(h, w)
        h2, w2 = max(1, round(h * f)), max(1, round(w * f))
        small = Image.fromarray(glyph).resize((w2, h2), Image.Resampling.LANCZOS)
        top, left = (_MASTER - h2) // 2, (_MASTER - w2) // 2
        clean[i, top : top + h2, left : left + w2] = np.asarray(small, np.float32)
    variants = []
    for radius in _THICKNESS:
        if radius == 0:
            variants.append(clean)
            continue
        r = abs(radius)
        disk = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r + 0.5
        op = ndimage.grey_dilation if radius > 0 else ndimage.grey_erosion
        changed = op(clean, footprint=disk[None])  # per glyph: nothing along axis 0
        if radius < 0:  # never erode a thin font away: keep glyphs that lose half their ink
            kept = changed.sum(axis=(1, 2)) >= 0.5 * clean.sum(axis=(1, 2))
            changed = np.where(kept[:, None, None], changed, clean)
        variants.append(changed)
    stack = ndimage.gaussian_filter(np.stack(variants, axis=1), (0, 0, 1.0, 1.0))
    return np.clip(np.rint(stack), 0, 255).astype(np.uint8)


def _sample(
    masters: np.ndarray, glyph: np.ndarray, rng: np.random.Generator, aug: Augmentation
) -> np.ndarray:
    """Draw one augmented 32x32 image (uint8) per entry of `glyph` (indices into masters)."""
    from scipy import ndimage

    n = len(glyph)
    variant = (
        rng.integers(0, len(_THICKNESS), n) if aug.thickness else np.full(n, _THICKNESS.index(0))
    )
    angle = np.deg2rad(rng.uniform(-aug.rotation, aug.rotation, n))
    scale = rng.uniform(*aug.scale, n) * (_OUT_GLYPH / _MASTER_GLYPH)
    aspect = rng.uniform(1 - aug.aspect, 1 + aug.aspect, n)
    shear = rng.uniform(-aug.shear, aug.shear, n)
    shift = rng.uniform(-aug.shift, aug.shift, (n, 2))
    sigma = np.round(rng.uniform(0, aug.blur, n) * 4) / 4
    ink = rng.uniform(1 - aug.contrast, 1, n).astype(np.float32)[:, None, None]
    paper = rng.uniform(0, aug.contrast / 2, n).astype(np.float32)[:, None, None]
    noise = rng.uniform(0, aug.noise, n).astype(np.float32)

    # forward map (row, col) master -> output, about the centres: rotate . shear . stretch
    cos, sin = np.cos(angle), np.sin(angle)
    rotate = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shear_m = np.zeros((n, 2, 2))
    shear_m[:, 0, 0] = shear_m[:, 1, 1] = 1.0
    shear_m[:, 1, 0] = shear
    stretch = np.zeros((n, 2, 2))
    stretch[:, 0, 0], stretch[:, 1, 1] = scale, scale * aspect
    inverse = np.linalg.inv(rotate @ shear_m @ stretch).astype(np.float32)
    grid = np.stack(np.mgrid[0:SIZE, 0:SIZE], 0).reshape(2, -1).astype(np.float32)
    offset = grid[None] - (SIZE - 1) / 2 - shift[:, :, None].astype(np.float32)
    if aug.elastic_alpha > 0:
        field = rng.uniform(-1, 1, (n, 2, SIZE, SIZE)).astype(np.float32)
        field = ndimage.gaussian_filter(field, (0, 0, aug.elastic_sigma, aug.elastic_sigma))
        offset = offset + aug.elastic_alpha * field.reshape(n, 2, SIZE * SIZE)
    coords = inverse @ offset + (_MASTER - 1) / 2  # (n, 2, 1024) in master pixels
    # bilinear interpolation; the masters' borders are blank, so clamping samples zeros
    coords = np.clip(coords, 0, _MASTER - 1.001)
    r0, c0 = np.floor(coords[:, 0]).astype(np.intp), np.floor(coords[:, 1]).astype(np.intp)
    fr, fc = coords[:, 0] - r0, coords[:, 1] - c0
    flat = masters.reshape(-1)
    base = ((glyph * len(_THICKNESS) + variant) * _MASTER * _MASTER)[:, None] + r0 * _MASTER + c0
    top = flat[base] * (1 - fc) + flat[base + 1] * fc
    bottom = flat[base + _MASTER] * (1 - fc) + flat[base + _MASTER + 1] * fc
    x = ((top * (1 - fr) + bottom * fr) / 255).reshape(n, SIZE, SIZE).astype(np.float32)

    for s in np.unique(sigma[sigma > 0]):
        ix = np.flatnonzero(sigma == s)
        x[ix] = ndimage.gaussian_filter(x[ix], (0, s, s))
    x /= np.maximum(x.max(axis=(1, 2), keepdims=True), 1e-3)  # full-contrast ink, even if thin
    x = paper + (ink - paper) * x
    x += rng.standard_normal(x.shape, dtype=np.float32) * noise[:, None, None]
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def render_fonts(
    fonts: list[Font],
    samples_per_glyph: int,
    rng: np.random.Generator,
    augment: Augmentation | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`samples_per_glyph` augmented images of every character of every font, shuffled.

    Returns (N, 32, 32) uint8 images (bright ink on black) and (N,) int64 labels.
    """
    aug = augment if augment is not None else Augmentation()
    masters = np.concatenate([_masters(font) for font in fonts])
    glyph = rng.permutation(np.repeat(np.arange(len(masters)), samples_per_glyph))
    chunks = [_sample(masters, glyph[i : i + 4096], rng, aug) for i in range(0, len(glyph), 4096)]
    x = np.concatenate(chunks) if chunks else np.zeros((0, SIZE, SIZE), np.uint8)
    return x, (glyph % len(CLASS_NAMES)).astype(np.int64)


# ---------------------------------------------------------------------------- sources


def _to_float(x: np.ndarray, ink: str) -> np.ndarray:
    """uint8 bright-on-black -> float32 in [0, 1] with the requested ink."""
    if ink == "dark":
        x = 255 - x
    return x.astype(np.float32) / np.float32(255)


def _file_digest(path: Path) -> str:
    st = path.stat()
    return _file_digest_cached(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=1024)
def _file_digest_cached(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cache_path(fonts: list[Font], samples_per_glyph: int, seed: int, aug: Augmentation) -> Path:
    """Keyed by everything the images depend on, so a change of any of them regenerates."""
    key = {
        "version": GENERATOR_VERSION,
        "fonts": [[f.family, f.style, _file_digest(f.path)] for f in fonts],
        "samples_per_glyph": samples_per_glyph,
        "seed": seed,
        "augmentation": asdict(aug),
        "pillow": PIL.__version__,
        "freetype": features.version("freetype2"),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir() / "chars36" / f"fonts-{digest}.npz"


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # missing or unreadable: regenerate (it is derived data)


def _generated_arrays(
    samples_per_glyph: int, seed: int, aug: Augmentation, pool: str
) -> dict[str, np.ndarray]:
    fonts = find_fonts(pool)
    path = _cache_path(fonts, samples_per_glyph, seed, aug)
    arrays = _read_cache(path)
    if arrays is not None:
        return arrays
    splits = split_fonts(fonts, seed)
    rngs = [np.random.default_rng([seed, 2, i]) for i in range(3)]
    arrays = {}
    for (split, fonts_of_split), rng in zip(splits.items(), rngs, strict=True):
        x, y = render_fonts(fonts_of_split, samples_per_glyph, rng, aug)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _write_cache(path, buffer.getvalue())
    _write_cache(path.with_suffix(".sha256"), array_digest(arrays).encode())
    return arrays


def default_digest() -> str | None:
    """The content digest of the default generated chars36 if it was generated on this
    machine (cached), else None. Equal digests mean identical images and labels."""
    fonts = find_fonts()
    path = _cache_path(fonts, DEFAULT_SAMPLES_PER_GLYPH, 0, Augmentation())
    try:
        return path.with_suffix(".sha256").read_text().strip() or None
    except OSError:
        return None


def _emnist_variant() -> str | None:
    return next((v for v in EMNIST_VARIANTS if status(v)[0].present), None)


def _load_emnist(variant: str, seed: int, download: bool, progress: bool) -> dict[str, np.ndarray]:
    paths = locate(variant, download=download, progress=progress)
    arrays = {}
    for split in ("train", "test"):
        images = paths[f"{variant}-{split}-images-idx3-ubyte.gz"]
        x, y = read_idx(images), read_idx(paths[f"{variant}-{split}-labels-idx1-ubyte.gz"])
        if x.ndim != 3 or max(x.shape[1:]) > SIZE or y.shape != (len(x),):
            raise DataError(
                f"{images} does not look like EMNIST: images {x.shape}, labels {y.shape}; "
                f"restore the files from the EMNIST distribution"
            )
        keep = y < len(CLASS_NAMES)  # 0-9 digits, 10-35 uppercase; 36+ lowercase
        x = x[keep].transpose(0, 2, 1)  # EMNIST stores pixels column-major
        ph, pw = SIZE - x.shape[1], SIZE - x.shape[2]
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)))
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x.astype(np.uint8), y[keep].astype(np.int64)
    order = np.random.default_rng([seed, 3]).permutation(len(arrays["y_train"]))
    n_val = len(order) // 10
    for key in ("x", "y"):
        train = arrays[f"{key}_train"]
        arrays[f"{key}_val"], arrays[f"{key}_train"] = train[order[:n_val]], train[order[n_val:]]
    return arrays


def load_chars36(
    *,
    source: str = "auto",
    samples_per_glyph: int = DEFAULT_SAMPLES_PER_GLYPH,
    seed: int = 0,
    ink: str = "dark",
    fonts: str = "bundled",
    augment: Augmentation | None = None,
    download: bool = False,
    progress: bool = False,
) -> ArraySplits:
    """Load chars36 as ArraySplits with train, validation (`x_val`, `y_val`) and test.

    `source`: "emnist" (its IDX files must be present), "fonts" (generated), or "auto"
    (EMNIST when present, else generated). `samples_per_glyph` images are drawn per
    (font, character) of every split: with the bundled fonts (46, 24 of them for training)
    the default 20 gives 17280 training and 7920 validation and test images each. `seed`
    fixes the font split, the augmentation and EMNIST's validation hold-out. `ink`: "dark"
    (on white, like NIST36) or "bright" (on black, like EMNIST). `fonts`: "bundled" (the
    same everywhere) or "system" (also the machine's installed fonts; the data then depend on
    the machine). `augment` (generated images only) changes the distortions. The content
    digest is noted for the run that loads it (`nnlab.data.digest`).
    DataError for a bad argument or missing/corrupt EMNIST files.
    """
    if source not in SOURCES:
        raise DataError(f"unknown chars36 source {source!r}; choose one of: {', '.join(SOURCES)}")
    if ink not in INKS:
        raise DataError(f"unknown chars36 ink {ink!r}; choose one of: {', '.join(INKS)}")
    if fonts not in FONT_POOLS:
        raise DataError(f"unknown chars36 fonts {fonts!r}; choose one of: {', '.join(FONT_POOLS)}")
    n = samples_per_glyph
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise DataError(f"samples_per_glyph must be an integer >= 1, got {samples_per_glyph!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed must be an integer >= 0, got {seed!r}")
    variant = _emnist_variant() if source != "fonts" else None
    if source == "emnist" and variant is None:
        variant = EMNIST_VARIANTS[0]  # locate() explains what is missing and where it looked
    if variant is not None:
        arrays = _load_emnist(variant, seed, download, progress)
        params = {"source": variant, "seed": seed}
    else:
        aug = augment if augment is not None else Augmentation()
        arrays = _generated_arrays(int(samples_per_glyph), seed, aug, fonts)
        params = {"source": "fonts", "fonts": fonts, "samples_per_glyph": n, "seed": seed}
        if aug != Augmentation():
            params["augmentation"] = asdict(aug)
    note_dataset("chars36", arrays, **params)  # of the uint8 images, whatever the ink
    splits = {k: _to_float(v, ink) if k.startswith("x_") else v for k, v in arrays.items()}
    return ArraySplits(
        splits["x_train"],
        splits["y_train"],
        splits["x_test"],
        splits["y_test"],
        list(CLASS_NAMES),
        "chars36",
        x_val=splits["x_val"],
        y_val=splits["y_val"],
    )


def chars36_source(fonts: str = "bundled") -> str:
    """What `load_chars36()` would use: "EMNIST (emnist-balanced)" or "generated (N fonts)"."""
    variant = _emnist_variant()
    return f"EMNIST ({variant})" if variant else f"generated ({len(find_fonts(fonts))} fonts)"


def chars36_status() -> DatasetStatus:
    """The line of `nnlab data list` for chars36."""
    ds = get("chars36")
    variant = _emnist_variant()
    if variant is not None:
        where = status(variant)[0].where
        return DatasetStatus(ds.name, ds.description, True, where, "EMNIST", None, variant)
    fonts = find_fonts()
    families = len({f.family for f in fonts})
    digest = default_digest()
    shown = f"sha256 {digest[:16]}" if digest else "digest known once generated"
    note = f"rendered from {families} bundled font families; {shown}"
    source = f"generated ({len(fonts)} fonts)"
    return DatasetStatus(ds.name, ds.description, True, None, source, None, note)


__all__ = [
    "CLASS_NAMES",
    "Augmentation",
    "FONT_PACKAGES",
    "Font",
    "bundled_font_paths",
    "chars36_source",
    "chars36_status",
    "default_digest",
    "find_fonts",
    "load_chars36",
    "render_fonts",
    "split_fonts",
]
