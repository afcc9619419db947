"""Pretrained image classifiers: ImageNet torchvision models by name, and model files.

torchvision is the optional `vision` extra (``pip install 'nnlab[vision]'``); its weights
come from the cache under ``$TORCH_HOME`` (or a download). Without either, the functions
raise one-line `UserError`s that say what to install or where to put the weights.

    model, categories = imagenet_model("resnet18")      # 1000 ImageNet categories
    model = pretrained_classifier("resnet18", 3)       # a new last layer for 3 classes
    x = imagenet_normalize(images)                     # (N, 3, H, W) in [0, 1]
    model, names = load_model_file(Path("cnn.pt"))     # TorchScript or a weights-only dict
    local = load_local_model("chars36-cnn")            # also a run directory or a file
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from nnlab.data.registry import offline
from nnlab.errors import ConfigError, DataError, UserError
from nnlab.models.cnn import CNN
from nnlab.models.loading import build_checked

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MODEL_FILE_SUFFIXES = (".pt", ".pth", ".ts", ".jit")


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) images in [0, 1] standardised per channel as ImageNet models expect."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def require_torchvision(what: str, hint: str = "") -> ModuleType:
    """Import torchvision, or raise a one-line UserError: "`what` needs torchvision: ..."."""
    try:
        import torchvision
    except ImportError:
        raise UserError(
            f"{what} needs torchvision: pip install 'nnlab[vision]' and cached weights "
            f"(TORCH_HOME){hint}"
        ) from None
    return torchvision


def imagenet_model(name: str, what: str = "", hint: str = "") -> tuple[nn.Module, list[str]]:
    """A torchvision model with its default ImageNet weights, and its category names.

    `what` names the setting in error messages (default ``model=<name>``), `hint` is added
    to the missing-torchvision message."""
    what = what or f"model={name}"
    models = require_torchvision(what, hint).models
    try:
        weights = models.get_model_weights(name).DEFAULT
    except (ValueError, KeyError):
        raise ConfigError(
            f"torchvision has no model {name!r} with pretrained weights "
            "(e.g. resnet18, squeezenet1_1, mobilenet_v3_small)"
        ) from None
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if offline() and not cached.is_file():
        raise UserError(
            f"{what}: its ImageNet weights are not in {cached.parent} and NNLAB_OFFLINE is set, "
            "so nothing is downloaded; unset it or put the weights there"
        )
    try:
        model = models.get_model(name, weights=weights)
    except Exception as exc:  # offline without cached weights, corrupt download, ...
        raise UserError(
            f"{what}: cannot load its ImageNet weights ({type(exc).__name__}); download "
            "them once online or put them in $TORCH_HOME/hub/checkpoints"
        ) from None
    return model, list(weights.meta["categories"])


def pretrained_classifier(name: str, n_classes: int, what: str = "") -> nn.Module:
    """An ImageNet resnet18 or squeezenet1_1 whose last layer is replaced by a new one (random
    initialisation) for `n_classes`, ready to fine-tune."""
    model, _ = imagenet_model(name, what or f"pretrained={name}")
    if name == "resnet18":
        model.fc = nn.Linear(model.fc.in_features, n_classes)
    elif name == "squeezenet1_1":  # the classifier is a 1x1 convolution to 1000 channels
        model.classifier[1] = nn.Conv2d(512, n_classes, kernel_size=1)
        model.num_classes = n_classes
    else:
        raise ConfigError(f"cannot replace the classifier of {name}; use resnet18 or squeezenet1_1")
    return model


def is_model_file(model: str) -> bool:
    """Does `model` name a file (by suffix, a path separator or existence) rather than a
    torchvision model?"""
    return model.lower().endswith(MODEL_FILE_SUFFIXES) or "/" in model or Path(model).is_file()


def load_model_file(path: Path) -> tuple[nn.Module, list[str] | None]:
    """A TorchScript archive (`torch.jit.save`), or a `torch.save`d dict with "state_dict",
    "cnn" (the keyword arguments of `nnlab.models.CNN`) and optionally "class_names", loaded
    with weights_only. Returns the model and its class names, if the file has them.

    A TorchScript archive is code: the model it holds runs whatever its author compiled into
    it, so load only files you trust as you would a script. The state-dict form is data
    (weights_only never unpickles code)."""
    model, names, _ = _load_file(path)
    return model, names


def _load_file(path: Path) -> tuple[nn.Module, list[str] | None, dict]:
    """`load_model_file`'s model and names, and the state-dict file's dict ({} for
    TorchScript)."""
    if not path.is_file():
        raise DataError(f"model file {path} does not exist")
    try:
        return torch.jit.load(str(path), map_location="cpu"), None, {}
    except RuntimeError:
        pass  # not TorchScript: try a plain state-dict file
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataError(
            f"cannot load {path} as TorchScript or with weights_only ({type(exc).__name__})"
        ) from None
    if not isinstance(saved, dict) or "state_dict" not in saved or "cnn" not in saved:
        raise DataError(
            f"{path} is a state dict without its architecture: save a dict with 'state_dict' "
            "and 'cnn' (nnlab.models.CNN keyword arguments), or a TorchScript archive"
        )
    arch = saved["cnn"] if isinstance(saved["cnn"], dict) else {}
    model = build_checked(lambda: CNN(**arch), saved["state_dict"], f"model file {path}")
    names = saved.get("class_names")
    return model, list(names) if names else None, saved


@dataclass
class LocalModel:
    """A classifier from a local file: the model, its class names (None: not recorded), the
    (C, H, W) input of an nnlab `CNN` (None for TorchScript: any input) and the input
    standardisation `(x - mean) / std` the file records (None: inputs in [0, 1] as they are)."""

    model: nn.Module
    class_names: list[str] | None
    input_shape: tuple[int, int, int] | None
    mean: float | None
    std: float | None
    source: str


#: Where a run directory keeps its classifier: fine-tuning's model, ocr's classifier.
RUN_MODELS = ("checkpoints/model.pt", "checkpoints/classifier.pt")


def load_local_model(spec: str) -> LocalModel:
    """A shipped nnlab classifier by name (the OCR classifiers "chars36-cnn",
    "chars36-cnn-small"), a run directory holding one of `RUN_MODELS` (a fine-tuning or ocr
    run), or a model file (`load_model_file`; a state-dict file may record "mean" and "std").
    DataError (one line) for anything else."""
    from nnlab.ocr.classifier import RECIPES, character_classifier

    if spec in RECIPES:
        shipped = character_classifier(spec)
        model = shipped.model
        return LocalModel(
            model, shipped.class_names, model.input_shape, shipped.mean, shipped.std, spec
        )
    path = Path(spec).expanduser()
    if path.is_dir():
        found = [path / name for name in RUN_MODELS if (path / name).is_file()]
        if not found:
            raise DataError(
                f"{path} holds no {' or '.join(RUN_MODELS)}: pass a fine-tuning or ocr run "
                "directory, a model file or a shipped classifier (chars36-cnn)"
            )
        path = found[0]
    model, names, saved = _load_file(path)
    if not isinstance(model, CNN):
        return LocalModel(model, names, None, None, None, path.name)
    mean, std = saved.get("mean"), saved.get("std")
    return LocalModel(
        model,
        names,
        model.input_shape,
        None if mean is None else float(mean),
        None if std is None else float(std),
        path.name if path.parent.name != "checkpoints" else str(path.parent.parent.name),
    )


def is_local_model(model: str) -> bool:
    """Does `model` name a shipped nnlab classifier, a directory or a model file (rather than
    a torchvision model)?"""
    from nnlab.ocr.classifier import RECIPES

    return model in RECIPES or Path(model).expanduser().is_dir() or is_model_file(model)
