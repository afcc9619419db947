"""CIFAR-10 from its *binary* distribution (cifar-10-binary.tar.gz), never from pickles.

The binary version is plain bytes: each record is 1 label byte followed by 3072 pixel bytes
(1024 red, 1024 green, 1024 blue, each a row-major 32x32 plane), 10000 records per file in
`data_batch_1.bin` ... `data_batch_5.bin` (training) and `test_batch.bin`. Reading it needs no
unpickling, so an untrusted copy cannot run code. The tarball is read in place (members are
streamed, nothing is extracted); an already extracted `cifar-10-batches-bin/` directory in a
`$NNLAB_DATA` directory (or its `cifar10/` sub-folder) is used as it is.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

from nnlab.errors import DataError

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
TARBALL = "cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
RECORD = 1 + 3 * 32 * 32


def parse_cifar_binary(raw: bytes, what: str = "CIFAR-10 batch") -> tuple[np.ndarray, np.ndarray]:
    """Records of the binary format -> images (N, 32, 32, 3) float32 in [0, 1], labels (N,)
    int64. DataError if the length is not a whole number of records or a label is not 0-9."""
    if not raw or len(raw) % RECORD:
        raise DataError(
            f"{what} is {len(raw)} bytes, not a positive multiple of the {RECORD}-byte record "
            "(1 label byte + 3072 pixel bytes); restore or re-fetch it"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= len(CIFAR10_CLASSES):
        raise DataError(f"{what} has label {labels.max()}, but CIFAR-10 labels are 0-9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    x = np.ascontiguousarray(images, dtype=np.float32)
    x /= 255.0
    return x, labels


def _extracted_dir() -> Path | None:
    from nnlab.data.registry import cache_dir, data_dirs

    for d in data_dirs():
        for candidate in (d / "cifar10" / FOLDER, d / FOLDER):
            if all((candidate / name).is_file() for name in (*TRAIN_FILES, TEST_FILE)):
                return candidate
    candidate = cache_dir() / "cifar10" / FOLDER
    if all((candidate / name).is_file() for name in (*TRAIN_FILES, TEST_FILE)):
        return candidate
    return None


def _read_tarball(path: Path) -> dict[str, bytes]:
    """{file name: bytes} of the six batch files inside the tarball, read without extracting."""
    wanted = {*TRAIN_FILES, TEST_FILE}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                name = Path(member.name)
                if member.isfile() and name.parent.name == FOLDER and name.name in wanted:
                    f = tar.extractfile(member)
                    if f is not None:
                        found[name.name] = f.read()
    except (OSError, EOFError, tarfile.TarError) as e:
        raise DataError(f"corrupt or unreadable CIFAR-10 tarball {path}: {e}") from None
    missing = sorted(wanted - set(found))
    if missing:
        raise DataError(
            f"{path} lacks {', '.join(f'{FOLDER}/{m}' for m in missing)}; is it {TARBALL}?"
        )
    return found


def load_cifar10(*, download: bool = False, progress: bool = False):
    """CIFAR-10 as ArraySplits: 50000 training and 10000 test images (N, 32, 32, 3) float32 in
    [0, 1] with labels 0-9. Found, fetched (`download=True`) and checked by the registry."""
    from nnlab.data.digest import note_dataset, recording_active
    from nnlab.data.registry import locate
    from nnlab.data.splits import ArraySplits

    folder = _extracted_dir()
    if folder is not None:
        files = {name: (folder / name).read_bytes() for name in (*TRAIN_FILES, TEST_FILE)}
        where = str(folder)
    else:
        path = locate("cifar10", download=download, progress=progress)[TARBALL]
        files, where = _read_tarball(path), str(path)
    read = files.__getitem__
    parts = [parse_cifar_binary(read(name), f"{where}: {name}") for name in TRAIN_FILES]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = parse_cifar_binary(read(TEST_FILE), f"{where}: {TEST_FILE}")
    if recording_active():
        note_dataset(
            "cifar10", {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        )
    return ArraySplits(x_train, y_train, x_test, y_test, list(CIFAR10_CLASSES), "cifar10")
