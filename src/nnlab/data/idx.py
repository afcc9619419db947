"""The IDX file format of MNIST, Fashion-MNIST, KMNIST and EMNIST.

Header: two zero bytes, a dtype code, the number of dimensions, then each dimension as a
big-endian uint32; then the values, big-endian, in C order. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from nnlab.errors import DataError
from nnlab.io import atomic_write_bytes

# IDX dtype code -> big-endian NumPy dtype
DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
CODES: dict[np.dtype, int] = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; `source` names it in errors."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in DTYPES:
        raise DataError(f"{source} is not an IDX file (bad magic number {data[:4].hex()})")
    dtype, ndim = DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source} is truncated: {len(data)} bytes, shorter than its header")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"{source} is {problem}: {len(data)} bytes, expected {expected} for shape {shape}; "
            f"restore or re-fetch it"
        )
    values = np.frombuffer(data, dtype, int(np.prod(shape)), offset=header)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed if its name ends in .gz) into a native-endian array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"cannot read {path}: {e}; restore or re-fetch it") from None
    return parse_idx(data, str(path))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write `array` as an IDX file, gzip-compressed if `path` ends in .gz (atomically)."""
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder("=")
    if dtype not in CODES:
        names = ", ".join(str(d) for d in CODES)
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of: {names}")
    if not 1 <= array.ndim <= 255 or max(array.shape) >= 2**32:
        raise ValueError(f"IDX cannot store an array of shape {array.shape}")
    header = bytes([0, 0, CODES[dtype], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    data = header + array.astype(dtype.newbyteorder(">")).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    return atomic_write_bytes(path, data)
