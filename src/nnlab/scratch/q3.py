"""Seed 004's Q3 network in the engine, and its file: 1024 -> hidden sigmoid -> 36 logits
(softmax fused into the loss), float32, Xavier-uniform weights U(-a, a), a = sqrt(6 / (in +
out)), zero biases, drawn from ``np.random.default_rng(seed)``.

``q3_network(64, seed)`` builds it (``numpy-classifier`` trains it; ``nnlab.models.q3_network``
is the same network with the same initial weights in PyTorch). ``q3_npz_bytes`` and
``load_q3_npz`` write and read a trained one as a NumPy ``.npz`` -- arrays only, read with
``allow_pickle=False`` -- that ``nnlab ocr --model`` reads pages with:

    W1 (1024, hidden), b1 (hidden,), W2 (hidden, 36), b2 (36,)   float32 or float64
    class_names (36,) unicode; ink () unicode, "dark" or "bright"

Every array's header (dtype and shape) is checked against that layout before its data is
read, so a wrong or hostile file is a one-line ``DataError`` and never a large allocation.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from nnlab.errors import DataError
from nnlab.scratch.layers import Sequential, mlp

N_IN, N_CLASSES = 1024, 36
MAX_HIDDEN = 8_192  # numpy-classifier's bound on `hidden`
MAX_FILE_BYTES = 64 * 2**20  # a 8,192-unit float64 network is ~70 MB; 64 MiB is far more
# than any Q3 network nnlab writes (64 units: 272 kB in float32)
INKS = ("dark", "bright")


def q3_network(
    hidden: int = 64, seed: int = 0, n_in: int = N_IN, n_classes: int = N_CLASSES
) -> Sequential:
    """The Q3 network with its initial weights drawn from ``seed`` (see the module docstring);
    ``n_in`` and ``n_classes`` give the same shape of network on other data."""
    return mlp(
        [n_in, hidden, n_classes], "sigmoid", rng=np.random.default_rng(seed), dtype=np.float32
    )


def q3_npz_bytes(model: Sequential, class_names: list[str], ink: str) -> bytes:
    """A trained Q3 network as the bytes of an ``.npz`` file (see the module docstring)."""
    first, last = model.layers[0].params, model.layers[-1].params
    buf = io.BytesIO()
    np.savez(
        buf,
        W1=first["W"],
        b1=first["b"],
        W2=last["W"],
        b2=last["b"],
        class_names=np.array(class_names, dtype=str),
        ink=np.array(ink, dtype=str),
    )
    return buf.getvalue()


def load_q3_npz(path: Path) -> tuple[Sequential, list[str], str]:
    """(network, class names, ink) from a file written by ``q3_npz_bytes``. DataError (one
    line, naming the file and what is wrong) for anything else."""
    path = Path(path)

    def bad(why: str) -> DataError:
        return DataError(f"Q3 network file {path} {why}; pass a numpy-classifier run directory")

    try:
        size = path.stat().st_size
    except OSError:
        raise bad("cannot be read") from None
    if size > MAX_FILE_BYTES:
        raise bad(f"is {size:,} bytes, more than the {MAX_FILE_BYTES:,} a Q3 network needs")
    try:
        with zipfile.ZipFile(path) as zf:
            names = {n.removesuffix(".npy") for n in zf.namelist()}
            expected = {"W1", "b1", "W2", "b2", "class_names", "ink"}
            if names != expected:
                raise bad(f"holds {sorted(names)}, not {sorted(expected)}")
            headers = {name: _header(zf, name) for name in expected}
            hidden = headers["b1"][0][0] if len(headers["b1"][0]) == 1 else -1
            if not 1 <= hidden <= MAX_HIDDEN:
                raise bad(f"has b1 of shape {headers['b1'][0]}, not (hidden,), 1 <= hidden <= 8192")
            shapes = {
                "W1": (N_IN, hidden),
                "b1": (hidden,),
                "W2": (hidden, N_CLASSES),
                "b2": (N_CLASSES,),
                "class_names": (N_CLASSES,),
                "ink": (),
            }
            for name, want in shapes.items():
                shape, dtype = headers[name]
                kind = "U" if name in ("class_names", "ink") else "f"
                if shape != want or dtype.kind != kind or (kind == "f" and dtype.itemsize < 4):
                    raise bad(f"has {name} {dtype} {shape}, expected {want}")
                if kind == "U" and dtype.itemsize > 4 * 16:
                    raise bad(f"has {name} strings of {dtype.itemsize // 4} characters")
            arrays = {name: _read(zf, name) for name in expected}
    except DataError:
        raise
    except Exception:  # not a zip, truncated, corrupt member
        raise bad("is not a readable .npz") from None
    weights = {k: arrays[k] for k in ("W1", "b1", "W2", "b2")}
    if not all(np.isfinite(w).all() for w in weights.values()):
        raise bad("holds weights that are not finite")
    ink = str(arrays["ink"])
    if ink not in INKS:
        raise bad(f"has ink {ink!r}, expected one of {', '.join(INKS)}")
    model = q3_network(hidden, 0)
    model.load_state_dict(
        {
            "0.W": weights["W1"].astype(np.float32),
            "0.b": weights["b1"].astype(np.float32),
            "2.W": weights["W2"].astype(np.float32),
            "2.b": weights["b2"].astype(np.float32),
        }
    )
    return model, [str(c) for c in arrays["class_names"]], ink


def _header(zf: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of a member ``.npy``, from its header alone."""
    with zf.open(f"{name}.npy") as f:
        version = np.lib.format.read_magic(f)
        read = {(1, 0): np.lib.format.read_array_header_1_0}.get(
            version, np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read(f)
    return tuple(shape), dtype


def _read(zf: zipfile.ZipFile, name: str) -> Any:
    with zf.open(f"{name}.npy") as f:
        return np.lib.format.read_array(f, allow_pickle=False)
