"""nnlab.scratch optimizers against torch.optim, schedules, and the fit loop.

Trajectories: the same initial weights and the same mini-batches are fed to both engines for
10 steps; after every step each parameter must agree to 1e-9 relative to its largest entry
(see test_scratch.py for the error measure).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnlab.scratch import (
    SGD,
    Adagrad,
    Adam,
    CosineSchedule,
    Momentum,
    RMSprop,
    StepDecay,
    accuracy,
    fit,
    get_optimizer,
    minibatches,
    mlp,
    softmax_cross_entropy,
)

STEPS = 10

# (our class, our kwargs, torch class, torch kwargs); l1 has no torch counterpart and is added
# to the torch loss as l1 * sum |w| instead.
CASES = {
    "sgd": (SGD, {"lr": 0.3}, torch.optim.SGD, {"lr": 0.3}),
    "sgd_wd": (
        SGD,
        {"lr": 0.3, "weight_decay": 0.05},
        torch.optim.SGD,
        {"lr": 0.3, "weight_decay": 0.05},
    ),
    "momentum": (Momentum, {"lr": 0.1}, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    "nesterov": (
        Momentum,
        {"lr": 0.1, "momentum": 0.8, "nesterov": True},
        torch.optim.SGD,
        {"lr": 0.1, "momentum": 0.8, "nesterov": True},
    ),
    "momentum_wd": (
        SGD,
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
        torch.optim.SGD,
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
    ),
    "nesterov_wd": (
        SGD,
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        torch.optim.SGD,
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    ),
    "adagrad": (Adagrad, {}, torch.optim.Adagrad, {}),
    "adagrad_wd": (
        Adagrad,
        {"lr": 0.2, "weight_decay": 0.01},
        torch.optim.Adagrad,
        {"lr": 0.2, "weight_decay": 0.01},
    ),
    "rmsprop": (RMSprop, {}, torch.optim.RMSprop, {}),
    "rmsprop_wd": (
        RMSprop,
        {"lr": 0.003, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.02},
        torch.optim.RMSprop,
        {"lr": 0.003, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.02},
    ),
    "adam": (Adam, {}, torch.optim.Adam, {}),
    "adam_wd": (
        Adam,
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
        torch.optim.Adam,
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ),
    "sgd_l1": (SGD, {"lr": 0.3, "l1": 0.01}, torch.optim.SGD, {"lr": 0.3}),
    "adam_l1_wd": (
        Adam,
        {"lr": 0.01, "l1": 0.003, "weight_decay": 0.01},
        torch.optim.Adam,
        {"lr": 0.01, "weight_decay": 0.01},
    ),
}


def rel_err(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-300))


def trajectories(case: str, schedule: StepDecay | None = None) -> float:
    """Train the same net in both engines; assert agreement after each step; return max error."""
    ours_cls, ours_kw, torch_cls, torch_kw = CASES[case]
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    batches = [b for _ in range(2) for b in minibatches(X, y, 8, rng)][:STEPS]  # incl. partial

    model = mlp([4, 6, 5, 3], "tanh", rng=1)
    opt = ours_cls(model, **ours_kw)
    params = {n: torch.tensor(p, requires_grad=True) for n, p in model.named_parameters()}
    topt = torch_cls(list(params.values()), **torch_kw)
    tsched = None
    if schedule is not None:
        tsched = torch.optim.lr_scheduler.StepLR(topt, schedule.every, schedule.gamma)
    l1 = ours_kw.get("l1", 0.0)

    worst = 0.0
    for step, (xb, yb) in enumerate(batches):
        if schedule is not None:
            opt.lr = schedule(step)
        _, g = softmax_cross_entropy(model.forward(xb), yb)
        model.backward(g)
        opt.step()

        h = torch.tensor(xb)
        for i in (0, 2, 4):
            h = h @ params[f"{i}.W"] + params[f"{i}.b"]
            h = torch.tanh(h) if i < 4 else h
        loss = F.cross_entropy(h, torch.tensor(yb))
        if l1:
            loss = loss + l1 * sum(p.abs().sum() for p in params.values())
        topt.zero_grad()
        loss.backward()
        topt.step()
        if tsched is not None:
            tsched.step()

        for name, p in model.named_parameters():
            err = rel_err(p, params[name].detach().numpy())
            assert err <= 1e-9, f"{case} step {step + 1} {name}: rel error {err:.2e}"
            worst = max(worst, err)
    return worst


@pytest.mark.parametrize("case", sorted(CASES))
def test_trajectory_matches_torch_optim(case: str) -> None:
    trajectories(case)


def test_trajectory_with_step_decay_matches_torch_steplr() -> None:
    trajectories("momentum", schedule=StepDecay(0.1, every=3, gamma=0.5))


def test_optimizer_defaults_match_torch() -> None:
    model = mlp([2, 1], rng=0)
    p = [torch.zeros(1)]
    assert SGD(model).lr == torch.optim.SGD(p).defaults["lr"]  # torch's default is 1e-3
    ada, tada = Adagrad(model), torch.optim.Adagrad(p).defaults
    assert (ada.lr, ada.eps) == (tada["lr"], tada["eps"])
    rms, trms = RMSprop(model), torch.optim.RMSprop(p).defaults
    assert (rms.lr, rms.alpha, rms.eps) == (trms["lr"], trms["alpha"], trms["eps"])
    adam, tadam = Adam(model), torch.optim.Adam(p).defaults
    assert (adam.lr, (adam.beta1, adam.beta2), adam.eps) == (
        tadam["lr"],
        tadam["betas"],
        tadam["eps"],
    )


def test_optimizer_arguments_are_checked() -> None:
    model = mlp([2, 1], rng=0)
    with pytest.raises(ValueError, match="nesterov"):
        SGD(model, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=">= 0"):
        Adam(model, lr=-1.0)
    with pytest.raises(ValueError, match="valid names: adagrad, adam, momentum, rmsprop, sgd"):
        get_optimizer("lbfgs")
    assert get_optimizer("adam") is Adam


def test_schedules() -> None:
    step = StepDecay(0.5, every=3, gamma=0.9)
    assert [step(e) for e in range(7)] == pytest.approx([0.5] * 3 + [0.45] * 3 + [0.405])
    cos = CosineSchedule(1.0, epochs=10, lr_min=0.1)
    assert cos(0) == 1.0 and cos(10) == pytest.approx(0.1) and cos(20) == pytest.approx(0.1)
    assert cos(5) == pytest.approx(0.55)
    assert all(cos(e) >= cos(e + 1) for e in range(12))
    assert CosineSchedule(2.0, 4)(2) == pytest.approx(1.0 + math.cos(math.pi / 2))


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    return centers[y] + rng.normal(size=(n, 2)), y


def test_fit_learns_and_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = blobs(300, 0)
    val = blobs(100, 1)

    def run() -> tuple[dict[str, list[float]], np.ndarray]:
        model = mlp([2, 16, 3], "relu", rng=0)
        hist = fit(
            model,
            softmax_cross_entropy,
            Momentum(model, lr=0.1),
            X,
            y,
            epochs=8,
            batch_size=32,
            rng=0,
            validation=val,
            metrics={"acc": accuracy},
            schedule=CosineSchedule(0.1, 8),
        )
        return hist, model[0].params["W"].copy()

    hist, w = run()
    assert set(hist) == {"train_loss", "lr", "train_acc", "val_loss", "val_acc"}
    assert all(len(v) == 8 for v in hist.values())
    assert hist["val_acc"][-1] >= 0.95 and hist["train_loss"][-1] < 0.5 * hist["train_loss"][0]
    assert hist["lr"][0] == 0.1 and hist["lr"][-1] < 0.01
    hist2, w2 = run()
    assert hist2 == hist and np.array_equal(w, w2)
    assert capsys.readouterr() == ("", "")  # library code never prints


def test_fit_callback_can_stop_early() -> None:
    X, y = blobs(50, 0)
    model = mlp([2, 3], rng=0)
    seen: list[int] = []

    def callback(epoch: int, history: dict[str, list[float]]) -> bool:
        seen.append(epoch)
        return epoch == 2

    hist = fit(
        model,
        softmax_cross_entropy,
        SGD(model, 0.1),
        X,
        y,
        epochs=10,
        batch_size=10,
        callback=callback,
    )
    assert seen == [0, 1, 2] and len(hist["train_loss"]) == 3
