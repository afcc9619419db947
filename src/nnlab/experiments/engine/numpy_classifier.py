"""numpy-classifier: a 1024-64-36 sigmoid network in the NumPy engine on chars36 (seed 004, Q3).

One hidden layer of 64 sigmoid units and a softmax output over the 36 classes 0-9, A-Z of
32x32 characters (``chars36``: rendered fonts, split by font, dark ink on white like the
course's NIST36), trained with plain mini-batch SGD on the softmax cross-entropy. The recipe
follows Q3 of the seed:

* Q3.1 -- the tuned network (default lr 0.1, batch 32, 50 epochs) must reach 75% validation
  accuracy.
* Q3.2 -- three networks, the tuned learning rate, ten times it and a tenth of it, each
  with accuracy and loss curves for training and validation (one 2x3 figure), and the
  validation and test accuracy of each. All three start from the same initial weights and
  see the same batches, so the learning rate is the only difference.
* Q3.3 -- the 64 first-layer weight vectors as 32x32 images at initialisation (uniform
  noise) and after training (of the best network): stroke and blob detectors appear where
  the ink falls, while the rarely inked border changes much less and keeps much of its
  initial noise. A few units saturate (sigmoid output stuck near 0 for every image), stop
  learning and still look like noise; ``saturated_hidden_units`` counts them.
* Q3.4 -- the test confusion matrix of the best network and its most confused pairs
  (characters that look alike in some fonts).

The best network is saved as ``checkpoints/model.npz`` (arrays only, ``nnlab.scratch.q3``):
``nnlab ocr --model RUN_DIR`` reads pages with it, and the ``ocr`` experiment reads its pages
with it beside the CNN (seed 004 Q4.4).

The seed's learning rates are per *summed* gradient (its ``backwards`` sums over the batch:
lr 0.001 with batch 16); the engine averages over the batch, so the seed's setting is
lr 0.001 x 16 = 0.016 here (the ``full`` preset: batch 16, lr 0.016, 600 epochs, as the
seed). The seed reports 77.4% validation / 78.3% test on NIST36 (handwriting); chars36 is a
different data set, so the numbers compare only loosely. ``--set ink=bright`` (white ink on
black, as MNIST) suits sigmoid units better: with dark ink every input is mostly ones, so each
hidden unit's input is dominated by the (nearly constant) background and large steps saturate
units. Measured results: README.md ("Measured results").

Per-epoch training metrics are running averages over the epoch's batches, as trained (the
engine's ``fit``); validation metrics are computed after each epoch. Metrics are logged as
``train_loss@<net>``, ``val_accuracy@<net>``, ... with ``<net>`` one of ``tuned``, ``x10``,
``div10``, so the report's generic curves group them per network. Training runs with BLAS
limited to ``threads`` threads (default 1), scoped to this experiment: the matrices of
a batch are small, and on shared cores multi-threaded OpenBLAS is ~15x slower here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import param
from nnlab.experiments import Experiment
from nnlab.training.settings import Chars36Settings, load_chars36_for

if TYPE_CHECKING:
    import numpy as np

    from nnlab.runs.run import Run
    from nnlab.scratch import Optimizer, Sequential

#: The three networks of Q3.2 in the order they are trained: (name, multiplier, divisor) of
#: the tuned learning rate (divided, not multiplied by 0.1, so 0.1 / 10 is exactly 0.01).
SWEEP: tuple[tuple[str, int, int], ...] = (("tuned", 1, 1), ("x10", 10, 1), ("div10", 1, 10))
SWEEP_LABELS = {"tuned": "tuned lr", "x10": "lr × 10", "div10": "lr ÷ 10"}
SEED_THRESHOLD = 0.75  # Q3.1: validation accuracy to reach


@dataclass
class Config(Chars36Settings):
    hidden: int = param(64, low=1, high=8_192, help="sigmoid units of the hidden layer")
    lr: float = param(
        0.1, low=0.0, low_open=True, help="tuned learning rate; lr*10 and lr/10 are trained too"
    )
    batch_size: int = param(
        32, low=1, high=1_000_000, help="mini-batch size (the last batch may be smaller)"
    )
    epochs: int = param(50, low=1, high=10_000, help="epochs of each of the three networks")
    top_pairs: int = param(6, low=1, high=1_296, help="most confused pairs to report")
    threads: int = param(
        1, low=0, high=256, help="BLAS threads while training (0: library default)"
    )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"samples_per_glyph": 4, "epochs": 3},
    "quick": {},
    "full": {"epochs": 600, "batch_size": 16, "lr": 0.016},
}


# --------------------------------------------------------------------------- the model


def make_network(hidden: int, seed: int) -> Sequential:
    """1024 -> hidden sigmoid -> 36 logits (softmax is fused into the loss), float32,
    Xavier-uniform weights drawn from ``seed`` (``nnlab.scratch.q3``)."""
    from nnlab.scratch.q3 import q3_network

    return q3_network(hidden, seed)


def train_network(
    model: Sequential,
    opt: Optimizer,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    callback: Any = None,
) -> dict[str, list[float]]:
    """Mini-batch SGD on softmax cross-entropy; history with train/val loss and accuracy."""
    from nnlab.scratch import accuracy, fit, softmax_cross_entropy

    x_train, y_train, x_val, y_val = data
    return fit(
        model,
        softmax_cross_entropy,
        opt,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
        validation=(x_val, y_val),
        metrics={"accuracy": accuracy},
        callback=callback,
    )


def evaluate(model: Sequential, x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(loss, accuracy, predicted labels) in evaluation mode."""
    import numpy as np

    from nnlab.scratch import accuracy, softmax_cross_entropy

    logits = model.predict(x)
    loss, _ = softmax_cross_entropy(logits, y)
    return loss, accuracy(logits, y), np.argmax(logits, axis=1)


