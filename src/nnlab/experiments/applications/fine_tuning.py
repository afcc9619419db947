"""fine-tuning: a pretrained network against the same network from scratch on little data
(seed 004 Q6.2, offline).

The seed fine-tunes an ImageNet SqueezeNet on a flowers folder; neither ships here, so the
pretrained network is nnlab's own: the chars36 CNN that `nnlab ocr` reads with (trained on
printed characters of many fonts, shipped as package data, see `nnlab.data.trained`). The new
task is handwritten digits (MNIST, or the 8x8 scikit-learn digits in the smoke preset; also
Fashion-MNIST or KMNIST), drawn like chars36 (`nnlab.training.transfer.as_chars36`). For every
training-set size (`per_class` labelled examples of every class, nested subsets, drawn
`subset_seeds` times) the same CNN is trained three ways, each with `steps` Adam updates:

* **fine-tuned**: the pretrained weights with a new last layer, every layer trained;
* **linear probe**: only the new last layer, on the frozen pretrained features;
* **from scratch**: the same architecture from a fresh initialisation.

The summary has the test accuracy of each way at each size (the mean over the draws) and the
fine-tuned model of the largest size, `checkpoints/model.pt`, a file `pretrained-eval --set
model=RUN_DIR` reads. The real path of the seed, an ImageNet network fine-tuned on your own
folder, is `nnlab run image-folder --set pretrained=squeezenet1_1 --set root=DIR` (needs
torchvision and its weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, param
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run

WAYS = ("fine-tuned", "linear probe", "from scratch")
KEYS = {"fine-tuned": "finetuned", "linear probe": "probe", "from scratch": "scratch"}


@dataclass
class Config(ExperimentConfig):
    pretrained: Literal["chars36-cnn", "chars36-cnn-small"] = param(
        "chars36-cnn", help="the shipped network to start from (nnlab's OCR classifier)"
    )
    dataset: Literal["mnist", "digits", "fashion-mnist", "kmnist"] = param(
        "mnist", help="the new task"
    )
    per_class: tuple[int, ...] = param(
        (1, 3, 10, 30, 100, 300), low=1, high=100_000, help="training examples of every class"
    )
    subset_seeds: int = param(1, low=1, high=100, help="training subsets drawn at every size")
    steps: int = param(200, low=1, high=1_000_000, help="Adam updates of every training")
    batch_size: int = param(64, low=1, high=1_000_000)
    lr: float = param(1e-3, low=0.0, low_open=True, help="Adam learning rate, every way")
    probe: bool = param(True, help="also train the linear probe (frozen features)")
    threads: int = param(
        1, low=0, high=256, help="torch CPU threads while training (0: torch's default)"
    )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"dataset": "digits", "per_class": (2, 5), "subset_seeds": 2, "steps": 60},
    "quick": {},
    "full": {"per_class": (1, 3, 10, 30, 100, 300, 1000), "subset_seeds": 5, "steps": 500},
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    from nnlab.training.threads import torch_threads

    with torch_threads(cfg.threads):
        return _run(cfg, run)


def _run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data import load_dataset
    from nnlab.data.trained import load
    from nnlab.models import CNN
    from nnlab.ocr.classifier import trained_parts
    from nnlab.training.classifier import evaluate
    from nnlab.training.transfer import (
        as_chars36,
        fit_steps,
        linear_probe,
        per_class_subset,
        reinitialised,
        with_new_head,
    )
    from nnlab.viz import Line, LinePanel, image_grid
    from nnlab.viz.dynamics import log_x_panels

    shipped = load(trained_parts()[cfg.pretrained])  # digest and recipe checked
    payload = shipped.payload
    pretrained = CNN(**payload["cnn"])
    pretrained.load_state_dict(payload["state_dict"])
    pretrained.eval()
    ink_mean, ink_std = float(payload["mean"]), float(payload["std"])
    data = load_dataset(cfg.dataset, download=run.allow_download, progress=not run.quiet)
    n_classes = data.num_classes
    fewest = int(np.bincount(data.y_train, minlength=n_classes).min())
    sizes = sorted(set(cfg.per_class))
    if sizes[-1] > fewest:
        from nnlab.errors import ConfigError

        raise ConfigError(
            f"per_class {sizes[-1]} is more than the {fewest} training images of {data.name}'s "
            "smallest class; lower per_class"
        )

    def tensor(x: np.ndarray) -> torch.Tensor:  # the pretrained network's input convention
        return torch.as_tensor((as_chars36(x) - ink_mean) / ink_std)[:, None]

    x_train, y_train = tensor(data.x_train), torch.as_tensor(data.y_train)
    x_test, y_test = tensor(data.x_test), torch.as_tensor(data.y_test)
    ways = [w for w in WAYS if cfg.probe or w != "linear probe"]
    accuracy = {w: np.zeros((len(sizes), cfg.subset_seeds)) for w in ways}
    train = {"steps": cfg.steps, "batch_size": cfg.batch_size, "lr": cfg.lr}
    bar = run.bar(total=len(sizes) * cfg.subset_seeds * len(ways), desc="training", unit="net")
    final = None
    for i, k in enumerate(sizes):
        for draw in range(cfg.subset_seeds):
            idx = torch.as_tensor(per_class_subset(data.y_train, k, seed=run.seed + draw))
            x, y = x_train[idx], y_train[idx]
            for way in ways:
                # every way starts from the same new last layer and draws the same batches
                torch.manual_seed(run.seed * 1_000 + draw)
                generator = torch.Generator().manual_seed(run.seed * 1_000 + draw + 1)
                if way == "linear probe":
                    model = linear_probe(pretrained, x, y, n_classes, generator=generator, **train)
                else:
                    model = with_new_head(pretrained, n_classes)
                    if way == "from scratch":  # the same new last layer, the rest fresh
                        model = reinitialised(model, keep=model.head.net[-1])
                    fit_steps(model, x, y, generator=generator, **train)
                accuracy[way][i, draw] = evaluate(model, x_test, y_test)[1]
                if way == "fine-tuned" and i == len(sizes) - 1 and draw == 0:
                    final, final_accuracy = model, accuracy[way][i, draw]
                bar.update(1)
        run.log(k, **{f"{KEYS[w]}_test_accuracy": float(accuracy[w][i].mean()) for w in ways})
    bar.close()

    mean = {w: accuracy[w].mean(axis=1) for w in ways}
    names = data.class_names
    run.save_model(
        "model",
        {
            "state_dict": final.state_dict(),
            "cnn": payload["cnn"] | {"n_classes": n_classes},
            "class_names": list(names),
            "mean": ink_mean,
            "std": ink_std,
        },
    )
    style = {"fine-tuned": "o-", "linear probe": "s--", "from scratch": "^-"}
    gain = (mean["fine-tuned"] - mean["from scratch"]) * 100
    run.figure(
        "accuracy_vs_size",
        log_x_panels(
            [
                LinePanel(
                    [Line(sizes, mean[w] * 100, w, style[w]) for w in ways],
                    f"{data.name}: test accuracy",
                    "test accuracy (%)",
                ),
                LinePanel(
                    [Line(sizes, gain, "fine-tuned − from scratch", "o-")],
                    "what pretraining is worth",
                    "accuracy gain (points)",
                    reference=(0.0, "no gain"),
                ),
            ],
            title=f"{cfg.pretrained} (printed characters) fine-tuned on {data.name}, "
            f"{cfg.steps} steps each",
            xlabel="training examples per class",
            ticks=sizes,
        ),
        f"Test accuracy against the number of labelled training examples per class (log "
        f"scale; mean of {cfg.subset_seeds} draw(s)): the pretrained network fine-tuned, its "
        "frozen features with a new last layer, and the same network from scratch (left); "
        "the fine-tuned gain over scratch (right).",
    )
    smallest = per_class_subset(data.y_train, sizes[0], seed=run.seed)
    smallest = smallest[np.argsort(data.y_train[smallest], kind="stable")]  # class by class
    shown = as_chars36(data.x_train[smallest])
    run.figure(
        "smallest_training_set",
        image_grid(
            shown[:40],
            ncols=min(10, len(shown)),
            titles=[names[c] for c in data.y_train[smallest][:40]],
            title=f"The {len(smallest)} training images at {sizes[0]} per class, as the "
            "network sees them",
            normalize=None,
        ),
        "The smallest training set (the first 40 images if larger), drawn like chars36: "
        "dark ink on white, 32 x 32.",
    )
    summary: dict[str, Any] = {
        "pretrained": cfg.pretrained,
        "pretrained_sha256": shipped.sha256,
        "pretrained_test_accuracy": payload["test_accuracy"],
        "dataset": cfg.dataset,
        "per_class": sizes,
        "subset_seeds": cfg.subset_seeds,
        "steps": cfg.steps,
        "test_images": len(y_test),
        "smallest": sizes[0],
        "largest": sizes[-1],
    }
    for w in ways:
        summary[f"{KEYS[w]}_accuracy"] = [round(float(a), 6) for a in mean[w]]
        summary[f"{KEYS[w]}_accuracy_std"] = [round(float(a), 6) for a in accuracy[w].std(1)]
        summary[f"{KEYS[w]}_accuracy_largest"] = summary[f"{KEYS[w]}_accuracy"][-1]
    summary["gain_smallest"] = round(float(gain[0]) / 100, 6)
    summary["gain_largest"] = round(float(gain[-1]) / 100, 6)
    summary["model_file"] = "checkpoints/model.pt"
    summary["model_test_accuracy"] = round(float(final_accuracy), 6)  # its first draw
    return summary


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
