"""cnn-units: what the units of a trained CNN respond to (seed 003, Zeiler & Fergus 2013).

A two-block CNN (``nnlab.models.CNN``: conv → batch norm → ReLU → 2x2 max-pool, twice) is
trained on MNIST (``dataset=digits`` for the embedded 8x8 digits), then looked inside:

* **top-activating patches**: for each of the first ``channels_shown`` channels of the first
  and second convolution, the ``top`` test-image patches where that channel's (post-ReLU)
  activation is largest. A patch is the unit's receptive field: k1 x k1 pixels in layer 1,
  2·k2 + k1 − 1 pixels square in layer 2 (10x10 for k1 = 5, k2 = 3, through the 2x2 pooling);
  the receptive field is cropped from the image padded with its background;
* **activation maximisation**: for each class, the input that maximises that class's logit
  minus ``l2`` ‖x‖², by Adam from a blank (background) image, clamped to the pixel range of
  the data: what the network "thinks" a 3 looks like. The run reports the softmax
  probability the network gives each synthetic image for its class.

Without MNIST (``NNLAB_DATA`` unset) the quick preset stops with the one-line error that
names `nnlab data fetch mnist`; ``--set dataset=digits`` runs on embedded data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
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

    def check(self) -> None:
        from nnlab.errors import ConfigError

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


def receptive_field(layer: int, k1: int, k2: int) -> tuple[int, int, int]:
    """(size, stride, offset) of a unit of conv layer 1 or 2 (after ReLU, before its pool) in
    input pixels: unit (i, j) sees rows stride·i + offset ... + size − 1 (same for columns)."""
    p1, p2 = k1 // 2, k2 // 2
    if layer == 1:
        return k1, 1, -p1
    # conv2 unit i reads pooled units i − p2 ... i − p2 + k2 − 1, i.e. layer-1 units
    # 2(i − p2) ... 2(i − p2 + k2 − 1) + 1, each seeing k1 pixels from its own position − p1
    return 2 * k2 + k1 - 1, 2, -2 * p2 - p1


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


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.models import CNN
    from nnlab.training import evaluate, fit_classifier, image_tensors
    from nnlab.viz import image_grid
    from nnlab.viz.fundamentals import unit_patches_figure

    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    tensors = image_tensors(data, cfg.train_subset, run.device)
    (x_train, y_train), (x_test, y_test) = tensors["train"], tensors["test"]
    model = CNN(x_train.shape[1:], len(data.class_names), cfg.channels, cfg.kernels, (64,)).to(
        run.device
    )
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
    test_loss, test_acc, _ = evaluate(model, x_test, y_test)
    model = model.cpu().eval()
    search = x_test[: cfg.search_images].cpu()
    with torch.no_grad():
        layer1 = model.features[:3](search)  # conv, batch norm, ReLU
        layer2 = model.features[:7](search)
    k1, k2 = cfg.kernels
    images = search[:, 0].numpy()
    background = float(x_train.amin())
    found = {}
    for layer, acts in ((1, layer1), (2, layer2)):
        field = receptive_field(layer, k1, k2)
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
            f"Each row is one channel of convolution {layer} (after batch norm and ReLU); its "
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


EXPERIMENT = Experiment(
    name="cnn-units",
    description="what CNN units see: top-activating test patches of layer-1 and layer-2 "
    "channels and an activation-maximising input per class",
    reproduces="seed 003 'Example detectors learned' (Zeiler & Fergus 2013)",
    config=Config,
    presets=PRESETS,
    run=run,
    headline="mean_maximised_probability",
    tour={"dataset": "digits"},
    tour_mnist={"dataset": "mnist"},
    key_figure="top_patches_layer1",
)
