"""Small trained parts the library itself needs, shipped as package data: the OCR character
classifier (`nnlab.ocr.classifier`) and the Fréchet feature extractors
(`nnlab.diffusion.frechet`). Nothing trains on first use.

A part is a `TrainedPart`: a family ("ocr", "frechet"), a recipe key ("chars36-cnn", "mnist"),
the recipe (a frozen dataclass with an int `version`, kept in the code) and the function that
trains by it. Its weights ship as `nnlab/trained/<family>/<name>.pt` (a `torch.save`d dict of
tensors and plain values, state dict in float16: the recipes round their weights to float16
before measuring, so the recorded accuracy is the shipped file's), and `nnlab/trained/
manifest.json` records beside each file its SHA-256, size, recipe name, version and fields,
and its measured accuracy. `load(part)` reads a file with `torch.load(weights_only=True)` after
checking the digest and that the code's recipe is the one the file was built by; either
mismatch is a one-line `DataError`.

The files are rebuilt from their recipes, seeded and on one CPU thread (about 4 minutes for the
OCR classifier, 2 for each MNIST-sized extractor; MNIST and Fashion-MNIST need `NNLAB_DATA`):

    nnlab retrain ocr                          # every OCR recipe
    nnlab retrain frechet --recipe mnist       # one extractor
    python -m nnlab.data.trained frechet       # the same without the CLI

Each file is written atomically, then the manifest. Another torch build or CPU may round
differently, so a rebuilt file need not repeat the shipped bytes; its accuracy repeats within
the tolerance the slow test `tests/test_trained.py` states.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnlab.errors import DataError

if TYPE_CHECKING:
    from torch import nn

#: Where the shipped files and their manifest live (inside the installed package).
SHIPPED = Path(__file__).resolve().parent.parent / "trained"
MANIFEST = "manifest.json"
FILE_FORMAT = 2  # 1: the cached files of nnlab <= 0.1 (float32, no manifest)
#: The modules whose `trained_parts()` declare each family's parts.
FAMILIES = {"ocr": "nnlab.ocr.classifier", "frechet": "nnlab.diffusion.frechet"}


@dataclass(frozen=True)
class TrainedPart:
    """One shipped trained part and the recipe that rebuilds it."""

    family: str  # a key of FAMILIES: the folder under nnlab/trained and `nnlab retrain`'s word
    key: str  # the recipe's key in its module's RECIPES
    name: str  # the file's stem, with the recipe version: "chars36-cnn-v2", "mnist-cnn-v1"
    recipe: Any  # a frozen dataclass with an int `version`
    train: Callable[[bool], dict[str, Any]]  # progress -> payload with a "state_dict"

    @property
    def file(self) -> str:
        """The file's path relative to the shipped folder, as the manifest names it."""
        return f"{self.family}/{self.name}.pt"

    def recipe_fields(self) -> dict[str, Any]:
        """The recipe as plain JSON values (tuples as lists), as the manifest records it."""
        return json.loads(json.dumps(asdict(self.recipe)))


@dataclass
class Loaded:
    """A shipped file read back: its payload, digest and path."""

    payload: dict[str, Any]
    sha256: str
    path: Path