def first_layer_images(model: Sequential) -> np.ndarray:
    """The first layer's weights as one 32x32 image per hidden unit: (hidden, 32, 32)."""
    W = model.layers[0].params["W"]  # (1024, hidden): column j feeds unit j
    return W.T.reshape(-1, 32, 32).copy()


def hidden_unit_changes(
    trained: Sequential, initial: Sequential, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per hidden unit: the relative change of its input weights, ||w - w0|| / ||w0||, and its
    mean sigmoid activation on ``x`` (near 0 or 1: saturated, its gradient vanishes)."""
    import numpy as np

    W, W0 = trained.layers[0].params["W"], initial.layers[0].params["W"]
    change = np.linalg.norm(W - W0, axis=0) / np.linalg.norm(W0, axis=0)
    activation = trained.layers[1].forward(trained.layers[0].forward(x, training=False))
    return change, activation.mean(axis=0)


# --------------------------------------------------------------------------- the recipe


def _train_sweep_network(
    cfg: Config,
    run: Run,
    k: int,
    lr: float,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    state: dict[str, Any] | None,
    finished: dict[str, dict[str, np.ndarray]],
    bar: Any,
) -> dict[str, np.ndarray]:
    """Train network ``k`` of the sweep (from its checkpoint ``state`` if given), logging and
    checkpointing every epoch; return its final parameters."""
    import numpy as np

    from nnlab.scratch import SGD, epoch_callback, resume, to_tensors

    net = SWEEP[k][0]
    # the same initial weights and batch order for every learning rate
    model = make_network(cfg.hidden, run.seed)
    opt = SGD(model, lr=lr)
    shuffle = np.random.default_rng([run.seed, 1])
    done = resume(state, model, opt, shuffle)
    callback = epoch_callback(
        run,
        model,
        opt,
        shuffle,
        done,
        name=net,
        skip=("lr",),
        extra={"network": k, "finished": {n: to_tensors(p) for n, p in finished.items()}},
        bar=bar,
        postfix=lambda hist: {"net": net, "val_acc": f"{hist['val_accuracy'][-1]:.3f}"},
    )
    train_network(
        model,
        opt,
        data,
        epochs=cfg.epochs - done,
        batch_size=cfg.batch_size,
        rng=shuffle,
        callback=callback,
    )
    return model.state_dict()


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import numpy as np

    from nnlab.data.chars36 import chars36_source
    from nnlab.io import atomic_write_bytes
    from nnlab.numerics.metrics import confused_pairs_unordered
    from nnlab.scratch import flatten, to_arrays
    from nnlab.scratch.q3 import q3_npz_bytes
    from nnlab.training.threads import blas_threads
    from nnlab.viz import (
        CurveRow,
        confusion_matrix,
        confusion_matrix_figure,
        curves_per_variant,
        image_grid,
        most_confused_pairs,
        text_figure,
        text_table,
    )

    data = load_chars36_for(cfg, run)
    names = list(data.class_names)
    x_train, y_train = flatten(data.x_train), data.y_train
    x_val, y_val = flatten(data.x_val), data.y_val
    x_test, y_test = flatten(data.x_test), data.y_test
    lrs = {net: cfg.lr * mul / div for net, mul, div in SWEEP}

    finished: dict[str, dict[str, np.ndarray]] = {}  # final parameters of trained networks
    start_net, state = 0, run.load_checkpoint()
    if state is not None:
        finished = {net: to_arrays(p) for net, p in state["finished"].items()}
        start_net = state["network"]

    bar = run.bar(
        total=len(SWEEP) * cfg.epochs,
        initial=start_net * cfg.epochs + (state["epoch"] if state else 0),
        desc="chars36 1024-64-36 sigmoid",
        unit="epoch",
    )
    with blas_threads(cfg.threads):
        for k, (net, _, _) in enumerate(SWEEP):
            if k >= start_net:
                started = time.perf_counter()
                finished[net] = _train_sweep_network(
                    cfg,
                    run,
                    k,
                    lrs[net],
                    (x_train, y_train, x_val, y_val),
                    state if k == start_net else None,
                    finished,
                    bar,
                )
                run.record_time(f"train_{net}_seconds", time.perf_counter() - started)
    bar.close()

    # evaluate the three final networks
    results = []
    models: dict[str, Sequential] = {}
    history = run.history()
    for net, _, _ in SWEEP:
        model = make_network(cfg.hidden, run.seed)
        model.load_state_dict(finished[net])
        models[net] = model
        val_loss, val_acc, _ = evaluate(model, x_val, y_val)
        test_loss, test_acc, _ = evaluate(model, x_test, y_test)
        curve = [r[f"val_accuracy@{net}"] for r in history if f"val_accuracy@{net}" in r]
        last = [r for r in history if f"train_loss@{net}" in r][-1]
        results.append(
            {
                "network": net,
                "lr": lrs[net],
                "train_loss": last[f"train_loss@{net}"],
                "train_accuracy": last[f"train_accuracy@{net}"],
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "test_loss": test_loss,
                "test_accuracy": test_acc,
                "peak_val_accuracy": max(curve),
                "peak_val_epoch": int(np.argmax(curve)) + 1,
            }
        )
    best = max(results, key=lambda r: r["val_accuracy"])  # ties: the first in SWEEP order
    best_model = models[best["network"]]
    _, _, predicted = evaluate(best_model, x_test, y_test)
    cm = confusion_matrix(y_test, predicted, len(names))
    directed = most_confused_pairs(cm, names, k=cfg.top_pairs)
    unordered = confused_pairs_unordered(cm, names, cfg.top_pairs)
    initial = make_network(cfg.hidden, run.seed)
    change, mean_activation = hidden_unit_changes(best_model, initial, x_val)
    saturated = int(np.sum((mean_activation < 0.01) | (mean_activation > 0.99)))

    if run.writer:  # the best network, for `nnlab ocr --model RUN_DIR` (arrays only, no pickle)
        atomic_write_bytes(
            run.dir / "checkpoints" / "model.npz", q3_npz_bytes(best_model, names, cfg.ink)
        )

    # figures
    best_label = f"{SWEEP_LABELS[best['network']]} = {best['lr']:g}"
    run.figure(
        "learning_curves",
        curves_per_variant(
            history,
            sorted(lrs, key=lambda net: lrs[net]),
            [
                CurveRow(
                    "accuracy", "accuracy", reference=SEED_THRESHOLD, legend_loc="lower right"
                ),
                CurveRow("loss", "cross-entropy (nats per image)", legend_loc="upper right"),
            ],
            title="1024-64-36 sigmoid network on chars36: learning-rate sweep (dotted: 75%)",
            column_titles={net: f"{SWEEP_LABELS[net]} = {lr:g}" for net, lr in lrs.items()},
            splits=(("train", "training (running mean)", "-"), ("val", "validation", "--")),
            xlim=(0, cfg.epochs + 0.5),
            panel_size=(4.5, 3.5),
        ),
        "Accuracy (top) and cross-entropy (bottom) per epoch for the three learning rates "
        "(columns, ascending), training (running mean over the epoch's batches) and "
        "validation (after the epoch). Same initial weights and batches for all three.",
    )
    grid = {"ncols": 8, "normalize": "each", "cmap": "gray"}
    run.figure(
        "weights_init",
        image_grid(
            first_layer_images(initial),
            title="First-layer weights at initialisation (Xavier uniform)",
            **grid,
        ),
        f"The {cfg.hidden} first-layer weight vectors as 32x32 images before training "
        "(each tile stretched to its own range): uniform noise.",
    )
    run.figure(
        "weights_trained",
        image_grid(
            first_layer_images(best_model),
            title=f"First-layer weights after {cfg.epochs} epochs ({best_label})",
            **grid,
        ),
        f"The same {cfg.hidden} weight vectors after training the best network ({best_label}; "
        "each tile stretched to its own range): stroke and blob detectors where the ink "
        "falls. Pixels near the border are rarely inked, change much less and keep much of "
        "their initial noise. "
        f"{saturated} unit(s) saturated (mean activation < 0.01 or > 0.99 on validation) "
        "and stopped learning: they still look like the initial noise.",
    )
    run.figure(
        "confusion_matrix",
        confusion_matrix_figure(
            cm,
            names,
            title=f"chars36 test set, best network ({best_label}): "
            f"{best['test_accuracy']:.1%} correct",
        ),
        "Test confusion matrix of the best network: counts (left) and row-normalised recall "
        "(right). Off-diagonal spots are look-alike characters.",
    )
    rows = [
        (
            SWEEP_LABELS[r["network"]],
            f"{r['lr']:g}",
            f"{r['train_accuracy']:.4f}",
            f"{r['val_accuracy']:.4f}",
            f"{r['test_accuracy']:.4f}",
            f"{r['train_loss']:.4f}",
            f"{r['val_loss']:.4f}",
        )
        for r in sorted(results, key=lambda r: r["lr"])
    ]
    lines = text_table(
        ("network", "lr", "train acc", "val acc", "test acc", "train loss", "val loss"), rows
    )
    lines += ["", f"best (validation): {best_label}", "most confused test pairs (both ways):"]
    lines += [
        f"  {p['pair']:5s} {p['count']:4d}  ({a} as {b}: {p['first_as_second']}, "
        f"{b} as {a}: {p['second_as_first']})"
        for p in unordered
        for a, b in [p["pair"].split("/")]
    ]
    run.figure(
        "sweep_table",
        text_figure(lines, f"Learning-rate sweep, {cfg.epochs} epochs, batch {cfg.batch_size}"),
        "Final accuracy and loss of each network (training: running mean of the last epoch) "
        "and the most confused test pairs of the best one.",
    )

    return {
        "val_accuracy": best["val_accuracy"],
        "test_accuracy": best["test_accuracy"],
        "best_lr": best["lr"],
        "best_network": best["network"],
        "tuned_lr": cfg.lr,
        "reaches_seed_threshold": best["val_accuracy"] >= SEED_THRESHOLD,
        "sweep": results,
        "most_confused": directed,
        "most_confused_pairs": unordered,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "parameters": best_model.num_parameters(),
        "saturated_hidden_units": saturated,
        "weight_change_median": float(np.median(change)),
        "dataset": f"chars36, {chars36_source(cfg.fonts)}, {cfg.ink} ink",
        "n_train": len(y_train),
        "n_val": len(y_val),
        "n_test": len(y_test),
        "seed_reference": "NIST36, 600 epochs, batch 16: 77.4% validation, 78.3% test",
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
