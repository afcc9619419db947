"""backprop-by-hand: the engine's numbers against torch autograd and Mazur's worked example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from figcheck import check_figure
from nnlab.cli import main
from nnlab.experiments.neurons.backprop_by_hand import (
    PARAMS,
    Config,
    forward_backward,
    numerical_gradients,
    sgd_step,
)

DEFAULT = {k: getattr(Config(), k) for k in PARAMS}
X, T = (0.05, 0.10), (0.01, 0.99)


def torch_reference(p: dict[str, float], x, t, cost: str) -> dict[str, float]:
    """The same network written scalar by scalar in Mazur's notation, differentiated by torch."""
    th = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    x1, x2 = (torch.tensor(v, dtype=torch.float64) for v in x)
    z_h1 = th["w1"] * x1 + th["w2"] * x2 + th["b1"]
    z_h2 = th["w3"] * x1 + th["w4"] * x2 + th["b1"]
    h1, h2 = torch.sigmoid(z_h1), torch.sigmoid(z_h2)
    z_o1 = th["w5"] * h1 + th["w6"] * h2 + th["b2"]
    z_o2 = th["w7"] * h1 + th["w8"] * h2 + th["b2"]
    o = torch.stack([torch.sigmoid(z_o1), torch.sigmoid(z_o2)])
    target = torch.tensor(t, dtype=torch.float64)
    z = [z_h1, z_h2, z_o1, z_o2]
    for v in z:
        v.retain_grad()
    if cost == "cross_entropy":
        c = -(target * torch.log(o) + (1 - target) * torch.log(1 - o)).sum()
    else:
        c = 0.5 * ((target - o) ** 2).sum()
    c.backward()
    out = {f"d{k}": th[k].grad.item() for k in PARAMS}
    out |= {"cost": c.item(), "h1": h1.item(), "h2": h2.item(), "o1": o[0].item()}
    out |= {"o2": o[1].item(), "z": [v.item() for v in z], "delta": [v.grad.item() for v in z]}
    return out


@pytest.mark.parametrize("cost", ["cross_entropy", "squared_error"])
def test_engine_matches_torch_autograd_float64(cost):
    rng = np.random.default_rng(3)
    cases = [DEFAULT] + [dict(zip(PARAMS, rng.normal(0, 1.5, 10), strict=True)) for _ in range(5)]
    for p in cases:
        ours = forward_backward(p, X, T, cost)
        ref = torch_reference(p, X, T, cost)
        assert ours.cost == pytest.approx(ref["cost"], abs=1e-12)
        np.testing.assert_allclose([*ours.z_h, *ours.z_o], ref["z"], rtol=0, atol=1e-12)
        np.testing.assert_allclose([*ours.h, *ours.o], [ref[k] for k in ("h1", "h2", "o1", "o2")])
        delta = [*ours.delta_h, *ours.delta_o]
        np.testing.assert_allclose(delta, ref["delta"], rtol=0, atol=1e-12)
        for k in PARAMS:
            assert ours.grads[k] == pytest.approx(ref[f"d{k}"], abs=1e-12), k


def test_cross_entropy_output_delta_is_output_minus_target():
    ours = forward_backward(DEFAULT, X, T, "cross_entropy")
    np.testing.assert_allclose(ours.delta_o, ours.o - np.array(T), rtol=0, atol=1e-15)
    # a hidden unit's delta is sigma'(z) times the output deltas weighted by its out-weights
    h1 = ours.h[0]
    expected = h1 * (1 - h1) * (DEFAULT["w5"] * ours.delta_o[0] + DEFAULT["w7"] * ours.delta_o[1])
    assert ours.delta_h[0] == pytest.approx(expected, abs=1e-15)
    assert ours.grads["w5"] == pytest.approx(ours.delta_o[0] * h1, abs=1e-15)
    assert ours.grads["b1"] == pytest.approx(ours.delta_h.sum(), abs=1e-15)


