"""Content digests of datasets, and the record of what a run loaded.

    from nnlab.data.digest import array_digest
    array_digest({"x": x, "y": y})   # SHA-256 of names, dtypes, shapes and bytes

Loaders call `note_dataset` with the digest of what they return; `nnlab.runs` listens with
`recording(callback)` and writes each entry into the run's `config.json`, so two runs can
tell whether they saw the same data. Outside `recording` a note costs nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import numpy as np

_listener: ContextVar[Callable[[dict[str, Any]], None] | None] = ContextVar(
    "nnlab_dataset_listener", default=None
)


def array_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over every array (sorted by name) with its dtype and shape."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.data)
    return h.hexdigest()


def recording_active() -> bool:
    return _listener.get() is not None


def note_dataset(name: str, arrays: Mapping[str, np.ndarray], **params: Any) -> None:
    """Tell the listening run (if any) that `name` with `params` was loaded as `arrays`."""
    listener = _listener.get()
    if listener is not None:
        listener({"name": name, "params": params, "sha256": array_digest(arrays)})


@contextlib.contextmanager
def recording(callback: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Within the block, every `note_dataset` calls `callback(entry)`."""
    token = _listener.set(callback)
    try:
        yield
    finally:
        _listener.reset(token)
