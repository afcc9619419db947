"""The character classifier OCR reads crops with: a chars36 CNN that ships with nnlab.

`character_classifier()` loads the shipped `nnlab/trained/ocr/<recipe name>.pt` (see
`nnlab.data.trained`: digest and recipe checked, `torch.load(weights_only=True)`), built by the
fixed `RECIPES[name]`: nnlab's `CNN` trained on the generated chars36 (training fonts only;
source "fonts", so the same data on every machine) on one CPU thread. The default recipe also
distorts every training batch afresh the way pages distort letters (`PAGE_AUGMENT`: slant,
fit, stroke width, faint ink, blur; see `nnlab.data.augment.glyph_augment`), on top of
chars36's fixed distortions. `nnlab retrain ocr` rebuilds the files. A file holds a dict
loadable by `nnlab.models.pretrained.load_model_file` ("state_dict", "cnn", "class_names"),
plus the input standardisation and the validation/test accuracy on the held-out chars36 fonts.
`Classifier.sha256` is the digest of that file: quote it with results.

`load_run_classifier(run_dir)` takes a trained model from a run directory instead: an `ocr`
run's `checkpoints/classifier.pt` (the same file format), or the CNN of a `lenet` run on
chars36 (its `checkpoints/last.pt`; its standardisation is recomputed from the chars36 it
trained on), or the Q3 network of a `numpy-classifier` run (`checkpoints/model.npz`: the
NumPy engine's 1024-64-36 sigmoid network, read by `nnlab.scratch.q3.load_q3_npz`) as a
`ScratchClassifier`.

    clf = character_classifier()              # "chars36-cnn"
    probabilities = clf.probabilities(crops)  # (N, 32, 32) in [0, 1], dark ink on white
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnlab.data.augment import GlyphAugment
from nnlab.errors import DataError
from nnlab.training.settings import CNNRecipe

if TYPE_CHECKING:
    import numpy as np
    from torch import nn

    from nnlab.data.trained import TrainedPart


@dataclass(frozen=True, kw_only=True)
class Recipe(CNNRecipe):
    """How the classifier is trained: a shipped CNN's recipe with its hidden layers, the
    chars36 it trains on, label smoothing and the distortions drawn for every batch."""

    hidden: tuple[int, ...]
    samples_per_glyph: int
    label_smoothing: float = 0.0
    augment: GlyphAugment = GlyphAugment()  # drawn afresh for every batch (none by default)

    def name(self, key: str) -> str:
        return f"{key}-v{self.version}"


# What a page does to a letter beyond chars36's own distortions: type that leans right
# (italic, up to about 17 degrees), a crop a little off in size and place, strokes from
# hairline to bold, ink that is faint in places, and the camera's blur. (The default recipe
# also smooths its labels a little: trained on these alone it called DejaVu Sans Mono's O a
# zero so confidently that a word of letters could not overrule it.)
PAGE_AUGMENT = GlyphAugment(
    shear=(-0.1, 0.3), scale=0.08, shift=1.5, stroke=1.0, fade=0.6, blur=0.6
)

RECIPES: dict[str, Recipe] = {
    # what `nnlab ocr` and the ocr experiment's quick/full presets read with
    "chars36-cnn": Recipe(
        version=2,
        channels=(32, 64),
        kernels=(5, 3),
        hidden=(128,),
        epochs=8,
        samples_per_glyph=20,
        label_smoothing=0.05,
        augment=PAGE_AUGMENT,
    ),
    # for smoke tests: trains in seconds, reads clean pages less well
    "chars36-cnn-small": Recipe(
        version=2, channels=(8, 16), kernels=(5, 3), hidden=(64,), epochs=3, samples_per_glyph=2
    ),
}
DEFAULT_RECIPE = "chars36-cnn"


@dataclass
class Classifier:
    """A chars36 classifier: the model, its input standardisation and where it came from."""

    model: nn.Module
    class_names: list[str]
    mean: float
    std: float
    source: str  # recipe name or run directory
    sha256: str
    test_accuracy: float | None
    path: Path

    def probabilities(self, crops: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """(N, classes) float64 class probabilities of (N, 32, 32) float crops in [0, 1]."""
        import numpy as np
        import torch

        if len(crops) == 0:
            return np.zeros((0, len(self.class_names)))
        x = torch.as_tensor((np.asarray(crops, np.float32) - self.mean) / self.std)[:, None]
        self.model.eval()
        with torch.no_grad():
            out = [torch.softmax(self.model(b).double(), 1) for b in x.split(batch_size)]
        return torch.cat(out).numpy()

    def info(self) -> dict[str, Any]:
        return {"source": self.source, "sha256": self.sha256, "test_accuracy": self.test_accuracy}


@dataclass
class ScratchClassifier:
    """A chars36 reader backed by the NumPy engine's Q3 network (seed 004 Q3): raw pixels in,
    no standardisation, as `numpy-classifier` trained it; `ink` "bright" networks see 1 - x."""

    model: Any  # nnlab.scratch.Sequential
    class_names: list[str]
    ink: str
    source: str
    sha256: str
    val_accuracy: float | None
    path: Path | None

    def probabilities(self, crops: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """(N, classes) float64 class probabilities of (N, 32, 32) float crops in [0, 1]."""
        import numpy as np

        from nnlab.scratch import flatten, softmax

        x = flatten(np.asarray(crops, np.float32))
        if self.ink == "bright":
            x = 1.0 - x
        out = [self.model.predict(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        logits = np.concatenate(out) if out else np.zeros((0, len(self.class_names)))
        return softmax(logits.astype(np.float64), axis=1)

    def info(self) -> dict[str, Any]:
        return {"source": self.source, "sha256": self.sha256, "val_accuracy": self.val_accuracy}


def load_scratch_classifier(path: Path, source: str | None = None) -> ScratchClassifier:
    """The Q3 network in an `.npz` file written by `numpy-classifier`; DataError (one line)
    for a missing, wrong or hostile file."""
    from nnlab.scratch.q3 import load_q3_npz

    path = Path(path)
    model, names, ink = load_q3_npz(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return ScratchClassifier(model, names, ink, source or str(path), sha, None, path)


def recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise DataError(f"no OCR classifier recipe {name!r}; choose one of: {', '.join(RECIPES)}")
    return RECIPES[name]


def trained_parts() -> dict[str, TrainedPart]:
    """Every recipe as a shipped part (`nnlab.data.trained`)."""
    from functools import partial

    from nnlab.data.trained import TrainedPart

    return {
        key: TrainedPart("ocr", key, rec.name(key), rec, partial(_train, key))
        for key, rec in RECIPES.items()
    }


def _cnn_kwargs(rec: Recipe, n_classes: int) -> dict[str, Any]:
    return {
        "input_shape": [1, 32, 32],
        "n_classes": n_classes,
        "channels": list(rec.channels),
        "kernels": list(rec.kernels),
        "hidden": list(rec.hidden),
        "dropout": rec.dropout,
    }


def _train(name: str, progress: bool) -> dict[str, Any]:
    """Train by the recipe; the file's payload (weights rounded to float16, as they ship),
    which depends only on the recipe, the generated chars36 and the torch build."""
    import torch

    from nnlab.data.augment import glyph_augment
    from nnlab.data.chars36 import load_chars36
    from nnlab.data.trained import round_to_float16
    from nnlab.models.cnn import CNN
    from nnlab.training.classifier import evaluate, train_by_recipe
    from nnlab.training.tensors import image_tensors
    from nnlab.training.threads import torch_threads

    rec = recipe(name)
    data = load_chars36(source="fonts", samples_per_glyph=rec.samples_per_glyph, seed=rec.seed)
    tensors = image_tensors(data, 0, torch.device("cpu"))
    (x, y), val, test = tensors["train"], tensors["val"], tensors["test"]
    mean, std = float(data.x_train.mean()), float(data.x_train.std())
    kwargs = _cnn_kwargs(rec, len(data.class_names))
    draws = torch.Generator().manual_seed(rec.seed + 1)
    transform = None
    if rec.augment != GlyphAugment():

        def transform(batch: torch.Tensor) -> torch.Tensor:
            return glyph_augment(batch, draws, rec.augment)

    model = train_by_recipe(
        rec,
        lambda: CNN(**kwargs),
        x,
        y,
        desc=f"training the OCR classifier {rec.name(name)}",
        progress=progress,
        label_smoothing=rec.label_smoothing,
        transform=transform,
    )
    round_to_float16(model)
    with torch_threads(1):
        val_accuracy, test_accuracy = evaluate(model, *val)[1], evaluate(model, *test)[1]
    return {
        "recipe_name": rec.name(name),
        "recipe": asdict(rec),
        "cnn": kwargs,
        "class_names": list(data.class_names),
        "mean": mean,
        "std": std,
        "val_accuracy": val_accuracy,
        "test_accuracy": test_accuracy,
        "state_dict": model.state_dict(),
    }


def load_classifier_file(path: Path, source: str | None = None) -> Classifier:
    """Read a classifier file (weights_only: tensors and plain values, never code)."""
    import torch

    try:
        blob = path.read_bytes()
        payload = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception:  # missing, truncated, not a torch file
        raise DataError(f"classifier file {path} is unreadable; pass another --model") from None
    return _classifier(payload, hashlib.sha256(blob).hexdigest(), path, source)


def _classifier(payload: Any, sha: str, path: Path, source: str | None) -> Classifier:
    from nnlab.models.cnn import CNN
    from nnlab.models.loading import build_checked

    try:
        arch, weights = dict(payload["cnn"]), payload["state_dict"]
        names, mean, std = list(payload["class_names"]), payload["mean"], payload["std"]
    except Exception:  # not a dict, keys missing
        raise DataError(f"classifier file {path} is unreadable; pass another --model") from None
    # float16 in the file, float32 here; its size checked against its weights first
    model = build_checked(lambda: CNN(**arch), weights, f"classifier file {path}")
    model.eval()
    return Classifier(
        model,
        names,
        float(mean),
        float(std),
        source or str(payload.get("recipe_name", path)),
        sha,
        payload.get("test_accuracy"),
        path,
    )


def character_classifier(name: str = DEFAULT_RECIPE) -> Classifier:
    """The recipe's shipped classifier ("chars36-cnn" reads pages; "chars36-cnn-small", for
    smoke tests, reads clean pages less well). DataError if its file is corrupt or was built by
    another recipe (see `nnlab.data.trained`)."""
    from nnlab.data.trained import load

    recipe(name)  # DataError for an unknown name
    shipped = load(trained_parts()[name])
    return _classifier(shipped.payload, shipped.sha256, shipped.path, None)


def load_run_classifier(run_dir: Path) -> Classifier | ScratchClassifier:
    """The classifier of an `ocr` run (`checkpoints/classifier.pt`), the CNN of a `lenet`
    run on chars36, or the Q3 network of a `numpy-classifier` run (`checkpoints/model.npz`).
    DataError (one line) for anything else."""
    import torch

    run_dir = Path(run_dir)
    saved = run_dir / "checkpoints" / "classifier.pt"
    if saved.is_file():
        return load_classifier_file(saved, source=str(run_dir))
    try:
        config = json.loads((run_dir / "config.json").read_text())
        experiment, settings = config["experiment"], config["config"]
    except (OSError, ValueError, KeyError, TypeError):
        raise DataError(
            f"{run_dir} is not a run directory (no readable config.json); pass an ocr, "
            "lenet or numpy-classifier run directory"
        ) from None
    if experiment == "numpy-classifier":
        npz = run_dir / "checkpoints" / "model.npz"
        if not npz.is_file():
            raise DataError(
                f"{run_dir} has no checkpoints/model.npz; is the numpy-classifier run complete?"
            )
        reader = load_scratch_classifier(npz, source=str(run_dir))
        try:  # the saved network's chars36 validation accuracy, as the run measured it
            summary = json.loads((run_dir / "summary.json").read_text())
            reader.val_accuracy = float(summary["val_accuracy"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return reader
    if experiment != "lenet" or settings.get("dataset") != "chars36":
        raise DataError(
            f"{run_dir} is a {experiment} run on {settings.get('dataset', '?')}; the "
            "reader needs a lenet run on chars36, a numpy-classifier run or an ocr run"
        )
    from nnlab.data import load_dataset
    from nnlab.models.cnn import CNN

    checkpoint = run_dir / "checkpoints" / "last.pt"
    try:
        blob = checkpoint.read_bytes()
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        data = load_dataset("chars36")  # what lenet loaded (its default options)
        model = CNN(
            (1, 32, 32),
            len(data.class_names),
            settings["channels"],
            settings["kernels"],
            settings["cnn_hidden"],
            dropout=0.0,
            batchnorm=False,
            activation_name=settings["activation"],
        )
        model.load_state_dict(state["models"]["cnn"])
    except Exception:
        raise DataError(
            f"cannot load the CNN of {run_dir} from {checkpoint}; is the run complete?"
        ) from None
    x_train = data.x_train[: settings["train_subset"] or None]  # lenet's standardisation
    model.eval()
    return Classifier(
        model,
        list(data.class_names),
        float(x_train.mean()),
        float(x_train.std()),
        str(run_dir),
        hashlib.sha256(blob).hexdigest(),
        None,
        checkpoint,
    )
