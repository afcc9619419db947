"""The sparse autoencoder of the UFLDL tutorial (Ng, CS294A lecture notes), in NumPy.

A visible-hidden-visible network with sigmoid units everywhere, on examples x (rows of X):

    a2 = σ(x W1ᵀ + b1)            hidden activations, shape (m, hidden)
    a3 = σ(a2 W2ᵀ + b2)           reconstruction,     shape (m, visible)

    J = 1/(2m) Σ ‖a3 − x‖²                        reconstruction error
      + λ/2 (‖W1‖² + ‖W2‖²)                       weight decay (weights only, not biases)
      + β Σ_j KL(ρ ‖ ρ̂_j)                         sparsity: ρ̂_j = mean activation of unit j
    KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1 − ρ) log((1 − ρ)/(1 − ρ̂))

Backpropagation (δ per example, UFLDL's notation):

    δ3 = (a3 − x) ⊙ a3 ⊙ (1 − a3)
    δ2 = (δ3 W2 + β (−ρ/ρ̂ + (1 − ρ)/(1 − ρ̂))) ⊙ a2 ⊙ (1 − a2)
    ∂J/∂W2 = δ3ᵀ a2 / m + λ W2     ∂J/∂b2 = Σ δ3 / m
    ∂J/∂W1 = δ2ᵀ x  / m + λ W1     ∂J/∂b1 = Σ δ2 / m

The parameters live in one flat float64 vector θ = [W1 (hidden×visible), W2 (visible×hidden),
b1, b2] (each matrix row-major), which is what `scipy.optimize.minimize` works on.
`SparseAutoencoderCost(X, hidden, lam, beta, rho)(θ)` returns ``(J, ∂J/∂θ)`` in one pass.

Speed (the UFLDL configuration: 10,000 patches of 8×8, 25 hidden units). One evaluation
is five matrix products, 10·m·visible·hidden = 160 MFLOP, two sigmoids over (m, 25) and
(m, 64) values and a dozen cheap elementwise passes. ``SparseAutoencoderCost`` does them

- in blocks of ``BLOCK`` examples (512 in float64, 1024 in float32), one example per row: a
  block's intermediates stay in the core's cache, and products of these shapes run at the
  machine's peak (~50 float64 GFLOP/s a core here, against ~33 on the whole 10,000 rows);
  smaller blocks would lose more to Python's per-call overhead and, with two threads, to
  handing the GIL back and forth around short calls;
- through tanh: σ(z) = (1 + tanh(z/2))/2, so with S = 2x − 1, H2 = tanh(z2/2) = 2 a2 − 1 and
  H3 = tanh(z3/2) = 2 a3 − 1 every factor of UFLDL's formulas is a power of two away:
  a3 − x = (H3 − S)/2, a(1 − a) = (1 − H²)/4, so δ3 = D3/8 with D3 = (H3 − S) ⊙ (1 − H3²)
  and δ2 = D2/32 with D2 = (D3 W2 + 8 s) ⊙ (1 − H2²), s the sparsity term; the halvings of
  z fold into the (small) weight matrices, the biases into a column of ones beside H2 and
  into the column sums. NumPy's tanh is SIMD-vectorised (``scipy.special.expit`` is ~3x
  slower);
- in two passes over the blocks, since δ2 needs ρ̂, a mean over all examples: the hidden
  layer first (H2 is kept, (m, hidden + 1)), then everything else, each block's gradient
  products kept apart and added in block order at the end (so the result does not depend
  on how many threads share the blocks);
- with single-threaded BLAS in each of ``threads`` threads: the products are small, and
  OpenBLAS threads that wait for each other on a busy machine make them up to 10x slower;
- in float64 by default, or float32 (``dtype``): half the memory traffic and twice the SIMD
  width, about twice as fast; the relative rounding error grows from ~1e-15 to ~1e-8 in the
  cost and ~1e-7 in the gradient, which L-BFGS does not notice. Gradient checks need
  float64: central differences (ε = 1e-4) of the float32 cost differ from its gradient by
  ~4e-4, of the float64 cost by ~1e-10.

``benchmarks/bench_sparse_autoencoder.py`` prints the time per evaluation beside the bound
set by the products alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult, minimize

from nnlab.scratch.gradcheck import numerical_gradient

Array = np.ndarray

#: Examples per block of the cost's work, by precision (see "Speed").
BLOCK = {"float64": 512, "float32": 1024}


# --------------------------------------------------------------------------- parameters


def n_params(visible: int, hidden: int) -> int:
    """Length of θ: two weight matrices and two bias vectors."""
    return 2 * visible * hidden + hidden + visible


def unpack(theta: Array, visible: int, hidden: int) -> tuple[Array, Array, Array, Array]:
    """Views (W1 (hidden, visible), W2 (visible, hidden), b1 (hidden,), b2 (visible,)) into θ."""
    if theta.shape != (n_params(visible, hidden),):
        raise ValueError(
            f"theta has shape {theta.shape}; a {visible}-{hidden}-{visible} sparse autoencoder "
            f"needs ({n_params(visible, hidden)},)"
        )
    hv = hidden * visible
    W1 = theta[:hv].reshape(hidden, visible)
    W2 = theta[hv : 2 * hv].reshape(visible, hidden)
    b1 = theta[2 * hv : 2 * hv + hidden]
    b2 = theta[2 * hv + hidden :]
    return W1, W2, b1, b2


def initialize_parameters(visible: int, hidden: int, rng: int | np.random.Generator = 0) -> Array:
    """UFLDL's initialisation: weights uniform in ±√6/√(visible + hidden + 1), biases 0."""
    rng = np.random.default_rng(rng)
    r = np.sqrt(6.0) / np.sqrt(visible + hidden + 1)
    theta = np.zeros(n_params(visible, hidden))
    W1, W2, _, _ = unpack(theta, visible, hidden)
    W1[...] = rng.uniform(-r, r, W1.shape)
    W2[...] = rng.uniform(-r, r, W2.shape)
    return theta