def parts(family: str) -> dict[str, TrainedPart]:
    """The family's parts by recipe key; DataError for an unknown family."""
    if family not in FAMILIES:
        raise DataError(f"no trained parts {family!r}; choose one of: {', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[family]).trained_parts()


def read_manifest(directory: Path | None = None) -> dict[str, Any]:
    """The manifest's {"format", "files": {file: entry}}; empty files if there is none yet."""
    path = (directory or SHIPPED) / MANIFEST
    if not path.is_file():
        return {"format": FILE_FORMAT, "files": {}}
    try:
        manifest = json.loads(path.read_text())
        manifest["files"].items()  # noqa: B018 - shape check
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise DataError(f"{path} is unreadable; reinstall nnlab or run `nnlab retrain`") from None
    return manifest


def load(part: TrainedPart, directory: Path | None = None) -> Loaded:
    """Read `part`'s shipped file: digest and recipe checked against the manifest, then
    `torch.load(weights_only=True)` (tensors and plain values, never code)."""
    import torch

    directory = directory or SHIPPED
    path = directory / part.file
    rebuild = f"nnlab retrain {part.family} --recipe {part.key}"
    entry = read_manifest(directory)["files"].get(part.file)
    if entry is None or not path.is_file():
        raise DataError(f"{part.name} is not shipped in {directory}; build it with `{rebuild}`")
    if entry.get("recipe_fields") != part.recipe_fields():
        raise DataError(
            f"{path} was built by another recipe than {part.name}'s in the code; rebuild it "
            f"with `{rebuild}` (or give the changed recipe a new version)"
        )
    blob = path.read_bytes()
    actual = hashlib.sha256(blob).hexdigest()
    if actual != entry.get("sha256"):
        raise DataError(
            f"{path} is corrupt: SHA-256 expected {entry.get('sha256')}, actual {actual}; "
            f"reinstall nnlab or run `{rebuild}`"
        )
    try:
        payload = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        payload["state_dict"].items()  # noqa: B018 - shape check
    except Exception:  # not a torch file, not a dict
        raise DataError(f"{path} is unreadable; reinstall nnlab or run `{rebuild}`") from None
    return Loaded(payload, actual, path)


def round_to_float16(model: nn.Module) -> None:
    """Round the model's floating-point parameters and buffers to float16 values, in place
    (they stay float32): the weights as they will ship. Call before measuring accuracy."""
    import torch

    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().float())


def encode(payload: dict[str, Any]) -> bytes:
    """The file's bytes: the payload with its state dict in float16 (`load_state_dict` turns
    it back into the model's float32) and the file format."""
    import torch

    state = {k: v.half() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    buffer = io.BytesIO()
    torch.save({**payload, "format": FILE_FORMAT, "state_dict": state}, buffer)
    return buffer.getvalue()


def _metrics(payload: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in payload.items() if k.endswith("_accuracy") and v is not None}


def retrain(
    family: str,
    keys: Sequence[str] | None = None,
    *,
    directory: Path | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Train `family`'s recipes (all, or `keys`) and write their files, each atomically, then
    the manifest; the manifest entries written. DataError for an unknown key or a missing
    dataset (nothing is written then)."""

    known = parts(family)
    for key in keys or []:
        if key not in known:
            raise DataError(f"no {family} recipe {key!r}; choose one of: {', '.join(known)}")
    # train everything first: a failure (a missing dataset) leaves the old files as they were
    built = [build(part, part.train(progress)) for part in (known[k] for k in keys or known)]
    return write(built, directory)


def build(part: TrainedPart, payload: dict[str, Any]) -> tuple[TrainedPart, bytes, dict]:
    """A trained payload as the part's file bytes and manifest entry."""
    import torch

    blob = encode(payload)
    entry = {
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
        "recipe": part.name,
        "recipe_version": part.recipe.version,
        "recipe_fields": part.recipe_fields(),
        "dtype": "float16",
        "torch": torch.__version__,
        **_metrics(payload),
    }
    return part, blob, entry


def write(
    built: Sequence[tuple[TrainedPart, bytes, dict]], directory: Path | None = None
) -> list[dict[str, Any]]:
    """Write built files, each atomically, then the manifest; the entries written."""
    from nnlab.io import atomic_write_bytes, atomic_write_json

    directory = directory or SHIPPED
    manifest = read_manifest(directory)
    for part, blob, entry in built:
        (directory / part.family).mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(directory / part.file, blob).chmod(0o644)  # package data: readable
        manifest["files"][part.file] = entry
    manifest["format"] = FILE_FORMAT
    atomic_write_json(directory / MANIFEST, manifest).chmod(0o644)
    return [{"file": part.file, **entry} for part, _, entry in built]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m nnlab.data.trained FAMILY [--recipe KEY ...]`: retrain and print each file."""
    from nnlab.cli import main as cli_main

    return cli_main(["retrain", *(sys.argv[1:] if argv is None else argv)])


def run(args: Any) -> None:
    """`nnlab retrain`: `args.family`, `args.recipe` (a list of keys or None)."""
    for entry in retrain(args.family, args.recipe, progress=sys.stderr.isatty()):
        accuracy = ", ".join(f"{k} {v:.4f}" for k, v in entry.items() if k.endswith("accuracy"))
        print(
            f"{SHIPPED / entry['file']}  {entry['bytes'] / 1024:.0f} KB  sha256 "
            f"{entry['sha256']}  {accuracy}"
        )


if __name__ == "__main__":
    sys.exit(main())
