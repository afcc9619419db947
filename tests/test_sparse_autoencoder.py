"""UFLDL sparse autoencoder: cost and gradient against PyTorch, gradient check, the experiment."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from nnlab.cli import main
from nnlab.data.natural_images import load_natural_images, normalize_patches, sample_patches
from nnlab.experiments.engine.sparse_autoencoder import (
    EDGE_THRESHOLD,
    EXPERIMENT,
    Config,
    seed_costs,
)
from nnlab.numerics.imaging import orientation_coherence
from nnlab.scratch import (
    SparseAutoencoderCost,
    check_gradient,
    initialize_parameters,
    kl_divergence,
    sparse_autoencoder_cost,
    unpack,
)
from nnlab.scratch.sparse_autoencoder import encode, gradcheck_indices, reconstruct
from runs_helper import interrupted_run, resumes_identically, single_run, smoke_args


@pytest.fixture(scope="module")
def patches() -> np.ndarray:
    images = load_natural_images()
    return normalize_patches(sample_patches(images, 8, 2000, np.random.default_rng(0)))


def torch_cost(theta, x, visible, hidden, lam, beta, rho):
    """The UFLDL cost written in PyTorch; its gradient comes from autograd."""
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    x = torch.as_tensor(x, dtype=torch.float64)
    hv = hidden * visible
    W1, W2 = t[:hv].view(hidden, visible), t[hv : 2 * hv].view(visible, hidden)
    b1, b2 = t[2 * hv : 2 * hv + hidden], t[2 * hv + hidden :]
    a2 = torch.sigmoid(x @ W1.T + b1)
    a3 = torch.sigmoid(a2 @ W2.T + b2)
    rho_hat = a2.mean(0)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    j = (
        0.5 * ((a3 - x) ** 2).sum() / len(x)
        + 0.5 * lam * ((W1**2).sum() + (W2**2).sum())
        + beta * kl.sum()
    )
    j.backward()
    return j.item(), t.grad.numpy()


@pytest.mark.parametrize(
    ("hidden", "lam", "beta", "rho", "threads"),
    [(25, 1e-4, 3.0, 0.01, 1), (7, 3e-3, 3.0, 0.1, 3), (25, 0.0, 0.0, 0.5, None)],
)
def test_cost_and_gradient_match_torch_autograd(patches, hidden, lam, beta, rho, threads):
    x = patches[:300]
    rng = np.random.default_rng(1)
    theta = initialize_parameters(64, hidden, rng)
    theta[2 * 64 * hidden :] = rng.normal(0, 0.3, hidden + 64)  # non-zero biases too
    cost, grad = SparseAutoencoderCost(x, hidden, lam, beta, rho, threads)(theta)
    ref_cost, ref_grad = torch_cost(theta, x, 64, hidden, lam, beta, rho)
    assert cost == pytest.approx(ref_cost, rel=1e-13)
    assert np.linalg.norm(grad - ref_grad) / np.linalg.norm(ref_grad) < 1e-12


def test_threads_and_plain_function_agree_exactly(patches):
    """The blocks' partial sums are added in block order: any number of threads gives the
    same bits; another block size differs by rounding only."""
    theta = initialize_parameters(64, 25, 3)
    c1, g1 = sparse_autoencoder_cost(theta, patches, 25)
    for threads in (2, 3, None):
        fn = SparseAutoencoderCost(patches, 25, threads=threads)  # 4 blocks of 500
        c2, g2 = fn(theta)
        fn.close()
        assert c2 == c1 and np.array_equal(g2, g1), threads
        assert fn.parts.total == c2 and fn.evaluations == 1
        assert fn.value(theta) == c2  # the forward-only path gives the same number
    for block in (1, 7, 2000, 10**6):
        c3, g3 = SparseAutoencoderCost(patches, 25, block=block)(theta)
        assert c3 == pytest.approx(c1, rel=1e-14)
        np.testing.assert_allclose(g3, g1, rtol=0, atol=1e-14 * np.abs(g1).max())


def test_float32_cost_agrees_with_float64_to_single_precision(patches):
    rng = np.random.default_rng(8)
    theta = initialize_parameters(64, 25, rng)
    theta[2 * 64 * 25 :] = rng.normal(0, 0.3, 25 + 64)
    c64, g64 = SparseAutoencoderCost(patches, 25)(theta)
    fn = SparseAutoencoderCost(patches, 25, threads=2, dtype="float32")
    c32, g32 = fn(theta)
    fn.close()
    assert g32.dtype == np.float64 and isinstance(c32, float)
    assert c32 == pytest.approx(c64, rel=1e-7)
    assert np.linalg.norm(g32 - g64) / np.linalg.norm(g64) < 1e-6
    c1, g1 = SparseAutoencoderCost(patches, 25, threads=1, dtype=np.float32)(theta)
    assert c1 == c32 and np.array_equal(g1, g32)  # threads change nothing in float32 either
    assert fn.value(theta) == c32
    with pytest.raises(ValueError, match="float32 or float64"):
        SparseAutoencoderCost(patches, 25, dtype=np.float16)


def test_kl_term_is_zero_when_mean_activation_equals_rho(patches):
    rho = 0.05
    assert kl_divergence(rho, np.array([rho]))[0] == 0.0
    assert np.all(kl_divergence(rho, np.array([0.01, 0.2, 0.9])) > 0)
    # W1 = 0 and b1 = logit(ρ): every hidden unit outputs exactly ρ on every patch
    theta = initialize_parameters(64, 25, 4)
    W1, _, b1, _ = unpack(theta, 64, 25)
    W1[...] = 0.0
    b1[...] = np.log(rho / (1 - rho))
    fn = SparseAutoencoderCost(patches, 25, lam=1e-4, beta=3.0, rho=rho)
    cost, grad = fn(theta)
    np.testing.assert_allclose(fn.rho_hat, rho, rtol=1e-13)
    assert abs(fn.parts.sparsity) < 1e-14
    # ... so the sparsity penalty adds nothing to the cost or the gradient
    cost0, grad0 = SparseAutoencoderCost(patches, 25, lam=1e-4, beta=0.0, rho=rho)(theta)
    assert cost == pytest.approx(cost0, abs=1e-14)
    np.testing.assert_allclose(grad, grad0, rtol=0, atol=1e-13)


def test_gradient_check_on_the_default_configuration(patches):
    """UFLDL's check: 64-25-64, λ=1e-4, β=3, ρ=0.01, ε=1e-4, all 3289 parameters."""
    cfg = Config()
    fn = SparseAutoencoderCost(patches[:10], cfg.hidden, cfg.lam, cfg.beta, cfg.rho, threads=1)
    theta = initialize_parameters(64, cfg.hidden, 0)
    difference, numeric, analytic = check_gradient(fn, theta, eps=1e-4)
    assert numeric.shape == analytic.shape == (3289,)
    assert difference < 1e-8
    # a wrong gradient is caught: drop the sparsity term's contribution to δ2
    wrong = SparseAutoencoderCost(patches[:10], 25, 1e-4, 0.0, 0.01, threads=1)

    def buggy(t):
        return fn(t)[0], wrong(t)[1]

    assert check_gradient(buggy, theta, eps=1e-4)[0] > 1e-3


