"""Dataset registry: which files a dataset has, where to find them, how to check them.

Lookup order for each file: every directory in `$NNLAB_DATA` (colon-separated; the file
may sit in `<dir>/<dataset>/` or directly in `<dir>/`), then the cache
(`$XDG_CACHE_HOME/nnlab/<dataset>/`, default `~/.cache/nnlab/<dataset>/`), then a download
into the cache when allowed. A file registered as `foo.gz` is also accepted uncompressed as
`foo`. Files are verified by the SHA-256 and size of their *uncompressed* content, so a
re-gzipped copy still verifies. A corrupt file is an error; it is never replaced or deleted.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

from nnlab.data.toy import TOY_KINDS
from nnlab.errors import DataError
from nnlab.io import atomic_write_bytes

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset. `sha256` and `size` describe the uncompressed content (None:
    not known, not checked). With `member`, each URL serves a zip archive and the file is
    the archive member whose path ends with `member`; it is extracted on download."""

    name: str
    sha256: str | None
    size: int | None
    urls: tuple[str, ...] = ()
    member: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A dataset: files to find or download (`origin="download"`), or data that ships with
    the dependencies (`"embedded"`) or is generated on the fly (`"generated"`)."""

    name: str
    description: str
    license: str
    files: tuple[FileSpec, ...] = ()
    origin: str = "download"
    loader: str = ""
    """"module:function" that loads it as ArraySplits (for those the generic loaders cannot
    read); called with `download=` and `progress=`, it notes the data's digest itself."""
    status: str = ""
    """"module:function" that tells its status, where the generic check of files does not."""


@dataclass(frozen=True)
class DatasetStatus:
    """What `nnlab data list` / `nnlab data verify` show for one dataset."""

    name: str
    description: str
    present: bool
    where: Path | None
    # "NNLAB_DATA", "cache", "NNLAB_DATA+cache", "embedded", "generated";
    # chars36: "EMNIST" or "generated (N fonts)"
    source: str | None
    verified: bool | None  # None: not checked, or no checksum registered
    message: str = ""


def _idx_files(base_urls: list[str], digests: dict[str, str | None]) -> tuple[FileSpec, ...]:
    """The four standard MNIST-style IDX files (60000 train, 10000 test, 28x28)."""
    sizes = {
        "train-images-idx3-ubyte.gz": 16 + 60000 * 28 * 28,
        "train-labels-idx1-ubyte.gz": 8 + 60000,
        "t10k-images-idx3-ubyte.gz": 16 + 10000 * 28 * 28,
        "t10k-labels-idx1-ubyte.gz": 8 + 10000,
    }
    return tuple(
        FileSpec(name, digests.get(name), size, tuple(base + name for base in base_urls))
        for name, size in sizes.items()
    )


def _emnist_files(variant: str, n_train: int, n_test: int) -> tuple[FileSpec, ...]:
    """EMNIST's IDX files (28x28). NIST ships them only inside one zip, so no URL is registered;
    their SHA-256 could not be computed here, so none is registered either (size check only)."""
    sizes = {
        "train-images-idx3-ubyte.gz": 16 + n_train * 28 * 28,
        "train-labels-idx1-ubyte.gz": 8 + n_train,
        "test-images-idx3-ubyte.gz": 16 + n_test * 28 * 28,
        "test-labels-idx1-ubyte.gz": 8 + n_test,
    }
    return tuple(FileSpec(f"emnist-{variant}-{name}", None, size) for name, size in sizes.items())


EMNIST_LICENSE = (
    "Cohen, Afshar, Tapson & van Schaik, EMNIST: an extension of MNIST to handwritten letters, "
    "arXiv:1702.05373 (2017); NIST Special Database 19; "
    "https://www.nist.gov/itl/products-and-services/emnist-dataset"
)


def _register(*datasets: Dataset) -> dict[str, Dataset]:
    return {d.name: d for d in datasets}


