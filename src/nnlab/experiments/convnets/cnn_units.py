"""cnn-units: what the units of a trained CNN respond to (seed 003, Zeiler & Fergus 2013).

The CNN is either trained here (``nnlab.models.CNN``: conv → batch norm → ReLU → 2x2
max-pool, twice; on MNIST, or ``dataset=digits`` for the embedded 8x8 digits) or, with
``--set model_run=RUN_DIR``, the final model of a finished ``cnn-mnist`` run, rebuilt from
that run's config and loaded from its ``checkpoints/last.pt``; its test split is standardised
as that run's was, so the reported test accuracy is the run's own. The run must be on
``dataset`` (give ``dataset=digits`` for a digits run) and its model have at least two
convolutions; the first two are looked inside (deeper blocks still shape the class images):

* **top-activating patches**: for each of the first ``channels_shown`` channels of the first
  and second convolution, the ``top`` test-image patches where that channel's activation (after
  batch norm and ReLU) is largest. A patch is the unit's receptive field, computed from the
  model's own kernels, strides, paddings and pools: k1 x k1 pixels in layer 1, 2·k2 + k1 − 1
  pixels square in layer 2 (10x10 for k1 = 5, k2 = 3, through the 2x2 pooling); it is cropped
  from the image padded with its background;
* **activation maximisation**: for each class, the input that maximises that class's logit
  minus ``l2`` ‖x‖², by Adam from a blank (background) image, clamped to the pixel range of
  the data: what the network "thinks" a 3 looks like. The run reports the softmax
  probability the network gives each synthetic image for its class.

Without MNIST (``NNLAB_DATA`` unset) the quick preset stops with the one-line error that
names `nnlab data fetch mnist`; ``--set dataset=digits`` runs on embedded data.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import numpy as np
    import torch

    from nnlab.runs.run import Run


@dataclass
class Config(ExperimentConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    channels: tuple[int, ...] = param((16, 32), low=1, high=512, help="filters of conv 1, conv 2")
    kernels: tuple[int, ...] = param((5, 3), low=1, high=15, help="kernel sizes of conv 1, 2")
    epochs: int = param(1, low=1, high=1_000)
    train_subset: int = param(20000, low=0, high=10_000_000, help="training images (0: all)")
    lr: float = param(3e-3, low=0.0, low_open=True)
    batch_size: int = param(128, low=1, high=100_000)
    search_images: int = param(
        2000, low=10, high=100_000, help="test images searched for top patches"
    )
    top: int = param(8, low=1, high=64, help="patches shown per channel")
    channels_shown: int = param(8, low=1, high=512, help="channels shown per layer")
    steps: int = param(200, low=1, high=100_000, help="Adam steps of activation maximisation")
    l2: float = param(0.05, low=0.0, help="weight of ‖x‖² in activation maximisation")
    model_run: str = param(
        "",
        help="a finished cnn-mnist run directory whose model to look inside instead of "
        "training one (channels, kernels and the training settings are then the run's)",
    )

    def check(self) -> None:
        from nnlab.errors import ConfigError

        if self.model_run:  # the loaded model's layers are checked when it is read
            return
        if len(self.channels) != 2 or len(self.kernels) != 2:
            raise ConfigError(
                "cnn-units looks at two convolution layers: give two channels and two kernels, "
                f"e.g. channels=16,32 kernels=5,3; got channels={','.join(map(str, self.channels))}"
                f" kernels={','.join(map(str, self.kernels))}"
            )
        if self.channels_shown > min(self.channels):
            raise ConfigError(
                f"channels_shown={self.channels_shown} exceeds the smaller layer's "
                f"{min(self.channels)} channels"
            )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "dataset": "digits",
        "channels": (8, 16),
        "kernels": (3, 3),
        "epochs": 4,
        "search_images": 300,
        "top": 6,
        "channels_shown": 6,
        "steps": 60,
    },
    "quick": {},
    "full": {"channels": (40, 64), "epochs": 5, "train_subset": 0, "search_images": 10000},
}


def receptive_field(modules: Iterable[torch.nn.Module]) -> tuple[int, int, int]:
    """(size, stride, offset) in input pixels of a unit at the output of ``modules`` (a run of
    convolutions, max-pools and element-wise layers): unit (i, j) sees rows stride·i + offset
    ... + size − 1 (same for columns)."""
    import torch

    size, stride, offset = 1, 1, 0
    for m in modules:
        if isinstance(m, torch.nn.Conv2d | torch.nn.MaxPool2d):
            k, s, p, d = (
                _square(m, name) for name in ("kernel_size", "stride", "padding", "dilation")
            )
            # output unit i reads inputs s·i − p ... s·i − p + d(k − 1), each seeing `size`
            # pixels from its own start
            offset -= p * stride
            size += d * (k - 1) * stride
            stride *= s
    return size, stride, offset


def _square(module: torch.nn.Module, name: str) -> int:
    value = getattr(module, name)
    if isinstance(value, int):
        return value
    if len(set(value)) != 1:
        raise ValueError(f"{module}: {name} {value} is not square")
    return int(value[0])


def top_patches(
    acts: torch.Tensor, images: np.ndarray, field: tuple[int, int, int], top: int, fill: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each channel of ``acts`` (N, C, H, W), the ``top`` largest activations over images
    and positions, and the receptive-field patches of ``images`` (N, h, w) they look at:
    (patches (C, top, size, size), values (C, top))."""
    import numpy as np

    size, stride, offset = field
    n, c, h, w = acts.shape
    flat = acts.permute(1, 0, 2, 3).reshape(c, -1)
    values, where = flat.topk(top, dim=1)
    where = where.numpy()
    img, rem = np.divmod(where, h * w)
    i, j = np.divmod(rem, w)
    pad = size
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    rows = (stride * i + offset + pad)[..., None] + np.arange(size)  # (C, top, size)
    cols = (stride * j + offset + pad)[..., None] + np.arange(size)
    patches = padded[img[..., None, None], rows[..., :, None], cols[..., None, :]]
    return patches, values.numpy()