def test_gradient_check_on_a_subset_covers_every_parameter_group(patches):
    indices = gradcheck_indices(64, 25, 400, rng=0)
    assert len(indices) == len(set(indices)) == 400 and np.all(np.diff(indices) > 0)
    counts = np.histogram(indices, [0, 1600, 3200, 3225, 3289])[0]
    assert counts.tolist() == [155, 156, 25, 64]  # W1, W2, b1, b2: all of the biases
    assert (
        np.histogram(gradcheck_indices(784, 196, 400), [0, 153664, 307328, 307524, 308308])[
            0
        ].tolist()
        == [100] * 4
    )
    assert len(gradcheck_indices(64, 25, 10**6)) == 3289  # every parameter
    # the subset catches the same bug as the full check: no sparsity term in δ2
    fn = SparseAutoencoderCost(patches[:10], 25, 1e-4, 3.0, 0.01)
    wrong = SparseAutoencoderCost(patches[:10], 25, 1e-4, 0.0, 0.01)
    theta = initialize_parameters(64, 25, 0)
    assert check_gradient(fn, theta, 1e-4, indices, fn.value)[0] < 1e-8
    assert check_gradient(lambda t: (fn(t)[0], wrong(t)[1]), theta, 1e-4, indices)[0] > 1e-3


def test_encode_and_reconstruct_agree_with_the_cost(patches):
    theta = initialize_parameters(64, 25, 5)
    fn = SparseAutoencoderCost(patches, 25)
    fn(theta)
    np.testing.assert_allclose(encode(theta, patches, 25).mean(0), fn.rho_hat, rtol=1e-12)
    recon = reconstruct(theta, patches, 25)
    error = 0.5 * np.sum((recon - patches) ** 2) / len(patches)
    assert error == pytest.approx(fn.parts.reconstruction, rel=1e-12)


