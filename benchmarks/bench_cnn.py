"""cnn-mnist training speed and accuracy against a plain PyTorch baseline, both measured in
this run on this machine:

* the convolution network of cnn-mnist's quick preset (channels 40, 64, 128; kernels 5, 3, 3;
  batch norm, a 128-wide dense layer, dropout 0.1) on MNIST (or scikit-learn's digits without
  NNLAB_DATA), batch 128, AdamW with weight decay and label smoothing as cnn-mnist trains;
* nnlab's way: `nnlab.training.classifier.train_epoch` with precision=auto (bfloat16 autocast
  where `nnlab precision` says it pays), channels_last and fused AdamW; and, when auto chose
  bf16, the same in float32;
* the plain way: the same network and batches in float32, NCHW memory format, AdamW one
  parameter at a time, a loop written out;
* interleaved over `--rounds` rounds of `--iters` steps: images/s (median and range), the
  ratio to plain taken round by round, and the test accuracy (float32) after the equal number
  of steps every way has trained.

    NNLAB_DATA=... .venv/bin/python benchmarks/bench_cnn.py [--rounds 5 --iters 10]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from nnlab.data import load_dataset
from nnlab.errors import UserError
from nnlab.experiments.convnets.cnn_mnist import PRESETS, Config
from nnlab.models import CNN
from nnlab.training.classifier import evaluate, train_epoch
from nnlab.training.optim import make_optimizer
from nnlab.training.precision import resolve
from nnlab.training.tensors import image_tensors
from sidebyside import interleaved, ratios, spread

BATCH = 128


def trainer(cfg: Config, data, way: str) -> tuple[Callable[[int], int], CNN, torch.Tensor]:
    """A function running n training steps `way` ("bf16", "fp32": nnlab's; "plain"),
    returning the images trained on; its model; its test images (in its memory format)."""
    plain = way == "plain"
    layout = torch.contiguous_format if plain else torch.channels_last
    tensors = image_tensors(data, 0, torch.device("cpu"), memory_format=layout)
    (x, y), (x_test, _) = tensors["train"], tensors["test"]
    torch.manual_seed(0)
    shape, classes = x.shape[1:], len(data.class_names)
    model = CNN(shape, classes, cfg.channels, cfg.kernels, cfg.hidden, cfg.dropout, cfg.batch_norm)
    model = model.to(memory_format=layout)
    if plain:
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=False
        )
    else:
        optimizer = make_optimizer("adamw", model.parameters(), cfg.lr, cfg.weight_decay)
    order = torch.Generator().manual_seed(0)

    def batches(n: int):
        for _ in range(n):
            yield torch.randint(len(x), (BATCH,), generator=order)

    def steps(n: int) -> int:
        if plain:
            model.train()
            for idx in batches(n):
                loss = F.cross_entropy(model(x[idx]), y[idx], label_smoothing=cfg.label_smoothing)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        else:
            train_epoch(
                model,
                optimizer,
                None,
                x,
                y,
                batches(n),
                label_smoothing=cfg.label_smoothing,
                precision=way,
            )
        return n * BATCH

    return steps, model, x_test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--iters", type=int, default=10, help="steps per way per round (10)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        data = load_dataset("mnist")
    except UserError:
        data = load_dataset("digits")
    cfg = Config(**PRESETS["quick"])
    auto = resolve("auto", torch.device("cpu"))
    ways = {"nnlab": auto, "nnlab fp32": "fp32", "plain": "plain"}
    if auto == "fp32":
        del ways["nnlab fp32"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; data: {data.name}")
    print(
        f"cnn-mnist quick network: channels {cfg.channels}, kernels {cfg.kernels}, hidden "
        f"{cfg.hidden}, batch {BATCH}; precision=auto -> {auto}"
    )
    trainers = {name: trainer(cfg, data, way) for name, way in ways.items()}
    for steps, _, _ in trainers.values():
        steps(2)  # warm-up
    rates = interleaved(
        {name: partial(steps, args.iters) for name, (steps, _, _) in trainers.items()},
        args.rounds,
    )
    y_test = torch.as_tensor(data.y_test)
    print(
        f"{args.rounds} rounds of {args.iters} steps per way, interleaved; images/s median "
        f"(min-max); test accuracy after {2 + args.rounds * args.iters} steps (float32)"
    )
    print(f"{'way':12} {'precision':9} {'images/s':>20} {'x plain (range)':>18} {'accuracy':>9}")
    for name, way in ways.items():
        _, model, x_test = trainers[name]
        _, accuracy, _ = evaluate(model, x_test, y_test)
        ratio = spread(ratios(rates[name], rates["plain"]), ".2f") if name != "plain" else "1"
        used = "fp32" if way == "plain" else way
        print(f"{name:12} {used:9} {spread(rates[name]):>20} {ratio:>18} {accuracy:9.4f}")


if __name__ == "__main__":
    main()