def test_squared_error_reproduces_mazurs_numbers():
    before = forward_backward(DEFAULT, X, T, "squared_error")
    assert before.z_h[0] == pytest.approx(0.3775, abs=1e-12)
    np.testing.assert_allclose(before.h, [0.593269992, 0.596884378], atol=1e-9)
    np.testing.assert_allclose(before.o, [0.75136507, 0.772928465], atol=1e-8)
    assert before.cost == pytest.approx(0.298371109, abs=1e-9)
    assert before.grads["w5"] == pytest.approx(0.082167041, abs=1e-9)
    new = sgd_step(DEFAULT, before.grads, lr=0.5, update_biases=False)
    expected = {
        "w1": 0.149780716,
        "w2": 0.19956143,
        "w3": 0.24975114,
        "w4": 0.29950229,
        "w5": 0.35891648,
        "w6": 0.408666186,
        "w7": 0.511301270,
        "w8": 0.561370121,
        "b1": 0.35,
        "b2": 0.60,
    }
    for k, v in expected.items():
        assert new[k] == pytest.approx(v, abs=1e-8), k
    # Mazur: "the total error is now down to 0.291027924" (biases not updated). His figure
    # carries the rounding of his hand-computed intermediate values: in float64 (engine and
    # torch alike, even from his rounded weights) it is 0.2910277737, 1.5e-7 lower.
    after = forward_backward(new, X, T, "squared_error").cost
    assert after == pytest.approx(0.291027924, abs=2e-7)
    assert after == pytest.approx(torch_reference(new, X, T, "squared_error")["cost"], abs=1e-12)


@pytest.mark.parametrize("cost", ["cross_entropy", "squared_error"])
def test_backprop_agrees_with_central_differences(cost):
    ours = forward_backward(DEFAULT, X, T, cost)
    numeric = numerical_gradients(DEFAULT, X, T, cost, eps=1e-5)
    assert max(abs(ours.grads[k] - numeric[k]) for k in PARAMS) < 1e-9


def _summary(out: Path) -> dict:
    (path,) = out.glob("backprop-by-hand/*/summary.json")
    return json.loads(path.read_text())


def test_smoke_run_writes_every_value(tmp_path):
    args = ["run", "backprop-by-hand", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main(args) == 0
    s = _summary(tmp_path)
    ref = torch_reference(DEFAULT, X, T, "cross_entropy")
    assert s["cost_function"] == "cross_entropy"
    assert s["cost_before"] == pytest.approx(ref["cost"], abs=1e-12)
    assert s["cost_after"] < s["cost_before"]
    assert set(s["pre_activations"]) == {"h1", "h2", "o1", "o2"}
    assert s["activations"]["o2"] == pytest.approx(ref["o2"], abs=1e-12)
    assert s["delta_output"]["o1"] == pytest.approx(s["activations"]["o1"] - 0.01, abs=1e-15)
    for k in PARAMS:
        g = s["gradients"][k]
        assert g["backprop"] == pytest.approx(ref[f"d{k}"], abs=1e-12)
        assert abs(g["backprop"] - g["numeric"]) < 1e-9
        assert s["updated"][k] == pytest.approx(DEFAULT[k] - 0.5 * ref[f"d{k}"], abs=1e-12)
    assert s["max_grad_error"] < 1e-9
    (figures,) = tmp_path.glob("backprop-by-hand/*/figures")
    check_figure(figures / "network.png", min_size=(800, 450))  # a diagram: no axes
    check_figure(figures / "values.png", min_size=(450, 260))  # a table


def test_config_file_selects_squared_error_and_overrides_values(tmp_path):
    cfg = tmp_path / "mazur.json"
    cfg.write_text(json.dumps({"cost": "squared_error", "update_biases": False}))
    args = ["run", "backprop-by-hand", "--preset", "smoke", "--quiet", "--out", str(tmp_path)]
    assert main([*args, "--config", str(cfg), "--set", "lr=0.5"]) == 0
    s = _summary(tmp_path)
    assert s["cost_before"] == pytest.approx(0.298371109, abs=1e-9)
    assert s["updated"]["w5"] == pytest.approx(0.35891648, abs=1e-8)
    assert s["updated"]["w1"] == pytest.approx(0.149780716, abs=1e-9)
    assert s["cost_after"] == pytest.approx(0.291027924, abs=2e-7)  # see the test above