def test_orientation_coherence_separates_edges_from_noise():
    y, x = np.mgrid[0:8, 0:8]
    edge = np.tanh(x + 0.5 * y - 5.0)  # an oriented step edge
    grating = np.sin(0.9 * (x * np.cos(1.0) + y * np.sin(1.0)))
    blob = np.exp(-((x - 3.5) ** 2 + (y - 3.5) ** 2) / 4.0)  # isotropic
    noise = np.random.default_rng(6).uniform(-1, 1, (2000, 8, 8))
    c = orientation_coherence(np.stack([edge, grating, blob, np.zeros((8, 8))]))
    assert c[0] > 0.9 and c[1] > 0.9 and c[2] < 0.05 and c[3] == 0.0
    c_noise = orientation_coherence(noise)
    assert np.median(c_noise) < 0.2 and np.mean(c_noise >= EDGE_THRESHOLD) < 0.005


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("rho=1.5", "'rho' (the sparsity target, a mean activation) must be strictly between"),
        ("rho=1", "must be strictly between 0 and 1; got 1.0"),
        ("rho=0", "must be strictly between 0 and 1; got 0.0"),
        ("rho=-0.01", "must be strictly between 0 and 1; got -0.01"),
        ("lam=-1e-4", "'lam' must be in [0, inf]"),
        ("beta=-3", "'beta' must be in [0, inf]"),
        ("hidden=0", "'hidden' must be in [1, 8192]"),
    ],
)
def test_bad_config_is_a_one_line_error(setting, fragment, tmp_path, capsys):
    argv = ["run", "sparse-autoencoder", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main([*argv, "--set", setting]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err
    assert not list(tmp_path.iterdir())


def test_digit_datasets_get_ufldl_digit_hyperparameters():
    cfg = Config(dataset="mnist")
    assert (cfg.hidden, cfg.lam, cfg.rho, cfg.beta) == (196, 3e-3, 0.1, 3.0)
    cfg = Config(dataset="fashion-mnist", hidden=100, rho=0.05)
    assert (cfg.hidden, cfg.lam, cfg.rho) == (100, 3e-3, 0.05)
    cfg = Config(dataset="natural-images")
    assert (cfg.hidden, cfg.lam, cfg.rho) == (25, 1e-4, 0.01)


@pytest.mark.parametrize(
    ("preset", "overrides", "comparable"),
    [
        ("full", {}, True),
        ("full", {"threads": 1, "gradcheck_examples": 0}, True),  # the same training
        ("quick", {"dataset": "ufldl-images"}, True),  # the full preset by another name
        ("quick", {}, False),  # other images
        ("full", {"steps": 300}, False),
        ("full", {"dtype": "float64"}, False),
        ("smoke", {"dataset": "ufldl-images"}, False),  # 3,000 patches
    ],
)
def test_seed_costs_are_comparable_only_on_the_seeds_configuration(preset, overrides, comparable):
    cfg = EXPERIMENT.make_config(preset, overrides)
    rows = seed_costs(cfg, {"cost_initial": 49.0, "cost_final": 0.5})
    assert [(r["cost"], r["seed"]) for r in rows] == [
        ("cost_initial", 48.85),
        ("cost_final", 0.481),
    ]
    assert [r["comparable"] for r in rows] == [comparable, comparable]
    if comparable:
        assert [r["difference"] for r in rows] == pytest.approx([0.15, 0.019])
    else:
        assert [r["difference"] for r in rows] == [None, None]


def test_smoke_run_learns_oriented_filters(tmp_path, monkeypatch):
    import time
    from collections import defaultdict

    from nnlab.scratch.sparse_autoencoder import SparseAutoencoderCost

    calls, original = defaultdict(list), SparseAutoencoderCost.__call__

    def timed(self, theta):
        started = time.perf_counter()
        try:
            return original(self, theta)
        finally:
            calls[id(self)].append(time.perf_counter() - started)

    monkeypatch.setattr(SparseAutoencoderCost, "__call__", timed)
    argv = ["run", "sparse-autoencoder", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main(argv) == 0
    (run_dir,) = tmp_path.glob("sparse-autoencoder/*")
    s = json.loads((run_dir / "summary.json").read_text())
    assert s["gradcheck_relative_difference"] < 1e-8
    assert s["gradcheck_parameters"] == 400  # a quarter each from W1, W2; all 89 biases
    assert s["cost_final"] < s["cost_initial"] / 20
    assert s["cost_initial"] == pytest.approx(49.3, abs=1.0)  # ρ̂ ≈ 0.5: 25·3·KL(0.01‖0.5)
    # the seed's costs stand beside these, not compared: a smoke run on other images
    costs = {r["cost"]: r for r in s["seed_costs"]}
    assert costs["cost_initial"]["nnlab"] == s["cost_initial"]
    assert costs["cost_final"]["nnlab"] == s["cost_final"]
    assert costs["cost_initial"]["seed"] == 48.85 and costs["cost_final"]["seed"] == 0.481
    assert s["seed_costs_comparable"] is False and "--preset full" in s["seed_costs_note"]
    assert abs(s["mean_activation"] - 0.01) < 0.005
    # the edge measure: trained filters far above random ones
    assert s["edge_fraction_trained"] >= 0.7
    assert s["edge_fraction_random"] <= 0.08
    assert s["coherence_median_trained"] > s["coherence_median_random"] + 0.4
    figures = {p.name for p in (run_dir / "figures").glob("*.png")}
    assert {
        "filters.png",
        "filters_coherence.png",
        "sparsity.png",
        "reconstructions.png",
        "learning_curves.png",
        "training.png",
    } <= figures
    history = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert history[0]["step"] == 0 and history[-1]["step"] == s["iterations"]
    assert history[-1]["cost"] == pytest.approx(s["cost_final"])
    status = json.loads((run_dir / "status.json").read_text())
    # the median over the training cost's evaluations (the cost object called most: L-BFGS's
    # and a few more at accepted points), timed from outside the cost function
    training = max(calls.values(), key=len)
    assert len(training) > s["evaluations"]
    outside = float(np.median(training))
    median = status["timings"]["seconds_per_evaluation_median"]
    assert outside - 1e-6 <= median <= 1.05 * outside + 0.002
    assert not any("second" in key for key in s)  # timings stay out of summary.json


def test_fashion_mnist_variant(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    argv = ["run", "sparse-autoencoder", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    settings = ["dataset=fashion-mnist", "n_patches=1000", "steps=40", "hidden=49"]
    settings += ["gradcheck_examples=3", "gradcheck_params=300"]
    assert main([*argv, *(a for kv in settings for a in ("--set", kv))]) == 0
    (run_dir,) = tmp_path.glob("sparse-autoencoder/*")
    s = json.loads((run_dir / "summary.json").read_text())
    assert (s["visible"], s["hidden"], s["lam"], s["rho"]) == (784, 49, 3e-3, 0.1)
    assert s["gradcheck_relative_difference"] < 1e-8 and s["gradcheck_parameters"] == 300
    assert s["cost_final"] < s["cost_initial"] / 2
    assert s["reconstruction_r2"] > 0.3


def test_mnist_variant_uses_ufldl_settings_and_learns_strokes(tmp_path, shared_data, monkeypatch):
    """UFLDL's follow-up exercise on real MNIST (a 500-image subset, 60 iterations): 784-196-784,
    λ = 3e-3, β = 3, ρ = 0.1 without being asked; the filters already orient."""
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    argv = ["run", "sparse-autoencoder", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    settings = ["dataset=mnist", "n_patches=500", "steps=60", "gradcheck_examples=3"]
    assert main([*argv, *(a for kv in settings for a in ("--set", kv))]) == 0
    (run_dir,) = tmp_path.glob("sparse-autoencoder/*")
    s = json.loads((run_dir / "summary.json").read_text())
    assert (s["visible"], s["hidden"], s["lam"], s["beta"], s["rho"]) == (784, 196, 3e-3, 3.0, 0.1)
    assert s["examples"] == 500 and s["data"].startswith("the first 500 mnist training images")
    assert s["gradcheck_relative_difference"] < 1e-8 and s["gradcheck_parameters"] == 400
    assert s["cost_final"] < s["cost_initial"] / 15
    assert abs(s["mean_activation"] - 0.1) < 0.02
    # the stroke measure: random 28x28 weights have no orientation, trained filters some
    assert s["coherence_median_random"] < 0.1
    assert s["coherence_median_trained"] > s["coherence_median_random"] + 0.2
    assert s["edge_fraction_trained"] > 0.05 and s["edge_fraction_random"] == 0.0
    captions = json.loads((run_dir / "figures" / "captions.json").read_text())
    assert "pen strokes" in captions["filters.png"]
    assert f"{s['edge_fraction_trained']:.0%} of the trained" in captions["filters.png"]


def _tiny(tmp_path) -> list[str]:
    return [*TINY, "--out", str(tmp_path)]


TINY = smoke_args("sparse-autoencoder", "n_patches=400", "steps=15")


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    """L-BFGS starts over on resume; the metrics the first attempt logged are dropped."""
    assert main(_tiny(tmp_path / "whole")) == 0
    cut, _ = interrupted_run(
        tmp_path / "cut", monkeypatch, TINY, stop=lambda steps: len(steps) == 6, at="log"
    )
    assert len((cut / "metrics.jsonl").read_text().splitlines()) == 6
    resumes_identically(cut, single_run(tmp_path / "whole"))


def test_a_run_never_imports_torch(tmp_path):
    """A NumPy experiment: PyTorch would add a second of start-up."""
    code = (
        "import sys\n"
        "from nnlab.cli import main\n"
        f"assert main({_tiny(tmp_path)!r}) == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