DATASETS: dict[str, Dataset] = _register(
    Dataset(
        "mnist",
        "Handwritten digits 0-9, 28x28 grey, 60000 train / 10000 test",
        "LeCun, Cortes & Burges, The MNIST database of handwritten digits (1998); CC BY-SA 3.0",
        # SHA-256 of the official files' uncompressed content (re-gzipped copies still verify).
        _idx_files(
            [
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "http://yann.lecun.com/exdb/mnist/",
            ],
            {
                "train-images-idx3-ubyte.gz": (
                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
                ),
                "train-labels-idx1-ubyte.gz": (
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
                ),
                "t10k-images-idx3-ubyte.gz": (
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
                ),
                "t10k-labels-idx1-ubyte.gz": (
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
                ),
            },
        ),
    ),
    Dataset(
        "fashion-mnist",
        "Zalando clothing images in 10 classes, 28x28 grey, 60000 train / 10000 test",
        "Xiao, Rasul & Vollgraf, Fashion-MNIST, arXiv:1708.07747 (2017); (c) Zalando SE, MIT",
        _idx_files(
            [
                "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            ],
            {
                "train-images-idx3-ubyte.gz": (
                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
                ),
                "train-labels-idx1-ubyte.gz": (
                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
                ),
                "t10k-images-idx3-ubyte.gz": (
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
                ),
                "t10k-labels-idx1-ubyte.gz": (
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
                ),
            },
        ),
    ),
    Dataset(
        "kmnist",
        "Kuzushiji-MNIST: 10 cursive Japanese hiragana, 28x28 grey, 60000 train / 10000 test",
        "Clanuwat et al., Deep Learning for Classical Japanese Literature, arXiv:1812.01718 "
        "(2018); CC BY-SA 4.0",
        # Like MNIST: no trusted SHA-256 of the uncompressed files, so size check only.
        _idx_files(["https://codh.rois.ac.jp/kmnist/dataset/kmnist/"], {}),
    ),
    Dataset(
        "tinyshakespeare",
        "Tiny Shakespeare: 1.1 MB of plain text for character-level language models",
        "Karpathy, char-rnn (2015); Shakespeare's text, public domain",
        (
            FileSpec(
                "tinyshakespeare.txt",
                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                1115394,
                (
                    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                    "tinyshakespeare/input.txt",
                ),
            ),
        ),
    ),
    Dataset(
        "digits",
        "Handwritten digits 0-9, 8x8, 1797 images (scikit-learn load_digits)",
        "UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak, 1998); CC BY 4.0",
        origin="embedded",
    ),
    Dataset(
        "emnist-balanced",
        "EMNIST Balanced: 47 classes of handwritten characters, 28x28 grey, 112800 / 18800; "
        "read through chars36",
        EMNIST_LICENSE,
        _emnist_files("balanced", 112800, 18800),
    ),
    Dataset(
        "emnist-byclass",
        "EMNIST ByClass: 62 classes of handwritten characters, 28x28 grey, 697932 / 116323; "
        "read through chars36",
        EMNIST_LICENSE,
        _emnist_files("byclass", 697932, 116323),
    ),
    Dataset(
        "cifar10",
        "CIFAR-10: 32x32 colour photographs in 10 classes, 50000 train / 10000 test "
        "(binary version, read by nnlab.data.cifar10 without unpickling)",
        "Krizhevsky, Learning Multiple Layers of Features from Tiny Images (2009); "
        "https://www.cs.toronto.edu/~kriz/cifar.html",
        # The binary tarball (the python version's pickles are unsafe to load). Its SHA-256 and
        # size could not be computed here (no network) and are not recorded in a source we
        # trust, so none are registered; the loader checks every record's length and label.
        (
            FileSpec(
                "cifar-10-binary.tar.gz",
                None,
                None,
                ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
            ),
        ),
        loader="nnlab.data.cifar10:load_cifar10",
    ),
    Dataset(
        "chars36",
        "Characters 0-9 and A-Z, 32x32 grey: EMNIST when present, else rendered from fonts",
        "EMNIST's (see emnist-balanced), or generated by nnlab from the fonts' own licenses",
        origin="generated",
        loader="nnlab.data.chars36:load_chars36",
        status="nnlab.data.chars36:chars36_status",
    ),
    Dataset(
        "natural-images",
        "8 natural photographs shipped with scikit-image, whitened like Olshausen's "
        "IMAGES.mat, as 23 grey 256x256 tiles (nnlab.data.natural_images)",
        "scikit-image sample images (public domain or CC0, see skimage.data); "
        "whitening: Olshausen & Field, Nature 381 (1996)",
        origin="embedded",
    ),
    Dataset(
        "ufldl-images",
        "UFLDL sparse autoencoder exercise: IMAGES.mat, 10 whitened 512x512 natural images",
        "Ng et al., UFLDL Tutorial, Stanford (2011); images from Olshausen & Field (1996)",
        # IMAGES.mat sits inside the exercise's zip. Its SHA-256 and size could not be
        # computed here (no network) and are not recorded in a source we trust: none are
        # registered, so a copy is only checked for being a MATLAB file holding IMAGES.
        # The exercise is published over http only; the first download's digest is kept.
        (
            FileSpec(
                "IMAGES.mat",
                None,
                None,
                ("http://ufldl.stanford.edu/wiki/resources/sparseae_exercise.zip",),
                member="IMAGES.mat",
            ),
        ),
    ),
    *(
        Dataset(kind, description, "generated by nnlab.data.make_toy", origin="generated")
        for kind, description in TOY_KINDS.items()
    ),
)

#: What `nnlab data list` says of the embedded datasets.
EMBEDDED_NOTES = {"digits": "ships with scikit-learn", "natural-images": "ships with scikit-image"}


# ---------------------------------------------------------------------------- lookup


def data_dirs() -> list[Path]:
    """The directories listed in `$NNLAB_DATA`, in order."""
    value = os.environ.get("NNLAB_DATA", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p]


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/nnlab`, or `~/.cache/nnlab`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "nnlab"


def offline() -> bool:
    """True when `$NNLAB_OFFLINE` is set (to anything but "" or "0"): never download."""
    return os.environ.get("NNLAB_OFFLINE", "") not in ("", "0")


def get(name: str) -> Dataset:
    """The registered dataset `name`, or a DataError listing the valid names."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name]


def _search_dirs(ds: Dataset) -> list[tuple[Path, str]]:
    dirs = []
    for d in data_dirs():
        dirs += [(d / ds.name, "NNLAB_DATA"), (d, "NNLAB_DATA")]
    return [*dirs, (cache_dir() / ds.name, "cache")]


def _find_file(ds: Dataset, spec: FileSpec) -> tuple[Path, str] | None:
    """First existing copy of `spec` as (path, source), also accepting `foo` for `foo.gz`."""
    names = [spec.name]
    if spec.name.endswith(".gz"):
        names.append(spec.name[: -len(".gz")])
    for directory, source in _search_dirs(ds):
        for name in names:
            if (directory / name).is_file():
                return directory / name, source
    return None


def _missing_error(ds: Dataset, missing: list[FileSpec], offline_blocked: bool) -> DataError:
    searched = ", ".join(str(d) for d, _ in _search_dirs(ds))
    if not data_dirs():
        searched += " (NNLAB_DATA is not set)"
    files = ", ".join(spec.name for spec in missing)
    why, put = "", "put the files in a directory listed in NNLAB_DATA"
    if not all(spec.urls for spec in missing):
        todo = f"it has no download URL: get the files by hand (see nnlab/data/README.md) and {put}"
    elif offline_blocked:
        why = " and NNLAB_OFFLINE is set, so nothing was downloaded"
        todo = f"unset NNLAB_OFFLINE and run `nnlab data fetch {ds.name}`, or {put}"
    else:
        todo = f"run `nnlab data fetch {ds.name}` to download it, or {put}"
    return DataError(
        f"dataset {ds.name!r} is not available{why}: missing {files} (searched: {searched}); {todo}"
    )


# ---------------------------------------------------------------------------- verification

# (resolved path, size, mtime_ns) -> (sha256, uncompressed bytes) of files hashed this process.
_HASHED: dict[tuple[str, int, int], tuple[str, int]] = {}


def _hash_stream(f: BinaryIO) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    while chunk := f.read(CHUNK):
        h.update(chunk)
        n += len(chunk)
    return h.hexdigest(), n


def _cache_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def _fix(ds: Dataset, source: str) -> str:
    if source == "cache":
        return f"delete it and run `nnlab data fetch {ds.name}`"
    return "restore it from a good copy (nnlab never modifies files in NNLAB_DATA)"


def _check(what: str, spec: FileSpec, digest: str, nbytes: int, fix: str) -> None:
    """Raise a DataError if (digest, nbytes) does not match `spec`."""
    if spec.sha256 is not None and digest != spec.sha256:
        wrong_size = spec.size is not None and nbytes != spec.size
        sizes = f" ({nbytes} bytes, expected {spec.size})" if wrong_size else ""
        raise DataError(
            f"corrupt file {what}: SHA-256 of its content is {digest}, expected {spec.sha256}"
            f"{sizes}; {fix}"
        )
    if spec.size is not None and nbytes != spec.size:
        raise DataError(
            f"corrupt file {what}: its content is {nbytes} bytes, expected {spec.size} "
            f"(SHA-256 {digest}, no checksum registered); {fix}"
        )


def _recorded_digest(path: Path) -> str | None:
    """The SHA-256 recorded beside a downloaded file that has none registered (FILE.sha256)."""
    try:
        return path.with_name(path.name + ".sha256").read_text().strip() or None
    except OSError:
        return None


def verify_file(path: Path, spec: FileSpec, ds: Dataset, source: str = "NNLAB_DATA") -> None:
    """Check the uncompressed content of `path` against `spec`; DataError if it differs.

    The result is remembered per (path, size, mtime), so a second load does not re-hash.
    """
    recorded = _recorded_digest(path)
    if spec.sha256 is None and recorded is not None:  # trust on first use: the first download's
        spec = replace(spec, sha256=recorded)
    key = _cache_key(path)
    if key not in _HASHED:
        opener = gzip.open if path.suffix == ".gz" else open
        try:
            with opener(path, "rb") as f:
                _HASHED[key] = _hash_stream(f)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(
                f"corrupt or unreadable file {path}: {e}; expected SHA-256 "
                f"{spec.sha256 or '(none registered)'}; {_fix(ds, source)}"
            ) from None
    _check(str(path), spec, *_HASHED[key], _fix(ds, source))


# ---------------------------------------------------------------------------- download


# No registered file is larger (cifar10's archive: 163 MiB); a server that sends more, or a zip
# member that unpacks to more, is refused instead of filling memory and disk.
MAX_DOWNLOAD_BYTES = 512 * 2**20


def _too_big(what: str) -> ValueError:
    return ValueError(f"{what} is over the cap of {MAX_DOWNLOAD_BYTES // 2**20} MiB")


def _download_one(url: str, spec: FileSpec, progress: bool) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "nnlab"})
    with urllib.request.urlopen(request, timeout=60) as response:
        total = response.headers.get("Content-Length")
        if total and total.isdigit() and int(total) > MAX_DOWNLOAD_BYTES:
            raise _too_big(f"the download ({int(total):,} bytes)")
        buf = io.BytesIO()
        with tqdm(
            total=int(total) if total else None,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=spec.name,
            disable=not progress,
            leave=False,
        ) as bar:
            while chunk := response.read(CHUNK):
                buf.write(chunk)
                bar.update(len(chunk))
                if buf.tell() > MAX_DOWNLOAD_BYTES:
                    raise _too_big("the download")
    return buf.getvalue()


def _extract_member(archive: bytes, member: str) -> bytes:
    """The member of a zip archive whose path ends with `member` (ValueError if none)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        for info in zf.infolist():
            if info.filename == member or info.filename.endswith("/" + member):
                out = io.BytesIO()
                with zf.open(info) as f:  # streamed: the size in the header may lie
                    while chunk := f.read(CHUNK):
                        out.write(chunk)
                        if out.tell() > MAX_DOWNLOAD_BYTES:
                            raise _too_big(f"zip member {member}")
                return out.getvalue()
    raise ValueError(f"the zip archive has no member {member}")


def _download(ds: Dataset, spec: FileSpec, progress: bool) -> Path:
    """Try each URL in order; keep the first copy that verifies, atomically, in the cache."""
    errors = []
    for url in spec.urls:
        try:
            data = _download_one(url, spec, progress)
            if spec.member is not None:
                data = _extract_member(data, spec.member)
            if spec.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                    digest, nbytes = _hash_stream(f)
            else:
                digest, nbytes = hashlib.sha256(data).hexdigest(), len(data)
            _check(f"downloaded from {url}", spec, digest, nbytes, "trying the next URL")
        except (
            OSError,
            EOFError,
            ValueError,
            zlib.error,
            zipfile.BadZipFile,
            http.client.HTTPException,
        ) as e:
            errors.append(f"{url}: {e}")
            continue
        except DataError as e:
            errors.append(str(e))
            continue
        target = cache_dir() / ds.name / spec.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if spec.sha256 is None:  # no digest registered: record the first download's
            atomic_write_bytes(target.with_name(target.name + ".sha256"), f"{digest}\n".encode())
        atomic_write_bytes(target, data)
        _HASHED[_cache_key(target)] = (digest, nbytes)
        return target
    tried = "; ".join(errors) or "no download URL is registered"
    raise DataError(
        f"could not download {spec.name} of dataset {ds.name!r} ({tried}); check the "
        f"connection, or download it by hand into a directory listed in NNLAB_DATA"
    )


# ---------------------------------------------------------------------------- public API


def locate(name: str, *, download: bool = False, progress: bool = False) -> dict[str, Path]:
    """Find, (optionally) download and verify every file of dataset `name`.

    Returns {registered file name: verified path}; embedded and generated datasets have no
    files and give {}. Raises DataError if a file is missing (and cannot be downloaded) or
    corrupt. Prints nothing unless `progress` is True (a download progress bar).
    """
    ds = get(name)
    found: dict[str, tuple[Path, str]] = {}
    missing = []
    for spec in ds.files:
        hit = _find_file(ds, spec)
        if hit is None:
            missing.append(spec)
        else:
            found[spec.name] = hit
    if missing and (not download or offline()):
        raise _missing_error(ds, missing, offline_blocked=download)
    for spec in missing:
        found[spec.name] = _download(ds, spec, progress), "cache"
    for spec in ds.files:
        path, source = found[spec.name]
        verify_file(path, spec, ds, source)
    return {spec.name: found[spec.name][0] for spec in ds.files}


def fetch(name: str, *, progress: bool = True) -> dict[str, Path]:
    """Make dataset `name` available locally (downloading into the cache if needed)."""
    return locate(name, download=True, progress=progress)


def entry_point(path: str) -> Any:
    """The function a registry entry names as "module:function" (imported when called, so the
    registry imports none of the loaders)."""
    import importlib

    module, _, function = path.partition(":")
    return getattr(importlib.import_module(module), function)


def _status(ds: Dataset, verify: bool) -> DatasetStatus:
    if ds.status:
        return entry_point(ds.status)()
    if ds.origin != "download":
        note = EMBEDDED_NOTES.get(ds.name, "made on the fly")
        return DatasetStatus(ds.name, ds.description, True, None, ds.origin, None, note)
    hits = {spec.name: _find_file(ds, spec) for spec in ds.files}
    missing = [name for name, hit in hits.items() if hit is None]
    if missing:
        todo = f"run `nnlab data fetch {ds.name}`"
        if not all(spec.urls for spec in ds.files):
            todo = "no download URL: get the files by hand (see nnlab/data/README.md)"
        what = "not found" if len(missing) == len(hits) else f"missing {', '.join(missing)}"
        message = f"{what}; {todo}"
        return DatasetStatus(ds.name, ds.description, False, None, None, None, message)
    paths = [hit[0] for hit in hits.values() if hit]
    sources = sorted({hit[1] for hit in hits.values() if hit})
    where, source = paths[0].parent, "+".join(sources)
    if not verify:
        return DatasetStatus(ds.name, ds.description, True, where, source, None, "")
    try:
        for spec in ds.files:
            path, src = hits[spec.name]
            verify_file(path, spec, ds, src)
    except DataError as e:
        return DatasetStatus(ds.name, ds.description, True, where, source, False, str(e))
    if any(spec.sha256 is None for spec in ds.files):
        message = "sizes match; no checksum registered, so content is not verified"
        if any(spec.size is None for spec in ds.files):
            message = "no checksum or size registered, so content is not verified"
        return DatasetStatus(ds.name, ds.description, True, where, source, None, message)
    return DatasetStatus(ds.name, ds.description, True, where, source, True, "SHA-256 ok")


def status(name: str | None = None, *, verify: bool = False) -> list[DatasetStatus]:
    """Presence (and with `verify=True`, integrity) of one dataset or of all of them."""
    datasets = [get(name)] if name is not None else list(DATASETS.values())
    return [_status(ds, verify) for ds in datasets]