def maximise_classes(
    model: torch.nn.Module, shape: tuple[int, ...], steps: int, l2: float, low: float, high: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One input per class maximising its logit − l2 ‖x‖² (Adam, lr 0.1, from the background
    ``low``, clamped to [low, high]); returns (images (K, C, H, W), softmax probabilities)."""
    import torch

    model.eval()
    n_classes = model(torch.zeros(1, *shape)).shape[1]
    x = torch.full((n_classes, *shape), low, requires_grad=True)
    # optimises the input, not the weights: no training loop of the library applies
    opt = torch.optim.Adam([x], lr=0.1)
    target = torch.arange(n_classes)
    for _ in range(steps):
        opt.zero_grad()
        logits = model(x)
        objective = logits[target, target].sum() - l2 * (x - low).pow(2).sum()
        (-objective).backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(low, high)
    with torch.no_grad():
        probs = model(x).softmax(dim=1)
    return x.detach(), probs


def read_cnn_mnist_run(directory: str, dataset: str) -> dict[str, Any]:
    """The resolved config of a completed cnn-mnist run on `dataset`, or a ConfigError."""
    from nnlab.config import current_names
    from nnlab.errors import ConfigError, UserError
    from nnlab.runs.read import read_run

    path = Path(directory)
    try:
        found = read_run(path, metrics=False)
    except UserError as exc:
        raise ConfigError(
            f"model_run={directory} is not a run directory ({exc}); "
            "pass a directory written by `nnlab run cnn-mnist`"
        ) from None
    config, status = found.config, found.status
    if config.get("experiment") != "cnn-mnist":
        raise ConfigError(
            f"model_run={directory} is a run of {config.get('experiment')!r}, not cnn-mnist"
        )
    if status.get("state") != "completed" or not (path / "checkpoints" / "last.pt").is_file():
        raise ConfigError(
            f"model_run={directory} is not a finished cnn-mnist run (state "
            f"{status.get('state')!r}); finish it with `nnlab run --resume {directory}`"
        )
    trained_on = config["config"]["dataset"]
    if trained_on != dataset:
        readable = typing.get_args(typing.get_type_hints(Config)["dataset"])
        hint = (
            f"set dataset={trained_on}"
            if trained_on in readable
            else f"cnn-units reads {', '.join(readable)}"
        )
        raise ConfigError(
            f"model_run={directory} was trained on {trained_on}, not dataset={dataset}: {hint}"
        )
    return current_names(config["config"])


def load_cnn_mnist_model(
    directory: str, config: dict[str, Any], input_shape: Sequence[int], n_classes: int
) -> torch.nn.Module:
    """The CNN of a cnn-mnist run, rebuilt from its config, with its final weights (eval mode,
    on the CPU); a ConfigError unless it has at least two convolutions."""
    import torch

    from nnlab.errors import ConfigError
    from nnlab.models import CNN
    from nnlab.models.loading import build_checked

    path = Path(directory) / "checkpoints" / "last.pt"
    try:
        arch = [config[k] for k in ("channels", "kernels", "hidden", "dropout", "batch_norm")]
        weights = torch.load(path, map_location="cpu", weights_only=True)["model"]
    except Exception as exc:  # a damaged or foreign file means the same to the user
        raise ConfigError(
            f"{path} cannot be loaded as its run's CNN ({type(exc).__name__}: {exc})"
        ) from None
    model = build_checked(lambda: CNN(input_shape, n_classes, *arch), weights, f"{path} (a CNN)")
    convs = sum(isinstance(m, torch.nn.Conv2d) for m in model.features)
    if convs < 2:
        raise ConfigError(
            f"model_run={directory} has {convs} convolution layer; cnn-units looks at two"
        )
    return model.eval()


def conv_outputs(features: torch.nn.Sequential) -> list[int]:
    """For each convolution of `features`, the index just past its block's activation (the
    layer before the next max-pool): ``features[:end]`` is that convolution's unit output."""
    import torch

    ends = []
    for i, m in enumerate(features):
        if isinstance(m, torch.nn.Conv2d):
            ends.append(len(features))
        elif isinstance(m, torch.nn.MaxPool2d) and ends and ends[-1] == len(features):
            ends[-1] = i
    return ends


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.errors import ConfigError
    from nnlab.models import CNN
    from nnlab.training.classifier import evaluate, fit_classifier
    from nnlab.training.tensors import image_tensors
    from nnlab.viz import image_grid
    from nnlab.viz.fundamentals import unit_patches_figure

    trained = read_cnn_mnist_run(cfg.model_run, cfg.dataset) if cfg.model_run else None
    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    # the run's own subset: the standardisation uses the training images' mean and std
    subset = trained["train_subset"] if trained else cfg.train_subset
    tensors = image_tensors(data, subset, run.device)
    (x_train, y_train), (x_test, y_test) = tensors["train"], tensors["test"]
    n_classes = len(data.class_names)
    if trained is None:
        model = CNN(x_train.shape[1:], n_classes, cfg.channels, cfg.kernels, (64,)).to(run.device)
        fit_classifier(
            run,
            model,
            (x_train, y_train),
            (x_test, y_test),
            optimizer="adam",
            lr=cfg.lr,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            desc=f"{cfg.dataset} CNN",
        )
    else:
        model = load_cnn_mnist_model(cfg.model_run, trained, x_train.shape[1:], n_classes)
        model = model.to(run.device)
    test_loss, test_acc, _ = evaluate(model, x_test, y_test)
    model = model.cpu().eval()
    ends = conv_outputs(model.features)[:2]
    convs = [m for m in model.features if isinstance(m, torch.nn.Conv2d)][:2]
    widths = [c.out_channels for c in convs]
    if cfg.channels_shown > min(widths):
        raise ConfigError(
            f"channels_shown={cfg.channels_shown} exceeds the smaller layer's {min(widths)} "
            "channels"
        )
    search = x_test[: cfg.search_images].cpu()
    with torch.no_grad():
        unit_acts = [model.features[:end](search) for end in ends]
    images = search[:, 0].numpy()
    background = float(x_train.amin())
    found = {}
    for layer, (acts, end) in enumerate(zip(unit_acts, ends, strict=True), start=1):
        field = receptive_field(model.features[:end])
        patches, values = top_patches(
            acts[:, : cfg.channels_shown], images, field, cfg.top, background
        )
        found[layer] = (patches, values, field)
        run.figure(
            f"top_patches_layer{layer}",
            unit_patches_figure(
                patches,
                values,
                title=f"Layer {layer}: the {cfg.top} test patches ({field[0]}x{field[0]} px "
                f"receptive field) that excite each of {cfg.channels_shown} channels most",
            ),
            f"Each row is one channel of convolution {layer} (after its activation); its "
            f"{cfg.top} strongest responses over {len(search)} test images, the activation over "
            "each patch. Layer 1 units respond to short strokes of one orientation, layer 2 "
            "units to larger stroke combinations.",
        )
    synth, probs = maximise_classes(
        model, tuple(x_train.shape[1:]), cfg.steps, cfg.l2, background, float(x_train.amax())
    )
    own = probs[torch.arange(len(probs)), torch.arange(len(probs))].numpy()
    names = data.class_names
    run.figure(
        "activation_maximisation",
        image_grid(
            synth[:, 0].numpy(),
            ncols=len(names),
            titles=[f"{n}: p = {p:.2f}" for n, p in zip(names, own, strict=True)],
            title="The input that maximises each class's logit (with an L2 penalty)",
        ),
        f"Adam, {cfg.steps} steps from a blank image, objective logit_c − {cfg.l2:g}‖x‖², pixels "
        "clamped to the data's range; p: the network's softmax probability of that class.",
    )
    return {
        "dataset": cfg.dataset,
        "model_run": cfg.model_run,
        "channels": widths,
        "kernels": [_square(c, "kernel_size") for c in convs],
        "test_accuracy": test_acc,
        "test_loss": test_loss,
        "receptive_field_layer1": found[1][2][0],
        "receptive_field_layer2": found[2][2][0],
        "top_activation_layer1": [float(v) for v in found[1][1][:, 0]],
        "top_activation_layer2": [float(v) for v in found[2][1][:, 0]],
        "maximised_class_probability": [float(p) for p in own],
        "maximised_predicted_as_target": int(
            (probs.argmax(dim=1) == torch.arange(len(probs))).sum()
        ),
        "mean_maximised_probability": float(np.mean(own)),
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
