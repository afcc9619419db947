"""q3-torch: seed 004's Q3 network re-written in PyTorch and trained on chars36 (seed 004 Q6.1.1).

Exactly the network of Q3 (`numpy-classifier`): 1024 inputs, 64 sigmoid hidden units, 36
outputs with the softmax in the cross-entropy (`nnlab.models.q3_network`: 67,940 parameters),
started from the very weights the NumPy engine draws for the run's seed (Xavier uniform,
zero biases), trained with plain mini-batch SGD (no momentum, no weight decay, no schedule)
at numpy-classifier's defaults: lr 0.1, batch 32, 50 epochs, raw pixels in [0, 1], dark ink.

Beside it (``engine=true``, the default) the NumPy engine trains its own copy from the same
initial weights on the same batches in the same order, so the two curves differ only by
floating-point rounding (summation order in float32), which grows slowly through training.
The summary gives both networks' validation and test accuracy and their difference; the seed
reports the Q3 network's validation accuracy (77.4% on NIST36) and only curves for Q6.1.1.
`lenet` compares this network with a CNN (Q6.1.2).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import param
from nnlab.experiments import Experiment
from nnlab.training.settings import Chars36Settings, load_chars36_for

if TYPE_CHECKING:
    from nnlab.runs.run import Run

NETWORKS = ("torch", "numpy")
LABELS = {"torch": "PyTorch", "numpy": "NumPy engine"}


@dataclass
class Config(Chars36Settings):
    hidden: int = param(64, low=1, high=8_192, help="sigmoid units of the hidden layer")
    lr: float = param(0.1, low=0.0, low_open=True, help="SGD learning rate (no momentum)")
    batch_size: int = param(
        32, low=1, high=1_000_000, help="mini-batch size (the last batch may be smaller)"
    )
    epochs: int = param(50, low=1, high=10_000, help="epochs of each network")
    engine: bool = True  # also train the NumPy engine's network from the same start
    threads: int = param(
        1, low=0, high=256, help="torch and BLAS threads while training (0: library default)"
    )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"samples_per_glyph": 4, "epochs": 3},
    "quick": {},
    "full": {"epochs": 600, "batch_size": 16, "lr": 0.016},  # numpy-classifier's full preset
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np
    import torch

    from nnlab.data.chars36 import chars36_source
    from nnlab.models import q3_network
    from nnlab.scratch import SGD, accuracy, fit, flatten, softmax_cross_entropy
    from nnlab.scratch.q3 import q3_network as engine_q3_network
    from nnlab.training.classifier import evaluate, train_epoch
    from nnlab.training.optim import make_optimizer
    from nnlab.training.threads import blas_threads, torch_threads
    from nnlab.viz import CurveRow, curves_per_variant, text_figure, text_table

    data = load_chars36_for(cfg, run)
    arrays = {
        "train": (flatten(data.x_train), data.y_train),
        "val": (flatten(data.x_val), data.y_val),
        "test": (flatten(data.x_test), data.y_test),
    }
    tensors = {k: (torch.from_numpy(x), torch.from_numpy(y).long()) for k, (x, y) in arrays.items()}
    n_train = len(data.y_train)
    networks = NETWORKS if cfg.engine else NETWORKS[:1]
    bar = run.bar(total=len(networks) * cfg.epochs, desc="Q3 network, PyTorch", unit="epoch")

    # PyTorch: the engine's initial weights, plain SGD, the engine's batch order
    model = q3_network(1024, cfg.hidden, len(data.class_names), run.seed)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    opt = make_optimizer("sgd", model.parameters(), cfg.lr)
    shuffle = np.random.default_rng([run.seed, 1])  # numpy-classifier's shuffling generator
    started = time.perf_counter()
    with torch_threads(cfg.threads):
        for epoch in range(1, cfg.epochs + 1):
            perm = torch.from_numpy(shuffle.permutation(n_train))
            order = perm.split(cfg.batch_size)
            train_loss, train_acc = train_epoch(model, opt, None, *tensors["train"], order)
            val_loss, val_acc, _ = evaluate(model, *tensors["val"])
            run.log(
                epoch,
                **{
                    "train_loss@torch": train_loss,
                    "train_accuracy@torch": train_acc,
                    "val_loss@torch": val_loss,
                    "val_accuracy@torch": val_acc,
                },
            )
            bar.update(1)
        run.record_time("torch_train_seconds", time.perf_counter() - started)
        results = {"torch": _torch_scores(model, tensors, evaluate)}

    # the NumPy engine: the same start, batches and settings
    engine_model = engine_q3_network(cfg.hidden, run.seed, 1024, len(data.class_names))
    start_difference = max(
        float(np.abs(initial["1.weight"].numpy().T - engine_model.layers[0].params["W"]).max()),
        float(np.abs(initial["3.weight"].numpy().T - engine_model.layers[2].params["W"]).max()),
    )
    if cfg.engine:

        def log_epoch(epoch: int, hist: dict[str, list[float]]) -> None:
            run.log(epoch + 1, **{f"{k}@numpy": v[-1] for k, v in hist.items() if k != "lr"})
            bar.update(1)

        started = time.perf_counter()
        with blas_threads(cfg.threads):
            fit(
                engine_model,
                softmax_cross_entropy,
                SGD(engine_model, lr=cfg.lr),
                *arrays["train"],
                epochs=cfg.epochs,
                batch_size=cfg.batch_size,
                rng=np.random.default_rng([run.seed, 1]),
                validation=arrays["val"],
                metrics={"accuracy": accuracy},
                callback=log_epoch,
            )
        run.record_time("numpy_train_seconds", time.perf_counter() - started)
        scores = {}
        for split in ("val", "test"):
            x, y = arrays[split]
            logits = engine_model.predict(x)
            scores[f"{split}_loss"] = softmax_cross_entropy(logits, y)[0]
            scores[f"{split}_accuracy"] = accuracy(logits, y)
        results["numpy"] = scores
        trained = model.state_dict()
        end_difference = float(
            np.abs(trained["1.weight"].numpy().T - engine_model.layers[0].params["W"]).max()
        )
    bar.close()

    history = run.history()
    run.figure(
        "learning_curves",
        curves_per_variant(
            history,
            list(networks),
            [
                CurveRow("accuracy", "accuracy", reference=0.75, legend_loc="lower right"),
                CurveRow("loss", "cross-entropy (nats per image)", legend_loc="upper right"),
            ],
            title=f"The Q3 network (1024-{cfg.hidden}-36 sigmoid) on chars36: PyTorch and "
            f"the NumPy engine, SGD lr {cfg.lr:g}, batch {cfg.batch_size} (dotted: 75%)",
            column_titles={n: LABELS[n] for n in networks},
            splits=(("train", "training (running mean)", "-"), ("val", "validation", "--")),
            xlim=(0, cfg.epochs + 0.5),
            panel_size=(4.5, 3.5),
        ),
        "Accuracy (top) and cross-entropy (bottom) per epoch, training (running mean over the "
        "epoch's batches) and validation (after the epoch), of the same network in PyTorch "
        "(left) and in the NumPy engine (right): same initial weights, batches and SGD steps.",
    )
    parameters = sum(p.numel() for p in model.parameters())
    rows = [
        (
            LABELS[n],
            f"{results[n]['val_accuracy']:.4f}",
            f"{results[n]['test_accuracy']:.4f}",
            f"{results[n]['val_loss']:.4f}",
        )
        for n in networks
    ]
    lines = text_table(("network", "val acc", "test acc", "val loss"), rows)
    lines += [
        "",
        f"parameters: {parameters:,}; initial weights U(-a, a), a = "
        f"{math.sqrt(6 / (1024 + cfg.hidden)):.4f} (first layer)",
        f"largest initial weight difference, PyTorch vs engine: {start_difference:.1e}",
    ]
    if cfg.engine:
        lines.append(f"largest first-layer weight difference after training: {end_difference:.1e}")
    run.figure(
        "networks",
        text_figure(lines, f"Q3 network, {cfg.epochs} epochs of SGD"),
        "Validation and test accuracy of the PyTorch network and of the NumPy engine's, "
        "their parameter count and how far apart their weights are at the start and the end.",
    )
    summary: dict[str, Any] = {
        "val_accuracy": results["torch"]["val_accuracy"],
        "test_accuracy": results["torch"]["test_accuracy"],
        "val_loss": results["torch"]["val_loss"],
        "parameters": parameters,
        "architecture": f"1024-{cfg.hidden}-{len(data.class_names)}, sigmoid hidden, softmax",
        "init_bound": math.sqrt(6 / (1024 + cfg.hidden)),
        "initial_weight_difference": start_difference,
        "epochs": cfg.epochs,
        "lr": cfg.lr,
        "batch_size": cfg.batch_size,
        "dataset": f"chars36, {chars36_source(cfg.fonts)}, {cfg.ink} ink",
        "n_train": n_train,
        "seed_reference": "NIST36, 600 epochs, batch 16: 77.4% validation (Q3, Q6.1.2)",
    }
    if cfg.engine:
        summary |= {
            "numpy_val_accuracy": results["numpy"]["val_accuracy"],
            "numpy_test_accuracy": results["numpy"]["test_accuracy"],
            "val_accuracy_difference": results["torch"]["val_accuracy"]
            - results["numpy"]["val_accuracy"],
            "final_weight_difference": end_difference,
        }
    return summary


def _torch_scores(model, tensors, evaluate) -> dict[str, float]:
    scores = {}
    for split in ("val", "test"):
        loss, acc, _ = evaluate(model, *tensors[split])
        scores[f"{split}_loss"], scores[f"{split}_accuracy"] = loss, acc
    return scores


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
