"""nnlab.dynamics: parameter vectors round-trip, filter normalisation, the Hessian and the
Jacobians against finite differences, ε-sharpness, equal budgets, and `train_runs` resuming
run by run with the same results in worker processes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnlab.dynamics import (
    epsilon_sharpness,
    evaluate_along,
    filter_normalised_direction,
    flat_parameters,
    gradient,
    hessian,
    input_jacobian,
    interpolate,
    loss_input_gradients,
    loss_of_parameters,
    mlp_widths_for_budget,
    recompute_batchnorm,
    set_flat_parameters,
    train_classifier,
    train_runs,
    unflatten,
)
from nnlab.models import MLP, mlp_parameter_count
from nnlab.training.classifier import evaluate


def tiny(dtype=torch.float64) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = MLP(3, (4, 3), 2, "tanh").to(dtype)
    x = torch.randn(7, 3, dtype=dtype)
    y = torch.tensor([0, 1, 1, 0, 1, 0, 0])
    return model, x, y


def test_flat_parameters_round_trip_and_views():
    model, _, _ = tiny()
    theta = flat_parameters(model)
    assert theta.shape == (sum(p.numel() for p in model.parameters()),)  # 16+15+8 = 39
    assert theta.shape == (39,)
    other = torch.arange(39, dtype=torch.float64)
    set_flat_parameters(model, other)
    assert torch.equal(flat_parameters(model), other)
    first = next(model.parameters())
    assert torch.equal(first, other[:12].view(4, 3))  # first Linear's weight, row-major
    pieces = unflatten(model, other)
    assert [tuple(v.shape) for v in pieces.values()] == [(4, 3), (4,), (3, 4), (3,), (2, 3), (2,)]
    with pytest.raises(ValueError, match="39 parameters"):
        unflatten(model, torch.zeros(40))
    a, b = torch.zeros(3), torch.ones(3)
    assert torch.equal(interpolate(a, b, 0.0), a) and torch.equal(interpolate(a, b, 1.0), b)
    assert torch.allclose(interpolate(a, b, -1.0), -b) and torch.allclose(
        interpolate(a, b, 2), 2 * b
    )


def test_filter_normalised_direction_matches_every_filters_norm():
    model, _, _ = tiny()
    with torch.no_grad():
        model.net[1].weight.mul_(100)  # layers of very different scale
    d = filter_normalised_direction(model, torch.Generator().manual_seed(3))
    for (name, p), piece in zip(
        model.named_parameters(), unflatten(model, d).values(), strict=True
    ):
        if p.dim() == 1:
            assert torch.count_nonzero(piece) == 0, name  # biases are not moved
        else:
            torch.testing.assert_close(piece.norm(dim=1), p.detach().norm(dim=1))
            assert not torch.allclose(piece, p.detach())  # a random direction, not the weights
    d2 = filter_normalised_direction(model, torch.Generator().manual_seed(4))
    assert abs(F.cosine_similarity(d, d2, dim=0)) < 0.5


def numerical_hessian(f, theta: torch.Tensor, h: float = 1e-4) -> torch.Tensor:
    """Central differences of the analytic gradient, column by column."""
    cols = []
    for i in range(len(theta)):
        e = torch.zeros_like(theta)
        e[i] = h
        cols.append((gradient(f, theta + e) - gradient(f, theta - e)) / (2 * h))
    return torch.stack(cols, dim=1)


def test_hessian_matches_finite_differences_on_a_tiny_net():
    model, x, y = tiny()
    f = loss_of_parameters(model, x, y)
    theta = flat_parameters(model)
    H = hessian(f, theta)
    assert H.shape == (39, 39) and torch.equal(H, H.T)
    # the gradient itself against central differences of the loss
    g = gradient(f, theta)
    e = torch.eye(39, dtype=torch.float64) * 1e-6
    g_num = torch.stack([(f(theta + ei) - f(theta - ei)) / 2e-6 for ei in e])
    torch.testing.assert_close(g, g_num, atol=1e-8, rtol=1e-6)
    H_num = numerical_hessian(f, theta)
    assert (H - H_num).abs().max() < 1e-7 * max(1.0, H.abs().max().item())
    # not trivially zero: a tanh net has curvature in every layer
    assert H.abs().max() > 1e-2 and torch.linalg.eigvalsh(H).min() < 0


def test_hessian_check_catches_a_wrong_hessian():
    model, x, y = tiny()
    f = loss_of_parameters(model, x, y)
    theta = flat_parameters(model)
    wrong = hessian(f, theta).clone()
    wrong[3, 5] += 1e-3
    assert (wrong - numerical_hessian(f, theta)).abs().max() > 1e-4


def test_input_jacobian_and_loss_gradient_match_finite_differences():
    model, x, y = tiny()
    model.eval()
    J = input_jacobian(model, x)
    assert J.shape == (7, 2, 3)
    h = 1e-6
    for k in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[k] = h
        col = (model(x + e) - model(x - e)) / (2 * h)  # every example at once
        torch.testing.assert_close(J[:, :, k], col.detach(), atol=1e-8, rtol=1e-6)
    g = loss_input_gradients(model, x, y)
    assert g.shape == (7, 3)
    for k in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[k] = h
        plus = F.cross_entropy(model(x + e), y, reduction="none")
        minus = F.cross_entropy(model(x - e), y, reduction="none")
        torch.testing.assert_close(
            g[:, k], ((plus - minus) / (2 * h)).detach(), atol=1e-8, rtol=1e-6
        )


def test_epsilon_sharpness_of_a_quadratic():
    # f = 0.5 c z², θ = 0: the box is |z| <= ε, so the maximum is 0.5 c ε²; f(θ) = 0
    c = torch.tensor([4.0, 1.0], dtype=torch.float64)

    def f(t):
        return 0.5 * (c * t * t).sum()

    eps = 0.1
    s = epsilon_sharpness(f, torch.zeros(2, dtype=torch.float64) + 1e-9, eps, steps=4)
    assert s == pytest.approx(100 * 0.5 * (4 + 1) * eps**2, rel=1e-3)
    flat = epsilon_sharpness(lambda t: 0.5 * (0.01 * t * t).sum(), torch.zeros(2) + 1e-9, eps)
    assert flat < s / 100


@pytest.mark.parametrize(
    ("n_in", "depth", "budget"),
    [(1, 1, 1000), (1, 2, 1000), (1, 4, 1000), (1, 8, 1000), (784, 3, 50_000)],
)
def test_widths_for_budget_within_one_percent(n_in, depth, budget):
    widths = mlp_widths_for_budget(n_in, 1 if n_in == 1 else 10, depth, budget)
    assert len(widths) == depth and min(widths) >= 1
    count = mlp_parameter_count(n_in, widths, 1 if n_in == 1 else 10)
    assert abs(count - budget) / budget < 0.01, (widths, count)


def spec(seed: int, epochs: int = 3) -> dict:
    g = torch.Generator().manual_seed(9)
    x = torch.randn(96, 6, generator=g)
    y = (x[:, 0] > 0).long()
    return dict(
        x=x,
        y=y,
        x_test=x[:32],
        y_test=y[:32],
        hidden=(8,),
        epochs=epochs,
        batch_size=16,
        lr=5e-2,
        seed=seed,
        snapshot_every=1,
    )


class FakeRun:
    def __init__(self, directory):
        self.dir = directory
        self.timings = {}
        self.loaded = 0

    def load_checkpoint(self):
        self.loaded += 1

    def bar(self, **kwargs):
        from tqdm import tqdm

        return tqdm(disable=True, **kwargs)

    def record_time(self, name, seconds):
        self.timings[name] = seconds


def test_train_runs_resumes_run_by_run_and_workers_give_the_same_results(tmp_path):
    tasks = {f"seed{s}": spec(s) for s in range(3)}
    one = train_runs(FakeRun(tmp_path / "a"), train_classifier, tasks)
    assert list(one) == ["seed0", "seed1", "seed2"]
    r = one["seed0"]
    assert r["epochs"] == 3 and r["snapshots"].shape == (4, r["parameters"])
    assert r["snapshot_epochs"] == [0, 1, 2, 3] and r["first_layer"].shape == (4, 48)
    assert r["train_accuracy"][-1] > 0.8  # x0 > 0 is learnable in 3 epochs
    assert not torch.equal(one["seed0"]["snapshots"], one["seed1"]["snapshots"])

    (tmp_path / "a" / "checkpoints" / "runs" / "seed1.pt").unlink()
    calls = []

    def counted(**kw):
        calls.append(kw["seed"])
        return train_classifier(**kw)

    again = train_runs(FakeRun(tmp_path / "a"), counted, tasks)
    assert calls == [1]  # only the missing run is trained again
    torch.testing.assert_close(
        again["seed1"]["snapshots"], one["seed1"]["snapshots"], rtol=0, atol=0
    )

    two = train_runs(FakeRun(tmp_path / "b"), train_classifier, tasks, workers=2)
    for name in tasks:
        assert torch.equal(two[name]["snapshots"], one[name]["snapshots"]), name
        assert two[name]["test_loss"] == one[name]["test_loss"]


def test_train_classifier_stops_once_every_example_is_fitted():
    r = train_classifier(**{**spec(0, epochs=200), "snapshot_every": 0}, stop_when_fitted=True)
    assert r["train_accuracy"][-1] == 1.0 and r["epochs"] < 200
    assert all(a < 1.0 for a in r["train_accuracy"][:-1])


def test_batchnorm_statistics_are_recomputed_at_each_point_and_restored():
    torch.manual_seed(0)
    model = MLP(5, (6,), 3, batch_norm=True).double()
    x, y = torch.randn(300, 5, dtype=torch.float64) * 3 + 1, torch.randint(0, 3, (300,))
    theta = flat_parameters(model)
    other = theta + 0.5 * torch.randn_like(theta)
    recompute_batchnorm(model, x, batch_size=300)  # one batch: the exact statistics
    bn, pre = model.net[2], model.net[1](x)
    torch.testing.assert_close(bn.running_mean, pre.mean(0))
    torch.testing.assert_close(bn.running_var, pre.var(0))  # BatchNorm keeps the unbiased one
    assert not model.training and bn.momentum == 0.1
    before = {k: v.clone() for k, v in model.state_dict().items()}

    curve = evaluate_along(model, [theta, other], {"train": (x, y)}, batchnorm_data=x)
    for k, v in model.state_dict().items():  # parameters and statistics are put back
        assert torch.equal(v, before[k]), k
    set_flat_parameters(model, other)
    stale = evaluate(model, x, y)[0]  # θ₂ with θ₁'s statistics
    recompute_batchnorm(model, x)
    assert curve["train_loss"][1] == pytest.approx(evaluate(model, x, y)[0])
    assert abs(curve["train_loss"][1] - stale) > 1e-3  # recomputing changed the loss
