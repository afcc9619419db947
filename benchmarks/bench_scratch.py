"""Training throughput of nnlab.scratch vs PyTorch CPU on the same float32 MLP.

784-256-256-10, ReLU, softmax cross-entropy, batch 128, plain SGD. Both run in this one process
on the same data, alternating rounds so machine noise hits both; prints samples/s and the ratio.

    .venv/bin/python benchmarks/bench_scratch.py [--steps 300] [--rounds 5] [--threads N]

Both libraries get the same number of BLAS/compute threads (default 1, the fair and stable
setting; --threads 0 keeps each library's own default). On a machine whose cores are busy
with other work, OpenBLAS's multi-threaded matmul can be ~50x slower than single-threaded
(its threads wait for each other), so multi-threaded numbers are only meaningful on an idle machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from nnlab.scratch import SGD, mlp, softmax_cross_entropy
from sidebyside import ratios, spread

SIZES = [784, 256, 256, 10]
BATCH = 128


def scratch_steps(X: np.ndarray, y: np.ndarray, steps: int) -> float:
    model = mlp(SIZES, "relu", rng=0, dtype=np.float32)
    opt = SGD(model, lr=0.01)
    n_batches = len(X) // BATCH
    start = time.perf_counter()
    for i in range(steps):
        j = (i % n_batches) * BATCH
        _, grad = softmax_cross_entropy(model.forward(X[j : j + BATCH]), y[j : j + BATCH])
        model.backward(grad, input_grad=False)
        opt.step()
    return steps * BATCH / (time.perf_counter() - start)


def torch_steps(X: np.ndarray, y: np.ndarray, steps: int) -> float:
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n_batches = len(X) // BATCH
    start = time.perf_counter()
    for i in range(steps):
        j = (i % n_batches) * BATCH
        loss = loss_fn(model(Xt[j : j + BATCH]), yt[j : j + BATCH])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="0: each library's default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(limits=args.threads)
    blas = ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info())

    rng = np.random.default_rng(0)
    X = rng.random((BATCH * 50, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=len(X))
    scratch_steps(X, y, 20)  # warm up both
    torch_steps(X, y, 20)
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(scratch_steps(X, y, args.steps))
        theirs.append(torch_steps(X, y, args.steps))
    print(f"MLP {'-'.join(map(str, SIZES))}, ReLU, batch {BATCH}, SGD, float32, CPU")
    print(f"threads: numpy BLAS ({blas}), torch {torch.get_num_threads()}")
    print(f"rounds: {args.rounds} x {args.steps} steps, alternating; median (min-max)")
    print(f"nnlab.scratch: {spread(ours):>22} samples/s")
    print(f"PyTorch:       {spread(theirs):>22} samples/s (the baseline)")
    print(f"scratch / torch, round by round: {spread(ratios(ours, theirs), '.2f')}x")


if __name__ == "__main__":
    main()