# --------------------------------------------------------------------------- the cost


def sigmoid_(z: Array) -> Array:
    """σ(z) = ½ + ½ tanh(z/2), in place; returns ``z``. (Same value as 1/(1+e^(−z)); tanh
    neither overflows nor is slow.)"""
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    return z


def kl_divergence(rho: float, rho_hat: Array) -> Array:
    """KL(ρ ‖ ρ̂) between Bernoulli distributions, elementwise over ρ̂ (0 where ρ̂ = ρ)."""
    rho_hat = np.asarray(rho_hat, dtype=np.float64)
    return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))


@dataclass
class CostParts:
    """The three terms of the last evaluated cost (their sum is the cost)."""

    reconstruction: float
    weight_decay: float
    sparsity: float

    @property
    def total(self) -> float:
        return self.reconstruction + self.weight_decay + self.sparsity


class _Block:
    """Examples a:b of the data and the hidden layer's output on them (kept between the two
    passes of an evaluation), one example per row.

    ``s`` = 2x − 1, (n, visible): the inputs mapped to the range of tanh.
    ``h2`` = [tanh(z2/2), 1], (n, hidden + 1): a column of ones makes the output layer's
    bias a row of its weight matrix."""

    def __init__(self, x: Array, hidden: int, dtype: np.dtype) -> None:
        self.n = len(x)
        self.s = np.subtract(2.0 * x, 1.0, dtype=dtype)
        self.h2 = np.empty((self.n, hidden + 1), dtype)
        self.h2[:, hidden] = 1.0
        self.ones = np.ones(self.n, dtype)


