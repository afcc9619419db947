"""Sparse autoencoder: time per cost-and-gradient evaluation against its FLOP lower bound,
and the wall time of the whole `nnlab run sparse-autoencoder --preset quick` command.

The UFLDL configuration: 10,000 normalised 8x8 patches of the embedded natural images,
64-25-64, λ = 1e-4, β = 3, ρ = 0.01, at UFLDL's random initial parameters; the cost's work in
float64 and in float32 (what the experiment trains with).

    .venv/bin/python benchmarks/bench_sparse_autoencoder.py [--evals 40] [--rounds 5]
        [--threads 1,2] [--runs 3] [--no-torch] [--no-train] [--no-command]

1. **Lower bound.** One evaluation is five matrix products over the m examples (the hidden
   layer, the output layer, δ3ᵀ a2, δ3 W2 and δ2ᵀ x): 10·m·visible·hidden FLOP, 160 MFLOP.
   For each precision the script times matmuls of exactly these shapes in this process
   (single-threaded BLAS, whole arrays and in the cost's blocks of examples, the faster of
   the two), and prints bound = their summed time / N for N threads (perfect scaling),
   beside the measured median time per evaluation of ``SparseAutoencoderCost(threads=N)``.
   The element-wise work (two sigmoids through tanh, 10,000 x 89 values, and a dozen cheap
   passes) is printed too: it is most of the rest of the gap.
2. **PyTorch.** The same cost with autograd, for comparison (``--no-torch`` skips it).
3. **Training.** The 400-iteration L-BFGS run alone, per precision, with the most threads
   (``--no-train`` skips it).
4. **The command.** ``nnlab run sparse-autoencoder --preset quick --quiet`` as a subprocess,
   ``--runs`` times: minimum and median wall time, with the load average before each run
   and the phases the run recorded in status.json (``--no-command`` skips it).

The machine's other load slows everything: the load average is printed; trust numbers
taken below ~1.2 on this 2-core machine, and compare minima.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from nnlab.data.natural_images import load_natural_images, normalize_patches, sample_patches
from nnlab.scratch.sparse_autoencoder import (
    BLOCK,
    SparseAutoencoderCost,
    initialize_parameters,
    relative_difference,
    train,
)

VISIBLE, HIDDEN, LAM, BETA, RHO = 64, 25, 1e-4, 3.0, 0.01


def best(fn, n: int = 20, repeat: int = 5) -> float:
    """Seconds per call: the fastest of ``repeat`` medians of ``n`` calls."""
    fn()
    medians = []
    for _ in range(repeat):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        medians.append(float(np.median(times)))
    return min(medians)


def median_time(fn, theta: np.ndarray, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn(theta)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def matmul_products(
    m: int, dtype: type, rng: np.random.Generator
) -> list[tuple[str, float, float]]:
    """(product, FLOP, seconds) of the cost's five products on m examples in ``dtype``, 1
    thread, each timed on whole arrays and in the cost's blocks of examples; the faster
    counts."""
    v, h = VISIBLE, HIDDEN
    x, d3, h2 = (rng.random(shape).astype(dtype) for shape in ((m, v), (m, v), (m, h)))
    w_vh, w_hv = rng.random((v, h)).astype(dtype), rng.random((h, v)).astype(dtype)
    out_h, out_v = np.empty((m, h), dtype), np.empty((m, v), dtype)
    edges = list(range(0, m, BLOCK[np.dtype(dtype).name])) + [m]
    blocks = list(zip(edges[:-1], edges[1:], strict=True))
    products = {
        "x W1ᵀ  (m,v)(v,h)": lambda a, b: np.matmul(x[a:b], w_vh, out=out_h[a:b]),
        "a2 W2ᵀ (m,h)(h,v)": lambda a, b: np.matmul(h2[a:b], w_hv, out=out_v[a:b]),
        "δ3ᵀ a2 (v,m)(m,h)": lambda a, b: np.matmul(d3[a:b].T, h2[a:b]),
        "δ3 W2  (m,v)(v,h)": lambda a, b: np.matmul(d3[a:b], w_vh, out=out_h[a:b]),
        "δ2ᵀ x  (h,m)(m,v)": lambda a, b: np.matmul(h2[a:b].T, x[a:b]),
    }
    results = []
    with threadpool_limits(1, "blas"):
        for name, product in products.items():
            whole = best(lambda p=product: p(0, m))
            blocked = best(lambda p=product: [p(a, b) for a, b in blocks])
            results.append((name, 2.0 * m * v * h, min(whole, blocked)))
    return results


def elementwise_floor(m: int, dtype: type, rng: np.random.Generator) -> float:
    """Seconds of the two tanh passes over (m, hidden) and (m, visible), 1 thread."""
    a = rng.normal(size=(m, HIDDEN)).astype(dtype)
    b = rng.normal(size=(m, VISIBLE)).astype(dtype)
    return best(lambda: np.tanh(a, out=a)) + best(lambda: np.tanh(b, out=b))


def torch_cost(x):
    """The same cost written in PyTorch; its gradient comes from autograd."""
    import torch

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


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def time_command(runs: int) -> None:
    """Wall time of the whole quick run as a subprocess, ``runs`` times."""
    walls, phases = [], []
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "nnlab", "run", "sparse-autoencoder"]
        argv += ["--preset", "quick", "--quiet", "--out", out]
        for i in range(runs):
            before = load()
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - start)
            run_dir = sorted(Path(out, "sparse-autoencoder").iterdir())[-1]
            phases.append(json.loads((run_dir / "status.json").read_text()))
            print(f"  run {i + 1}: {walls[-1]:.2f} s wall ({before})")
    fastest = int(np.argmin(walls))
    status = phases[fastest]
    timings = status["timings"]
    print(
        f"`nnlab run sparse-autoencoder --preset quick`: min {min(walls):.2f} s, median "
        f"{float(np.median(walls)):.2f} s wall over {runs} runs; {load()}"
    )
    inside = status["elapsed_seconds"]
    print(
        f"  fastest run: {inside:.2f} s inside the experiment runner "
        f"(gradient check {timings.get('gradcheck_seconds', 0):.2f} s, L-BFGS "
        f"{timings['train_seconds']:.2f} s at a median "
        f"{timings['seconds_per_evaluation_median'] * 1e3:.2f} ms per evaluation; the rest "
        f"data, figures, summary), {walls[fastest] - inside:.2f} s start-up, report and exit"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=40, help="evaluations per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--threads", default="1,2", help="thread counts to compare, comma-separated (default 1,2)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of the whole command")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument("--no-train", action="store_true", help="skip the L-BFGS timing")
    parser.add_argument("--no-command", action="store_true", help="skip the command's timing")
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]
    print(load())

    patches = sample_patches(load_natural_images(), 8, 10000, np.random.default_rng([0, 0]))
    data = normalize_patches(patches)
    m = len(data)
    theta = initialize_parameters(VISIBLE, HIDDEN, np.random.default_rng([0, 1]))
    print(f"data: {m} patches x {VISIBLE} pixels, {VISIBLE}-{HIDDEN}-{VISIBLE}")

    square = np.random.default_rng(1).random((1000, 1000))
    with threadpool_limits(1, "blas"):
        peak = 2e9 / best(lambda: square @ square, n=3, repeat=3)
    print(f"a 1000x1000 float64 matmul, 1 thread: {peak / 1e9:.1f} GFLOP/s")

    rng = np.random.default_rng(0)
    float64_times = {}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        products = matmul_products(m, dtype, rng)
        flop = sum(f for _, f, _ in products)
        matmul_seconds = sum(t for _, _, t in products)
        tanh_seconds = elementwise_floor(m, dtype, rng)
        print(
            f"\n{name}: one evaluation is 5 matrix products, {flop / 1e6:.0f} MFLOP; "
            f"{name} matmuls of these shapes, 1 thread, this run:"
        )
        for product, f, t in products:
            print(f"  {product}: {t * 1e3:.3f} ms = {f / t / 1e9:.1f} GFLOP/s")
        print(
            f"  together {matmul_seconds * 1e3:.2f} ms = {flop / matmul_seconds / 1e9:.1f} "
            f"GFLOP/s; the two tanh passes of the sigmoids: {tanh_seconds * 1e3:.2f} ms"
        )
        for threads in thread_counts:
            ours = SparseAutoencoderCost(data, HIDDEN, LAM, BETA, RHO, threads, dtype=dtype)
            ours(theta)  # warm up
            rounds = [median_time(ours, theta, args.evals) for _ in range(args.rounds)]
            t_np, bound = float(np.median(rounds)), matmul_seconds / threads
            print(
                f"  {threads} thread(s): {t_np * 1e3:.2f} ms per cost+gradient (median of "
                f"{args.rounds} rounds x {args.evals}; fastest round {min(rounds) * 1e3:.2f}) "
                f"vs lower bound {bound * 1e3:.2f} ms from the products ({t_np / bound:.1f}x), "
                f"{(matmul_seconds + tanh_seconds) / threads * 1e3:.2f} ms with the tanh passes"
            )
            if dtype is np.float64:
                float64_times[threads] = t_np
            if not args.no_train and threads == max(thread_counts):
                start = time.perf_counter()
                result = train(ours, theta, maxiter=400)
                seconds = time.perf_counter() - start
                print(
                    f"    L-BFGS: {result.nit} iterations, {result.nfev} evaluations in "
                    f"{seconds:.2f} s ({seconds / result.nfev * 1e3:.2f} ms each, with the "
                    f"optimiser's own work), cost {result.fun:.6f}"
                )
            ours.close()

    if not args.no_torch:  # last: PyTorch's idle OpenMP threads would slow what follows
        import torch

        theirs = torch_cost(torch.from_numpy(data))
        j_np, g_np = SparseAutoencoderCost(data, HIDDEN, LAM, BETA, RHO)(theta)
        j_t, g_t = theirs(theta)
        print(
            f"\nPyTorch autograd, float64: cost {j_t:.15f} (numpy {j_np:.15f}, |difference| "
            f"{abs(j_np - j_t):.1e}); ||torch - numpy|| / ||torch + numpy|| of the gradients "
            f"{relative_difference(g_t, g_np):.1e}"
        )
        for threads in thread_counts:
            torch.set_num_threads(threads)
            theirs(theta)
            t_t = float(np.median([median_time(theirs, theta, args.evals) for _ in range(3)]))
            print(
                f"  {threads} thread(s): {t_t * 1e3:.2f} ms per cost+gradient; torch / numpy "
                f"float64 = {t_t / float64_times[threads]:.2f}"
            )
    print()

    if not args.no_command:
        time_command(args.runs)


if __name__ == "__main__":
    main()
