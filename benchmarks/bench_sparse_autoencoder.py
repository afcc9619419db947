"""Sparse autoencoder cost and gradient: hand-written NumPy vs PyTorch autograd, float64.

The UFLDL configuration: 10,000 normalised 8x8 patches of the embedded natural images,
64-25-64, λ = 1e-4, β = 3, ρ = 0.01, at UFLDL's random initial parameters. Both run in this
one process on the same data, in alternating rounds so that machine noise hits both; the
script prints the median time per cost-and-gradient evaluation of each, their ratio, the
agreement of the two gradients, and the time of the full 400-iteration L-BFGS training.

    .venv/bin/python benchmarks/bench_sparse_autoencoder.py [--evals 40] [--rounds 5]
        [--threads 1,2] [--no-train]

For each thread count N both get N threads: NumPy splits the examples over N threads with
single-threaded BLAS (``SparseAutoencoderCost(threads=N)``), PyTorch uses
``torch.set_num_threads(N)``. Other processes loading the CPU slow both (PyTorch's spinning
OpenMP threads much more so); run it a few times, on an idle machine if you can.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from nnlab.data.natural_images import load_natural_images, normalize_patches, sample_patches
from nnlab.scratch.sparse_autoencoder import (
    SparseAutoencoderCost,
    initialize_parameters,
    relative_difference,
    train,
)

VISIBLE, HIDDEN, LAM, BETA, RHO = 64, 25, 1e-4, 3.0, 0.01


def torch_cost(x: torch.Tensor):
    """The same cost written in PyTorch; its gradient comes from autograd."""
    m = x.shape[0]
    hv = HIDDEN * VISIBLE

    def cost_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        t = torch.from_numpy(theta).requires_grad_(True)
        W1 = t[:hv].view(HIDDEN, VISIBLE)
        W2 = t[hv : 2 * hv].view(VISIBLE, HIDDEN)
        b1 = t[2 * hv : 2 * hv + HIDDEN]
        b2 = t[2 * hv + HIDDEN :]
        a2 = torch.sigmoid(x @ W1.T + b1)
        a3 = torch.sigmoid(a2 @ W2.T + b2)
        rho_hat = a2.mean(0)
        kl = RHO * torch.log(RHO / rho_hat) + (1 - RHO) * torch.log((1 - RHO) / (1 - rho_hat))
        j = (
            0.5 * ((a3 - x) ** 2).sum() / m
            + 0.5 * LAM * ((W1**2).sum() + (W2**2).sum())
            + BETA * kl.sum()
        )
        j.backward()
        return j.item(), t.grad.numpy()

    return cost_and_grad


def per_eval(fn, theta: np.ndarray, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn(theta)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=40, help="evaluations per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--threads", default="1,2", help="thread counts to compare, comma-separated (default 1,2)"
    )
    parser.add_argument("--no-train", action="store_true", help="skip the L-BFGS timing")
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]

    patches = sample_patches(load_natural_images(), 8, 10000, np.random.default_rng([0, 0]))
    data = normalize_patches(patches)
    theta = initialize_parameters(VISIBLE, HIDDEN, np.random.default_rng([0, 1]))
    theirs = torch_cost(torch.from_numpy(data))
    print(
        f"data: {data.shape[0]} patches x {VISIBLE} pixels, {VISIBLE}-{HIDDEN}-{VISIBLE}, float64"
    )

    j_np, g_np = SparseAutoencoderCost(data, HIDDEN, LAM, BETA, RHO, threads=1)(theta)
    j_t, g_t = theirs(theta)
    print(f"cost: numpy {j_np:.15f}  torch {j_t:.15f}  |difference| {abs(j_np - j_t):.1e}")
    agreement = relative_difference(g_t, g_np)
    print(f"gradients: ||torch - numpy|| / ||torch + numpy|| = {agreement:.1e}")

    for threads in thread_counts:
        torch.set_num_threads(threads)
        ours = SparseAutoencoderCost(data, HIDDEN, LAM, BETA, RHO, threads=threads)
        ours(theta)  # warm up both
        theirs(theta)
        numpy_times, torch_times = [], []
        for _ in range(args.rounds):
            numpy_times.append(per_eval(ours, theta, args.evals))
            torch_times.append(per_eval(theirs, theta, args.evals))
        t_np, t_t = float(np.median(numpy_times)), float(np.median(torch_times))
        print(
            f"{threads} thread(s), time per cost+gradient (median of {args.rounds} rounds x "
            f"{args.evals}): numpy {t_np * 1e3:.2f} ms, torch autograd {t_t * 1e3:.2f} ms; "
            f"torch / numpy = {t_t / t_np:.2f}"
        )
        print(
            "  per round, ms: numpy "
            + " ".join(f"{t * 1e3:.2f}" for t in numpy_times)
            + " | torch "
            + " ".join(f"{t * 1e3:.2f}" for t in torch_times)
        )
        if not args.no_train:
            start = time.perf_counter()
            result = train(ours, theta, maxiter=400)
            seconds = time.perf_counter() - start
            print(
                f"  L-BFGS with the numpy cost: {result.nit} iterations, {result.nfev} "
                f"evaluations in {seconds:.2f} s, cost {result.fun:.6f}"
            )
        ours.close()


if __name__ == "__main__":
    main()