class _Work:
    """One worker's scratch buffers, sized for its largest block (flat, so that a smaller
    block's views stay contiguous)."""

    def __init__(self, visible: int, hidden: int, n: int, dtype: np.dtype) -> None:
        self.visible, self.hidden = visible, hidden
        self._v = (np.empty(visible * n, dtype), np.empty(visible * n, dtype))
        self._h = (np.empty(hidden * n, dtype), np.empty(hidden * n, dtype))

    def buffers(self, n: int) -> tuple[Array, Array, Array, Array]:
        """Two (n, visible) and two (n, hidden) arrays."""
        v, h = self.visible, self.hidden
        return (
            *(b[: n * v].reshape(n, v) for b in self._v),
            *(b[: n * h].reshape(n, h) for b in self._h),
        )


class SparseAutoencoderCost:
    """The sparse-autoencoder objective on a fixed data set: ``cost(θ) -> (J, ∂J/∂θ)``.

    ``data`` has one example per row, (m, visible), values in (0, 1) (the sigmoid output must
    be able to reach them). The examples are kept in blocks of about ``block`` (default
    ``BLOCK[dtype]``, see "Speed" above). After a call, ``parts`` holds the three terms of J
    and ``rho_hat`` the mean hidden activations, and ``evaluations`` counts the calls. The
    gradient is a new float64 array each call (L-BFGS keeps it).

    ``dtype``: the precision of the work on the examples, float64 or float32 (see "Speed";
    the parameters, the cost and the gradient are float64 either way).

    ``threads``: the blocks are shared out among this many threads (NumPy releases the
    GIL), each with single-threaded BLAS. Every block's partial sums are kept and added in
    block order, so the result does not depend on ``threads`` (nor on timing), only on
    ``block``. ``None``: the calling thread alone, BLAS threads left as the caller set them
    (multi-threaded BLAS on these small products is slow, very slow on a busy machine).
    """

    def __init__(
        self,
        data: Array,
        hidden: int,
        lam: float = 1e-4,
        beta: float = 3.0,
        rho: float = 0.01,
        threads: int | None = 1,
        block: int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        data = np.asarray(data, dtype=np.float64)
        self.dtype = dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dt}")
        block = BLOCK[dt.name] if block is None else block
        if data.ndim != 2 or len(data) == 0:
            raise ValueError(f"data must be (examples, visible), got shape {data.shape}")
        if not 0.0 < rho < 1.0:
            raise ValueError(f"the sparsity target rho must be in (0, 1), got {rho}")
        if lam < 0 or beta < 0:
            raise ValueError(f"lam and beta must be >= 0, got lam={lam}, beta={beta}")
        if block < 1:
            raise ValueError(f"block must be >= 1 example, got {block}")
        self.m, self.visible = data.shape
        self.hidden = hidden
        self.lam, self.beta, self.rho = float(lam), float(beta), float(rho)
        self.threads = threads
        n_blocks = max(1, round(self.m / block))
        edges = np.linspace(0, self.m, n_blocks + 1).round().astype(int)
        self._blocks = [
            _Block(data[a:b], hidden, dt) for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
        n_workers = 1 if threads is None else max(1, min(int(threads), n_blocks))
        split = np.linspace(0, n_blocks, n_workers + 1).round().astype(int)
        self._groups = [range(a, b) for a, b in zip(split[:-1], split[1:], strict=True)]
        self._work = [
            _Work(self.visible, hidden, max(self._blocks[i].n for i in group), dt)
            for group in self._groups
        ]
        # each block's partial sums: Σ [H2, 1], Σ (H3 − S)², D3ᵀ [H2, 1], D2ᵀ S, D2ᵀ 1
        self._h2_sums = np.empty((n_blocks, hidden + 1), dt)
        self._squares = np.empty(n_blocks)
        self._p = np.empty((n_blocks, self.visible, hidden + 1), dt)
        self._q = np.empty((n_blocks, hidden, self.visible), dt)
        self._q1 = np.empty((n_blocks, hidden), dt)
        self._pool: Any = None
        self._limiter: Any = None
        self.parts: CostParts | None = None
        self.rho_hat: Array | None = None
        self.evaluations = 0

    @property
    def n_params(self) -> int:
        return n_params(self.visible, self.hidden)

    def close(self) -> None:
        """Stop the worker threads (they are started by the first call with threads > 1)."""
        pool = getattr(self, "_pool", None)  # absent if __init__ failed
        if pool is not None:
            pool.shutdown(wait=False)
            self._pool = None

    def __del__(self) -> None:
        self.close()

    def __call__(self, theta: Array) -> tuple[float, Array]:
        """(J(θ), ∂J/∂θ)."""
        cost, grad = self._limited(theta, True)
        return cost, grad

    def value(self, theta: Array) -> float:
        """J(θ) alone (forward pass only), e.g. for finite differences."""
        return self._limited(theta, False)[0]

    def _limited(self, theta: Array, gradient: bool) -> tuple[float, Any]:
        if self.threads is None:
            return self._evaluate(theta, gradient)
        if self._limiter is None:
            from threadpoolctl import ThreadpoolController

            self._limiter = ThreadpoolController()
        with self._limiter.limit(limits=1, user_api="blas"):
            return self._evaluate(theta, gradient)

    def _map(self, work: Callable[..., None], *args: Any) -> None:
        """``work(group, *args)`` for every group of blocks: the first here, the others in
        worker threads."""
        if len(self._groups) == 1:
            work(0, *args)
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(len(self._groups) - 1, "sparse-ae")
        futures = [self._pool.submit(work, k, *args) for k in range(1, len(self._groups))]
        work(0, *args)
        for f in futures:
            f.result()

    def _hidden_layer(self, k: int, w1t: Array, c1: Array) -> None:
        """H2 = tanh(z2/2) = tanh(S W1ᵀ/4 + c1) of the group's blocks, and its column sums."""
        h = self.hidden
        for i in self._groups[k]:
            b = self._blocks[i]
            z = self._work[k].buffers(b.n)[2]
            np.matmul(b.s, w1t, out=z)
            z += c1
            np.tanh(z, out=b.h2[:, :h])
            np.dot(b.ones, b.h2, out=self._h2_sums[i])

    def _output_layer(self, k: int, a2: Array, w2: Array, s8: Array, gradient: bool) -> None:
        """H3, Σ (H3 − S)² and (with ``gradient``) the gradient products of each block."""
        h = self.hidden
        work = self._work[k]
        for i in self._groups[k]:
            b = self._blocks[i]
            h3, r, e, t = work.buffers(b.n)
            np.matmul(b.h2, a2, out=h3)
            np.tanh(h3, out=h3)  # H3 = tanh(z3/2) = 2 a3 − 1
            np.subtract(h3, b.s, out=r)  # H3 − S = 2 (a3 − x)
            flat = r.reshape(-1)
            self._squares[i] = np.dot(flat, flat)
            if not gradient:
                continue
            np.multiply(h3, h3, out=h3)
            np.subtract(1.0, h3, out=h3)  # 1 − H3² = 4 a3 (1 − a3)
            r *= h3  # D3 = 8 δ3
            np.matmul(r.T, b.h2, out=self._p[i])
            np.matmul(r, w2, out=e)  # D3 W2
            e += s8  # + 8 × the sparsity term
            h2 = b.h2[:, :h]
            np.multiply(h2, h2, out=t)
            np.subtract(1.0, t, out=t)  # 1 − H2² = 4 a2 (1 − a2)
            e *= t  # D2 = 32 δ2
            np.matmul(e.T, b.s, out=self._q[i])
            np.dot(b.ones, e, out=self._q1[i])

    def _evaluate(self, theta: Array, gradient: bool = True) -> tuple[float, Array | None]:
        theta = np.asarray(theta, dtype=np.float64)
        v, h, m = self.visible, self.hidden, self.m
        W1, W2, b1, b2 = unpack(theta, v, h)
        # σ(z) = (1 + tanh(z/2))/2, so with S = 2x − 1 and H2 = 2 a2 − 1:
        # z2/2 = S W1ᵀ/4 + c1 and z3/2 = [H2, 1] A2, c1 and A2's last row the biases' share
        dt = self.dtype
        w1t = np.multiply(W1.T, 0.25, dtype=dt, order="C")
        c1 = (0.25 * W1.sum(axis=1) + 0.5 * b1).astype(dt)
        a2 = np.empty((h + 1, v), dt)
        np.multiply(W2.T, 0.25, out=a2[:h], casting="same_kind")
        a2[h] = 0.25 * W2.sum(axis=1) + 0.5 * b2

        self._map(self._hidden_layer, w1t, c1)
        rho, rho_hat = self.rho, 0.5 + 0.5 / m * self._h2_sums[:, :h].sum(0, np.float64)
        sparsity_delta = self.beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
        s8 = (8.0 * sparsity_delta).astype(dt)
        self._map(self._output_layer, a2, W2.astype(dt, copy=False), s8, gradient)

        reconstruction = 0.125 / m * float(self._squares.sum())  # Σ‖a3 − x‖² / 2m
        w1, w2 = W1.reshape(-1), W2.reshape(-1)
        weight_decay = 0.5 * self.lam * float(np.dot(w1, w1) + np.dot(w2, w2))
        sparsity = self.beta * float(np.sum(kl_divergence(rho, rho_hat)))
        cost = reconstruction + weight_decay + sparsity
        if not gradient:
            return cost, None

        # the blocks' partial sums, added in block order
        p, q, q1 = (a.sum(0, np.float64) for a in (self._p, self._q, self._q1))
        grad = np.empty_like(theta)
        gW1, gW2, gb1, gb2 = unpack(grad, v, h)
        # Σ δ3 a2ᵀ = D3ᵀ (1 + H2) / 16, Σ δ3 = D3ᵀ 1 / 8,
        # Σ δ2 xᵀ = D2ᵀ (1 + S) / 64, Σ δ2 = D2ᵀ 1 / 32
        np.add(p[:, :h], p[:, h:], out=gW2)
        gW2 *= 1.0 / (16 * m)
        gW2 += self.lam * W2
        np.multiply(p[:, h], 1.0 / (8 * m), out=gb2)
        np.add(q, q1[:, None], out=gW1)
        gW1 *= 1.0 / (64 * m)
        gW1 += self.lam * W1
        np.multiply(q1, 1.0 / (32 * m), out=gb1)

        self.parts = CostParts(reconstruction, weight_decay, sparsity)
        self.rho_hat = rho_hat
        self.evaluations += 1
        return cost, grad


def sparse_autoencoder_cost(
    theta: Array,
    data: Array,
    hidden: int,
    lam: float = 1e-4,
    beta: float = 3.0,
    rho: float = 0.01,
) -> tuple[float, Array]:
    """(J, ∂J/∂θ) of the sparse autoencoder on ``data`` (m, visible): one call, no reuse.

    For repeated calls on the same data (training), build a ``SparseAutoencoderCost`` once.
    """
    return SparseAutoencoderCost(data, hidden, lam, beta, rho, threads=1)(theta)


# --------------------------------------------------------------------------- using a model


def encode(theta: Array, data: Array, hidden: int) -> Array:
    """Hidden activations a2, (m, hidden), of the examples in ``data`` (m, visible)."""
    data = np.asarray(data, dtype=np.float64)
    W1, _, b1, _ = unpack(theta, data.shape[1], hidden)
    return sigmoid_(data @ W1.T + b1)


def reconstruct(theta: Array, data: Array, hidden: int) -> Array:
    """Reconstructions a3, (m, visible), of the examples in ``data``."""
    data = np.asarray(data, dtype=np.float64)
    _, W2, _, b2 = unpack(theta, data.shape[1], hidden)
    return sigmoid_(encode(theta, data, hidden) @ W2.T + b2)


def filters(theta: Array, visible: int, hidden: int) -> Array:
    """The learned features: the rows of W1, (hidden, visible) (a copy)."""
    return unpack(theta, visible, hidden)[0].copy()


# --------------------------------------------------------------------------- checking, training


def relative_difference(numeric: Array, analytic: Array) -> float:
    """‖numeric − analytic‖ / ‖numeric + analytic‖, UFLDL's gradient-check measure."""
    return float(np.linalg.norm(numeric - analytic) / np.linalg.norm(numeric + analytic))


def gradcheck_indices(
    visible: int, hidden: int, n: int, rng: int | np.random.Generator = 0
) -> Array:
    """About ``n`` flat positions in θ for a gradient check, sorted: ``n`` / 4 from each of
    W1, W2, b1 and b2 (all of a group that is smaller; the weights take up what is left),
    drawn at random without replacement. A check of a few hundred such entries catches the
    same mistakes as one of every parameter: each group's formula is exercised."""
    rng = np.random.default_rng(rng)
    hv = hidden * visible
    groups = [
        (0, hv),
        (hv, 2 * hv),
        (2 * hv, 2 * hv + hidden),
        (2 * hv + hidden, n_params(visible, hidden)),
    ]
    sizes = [b - a for a, b in groups]
    take = [0, 0, min(sizes[2], n // 4), min(sizes[3], n // 4)]
    rest = n - take[2] - take[3]
    take[0] = min(sizes[0], rest // 2)
    take[1] = min(sizes[1], rest - take[0])
    picked = [
        a + rng.choice(b - a, k, replace=False) for (a, b), k in zip(groups, take, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def check_gradient(
    cost: Callable[[Array], tuple[float, Array]],
    theta: Array,
    eps: float = 1e-4,
    indices: Array | None = None,
    value: Callable[[Array], float] | None = None,
) -> tuple[float, Array, Array]:
    """Central differences (J(θ + εe_i) − J(θ − εe_i)) / 2ε against the analytic gradient.

    Returns (relative difference, numeric, analytic), restricted to ``indices`` (flat
    positions in θ) when given, else over every parameter. ``value(θ)``, if given, computes
    J alone for the differences (``SparseAutoencoderCost.value``; default ``cost(θ)[0]``).
    θ is not modified.
    """
    theta = np.array(theta, dtype=np.float64)  # a private copy: it gets perturbed
    _, analytic = cost(theta)
    value = value or (lambda t: cost(t)[0])
    numeric = numerical_gradient(lambda: value(theta), theta, eps, indices)
    if indices is not None:
        numeric, analytic = numeric[indices], analytic[indices]
    return relative_difference(numeric, analytic), numeric, analytic


def train(
    cost: Callable[[Array], tuple[float, Array]],
    theta0: Array,
    maxiter: int = 400,
    callback: Callable[[OptimizeResult], None] | None = None,
    maxcor: int = 10,
    blas_threads: int | None = 1,
) -> OptimizeResult:
    """Minimise ``cost`` from ``theta0`` with L-BFGS-B (scipy), at most ``maxiter`` iterations.

    ``callback(intermediate_result)`` is called after every iteration with the current
    ``x`` and ``fun``. The default stopping tolerances of scipy apply as well. The
    optimiser's own vector algebra runs with ``blas_threads`` BLAS threads (None: BLAS's
    default); more only costs time on these sizes, and a lot on a busy machine.
    """
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    limit = nullcontext() if blas_threads is None else threadpool_limits(blas_threads, "blas")
    with limit:
        return minimize(
            cost,
            np.array(theta0, dtype=np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={"maxiter": maxiter, "maxcor": maxcor},
        )
