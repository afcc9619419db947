"""nnlab.scratch: the NumPy engine against PyTorch autograd, central differences and edge cases.

Agreement with PyTorch is measured per tensor as

    err(ours, ref) = max|ours - ref| / max(max|ref|, 1e-300)

i.e. the largest deviation relative to the reference tensor's largest entry, and must be
<= 1e-8 (an absolute floor of 1e-15 admits tensors that are exactly 0, e.g. behind dead
ReLUs). Entry-by-entry relative error would be meaningless on entries that are ~0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnlab.scratch import (
    Activation,
    Dropout,
    Layer,
    Linear,
    Sequential,
    Softmax,
    accuracy,
    activation_layer,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    get_activation,
    gradcheck,
    gradcheck_model,
    log_softmax,
    minibatches,
    mlp,
    numerical_gradient,
    sigmoid,
    sigmoid_deriv,
    softmax,
    softmax_cross_entropy,
    softplus,
    softplus_deriv,
    squared_error,
    tanh_deriv,
)

RTOL = 1e-8  # float64 through deep random nets: 1.8e-9 seen on an input gradient; a bug is O(1)
ATOL = 1e-15


def rel_err(ours: np.ndarray, ref: np.ndarray) -> float:
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    diff = np.max(np.abs(ours - ref), initial=0.0)
    return float(diff / max(np.max(np.abs(ref), initial=0.0), 1e-300))


def assert_close(ours: np.ndarray, ref: np.ndarray, what: str = "") -> None:
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    diff = np.max(np.abs(ours - ref), initial=0.0)
    bound = RTOL * np.max(np.abs(ref), initial=0.0) + ATOL
    assert diff <= bound, (
        f"{what}: max diff {diff:.3e} > {bound:.3e} (rel {rel_err(ours, ref):.2e})"
    )


# ---------------------------------------------------------------- torch reference ----------

TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "softplus": F.softplus,
    "linear": lambda t: t,
}


def torch_forward(model: Sequential, x: np.ndarray) -> tuple[torch.Tensor, dict, torch.Tensor]:
    """Replay ``model`` in torch on copies of its parameters, after ``model.forward`` has run
    (so each Dropout's mask of that pass is reused). Returns output, leaf params, leaf input."""
    xt = torch.tensor(x, requires_grad=True)
    params = {name: torch.tensor(p, requires_grad=True) for name, p in model.named_parameters()}
    h = xt
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Linear):
            h = h @ params[f"{i}.W"] + params[f"{i}.b"]
        elif isinstance(layer, Activation) and layer.name == "leaky_relu":
            h = F.leaky_relu(h, negative_slope=layer.kwargs.get("alpha", 0.01))
        elif isinstance(layer, Activation):
            h = TORCH_ACTIVATIONS[layer.name](h)
        elif isinstance(layer, Softmax):
            h = torch.softmax(h, dim=1)
        elif isinstance(layer, Dropout):
            h = h if layer.mask is None else h * torch.tensor(layer.mask)
        else:
            raise AssertionError(layer)
    return h, params, xt


def torch_loss(kind: str, out: torch.Tensor, target: np.ndarray) -> torch.Tensor:
    n = out.shape[0]
    t = torch.tensor(target)
    if kind == "squared_error":
        return 0.5 * ((out - t) ** 2).sum() / n
    if kind == "binary_cross_entropy":
        return F.binary_cross_entropy(out, t, reduction="sum") / n
    if kind == "binary_cross_entropy_with_logits":
        return F.binary_cross_entropy_with_logits(out, t, reduction="sum") / n
    return F.cross_entropy(out, t)  # int labels or one-hot rows; mean over the batch


OUR_LOSSES = {
    "squared_error": squared_error,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "softmax_ce_labels": softmax_cross_entropy,
    "softmax_ce_onehot": softmax_cross_entropy,
}

# Output layer that each loss expects after the last Linear.
HEADS = {
    "squared_error": ["linear", "sigmoid", "tanh", "softmax"],
    "binary_cross_entropy": ["sigmoid"],
    "binary_cross_entropy_with_logits": ["linear"],
    "softmax_ce_labels": ["linear"],
    "softmax_ce_onehot": ["linear"],
}

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "linear", "dropout"]


def make_target(kind: str, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    if kind == "squared_error":
        return rng.normal(size=(n, k))
    if kind.startswith("binary"):
        return rng.uniform(size=(n, k))  # soft targets in [0, 1]
    labels = rng.integers(0, k, size=n)
    return labels if kind == "softmax_ce_labels" else np.eye(k)[labels]


@st.composite
def architectures(draw: st.DrawFn) -> dict:
    depth = draw(st.integers(1, 4))
    loss = draw(st.sampled_from(sorted(OUR_LOSSES)))
    min_out = 2 if loss.startswith("softmax") else 1
    widths = [draw(st.integers(1, 8)) for _ in range(depth)] + [draw(st.integers(min_out, 8))]
    hidden = [draw(st.sampled_from(HIDDEN)) for _ in range(depth - 1)]
    return {
        "widths": widths,
        "hidden": hidden,
        "head": draw(st.sampled_from(HEADS[loss])),
        "loss": loss,
        "batch": draw(st.integers(1, 6)),
        "alpha": draw(st.sampled_from([0.01, 0.2])),
        "p": draw(st.sampled_from([0.0, 0.5])),
        "init": draw(st.sampled_from(["xavier", "he"])),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def build(arch: dict) -> Sequential:
    rng = np.random.default_rng(arch["seed"])
    layers: list[Layer] = []
    acts = [*arch["hidden"], arch["head"]]
    for n_in, n_out, act in zip(arch["widths"][:-1], arch["widths"][1:], acts, strict=True):
        layers.append(Linear(n_in, n_out, init=arch["init"], rng=rng))
        if act == "dropout":
            layers.append(Dropout(arch["p"], rng=rng))
        elif act == "leaky_relu":
            layers.append(Activation("leaky_relu", alpha=arch["alpha"]))
        else:
            layers.append(activation_layer(act))
    return Sequential(layers)


def compare_with_torch(arch: dict) -> dict[str, float] | None:
    """Run one forward/backward in both engines; assert agreement; return the errors
    (None for a case that cannot be compared)."""
    rng = np.random.default_rng(arch["seed"] + 1)
    model = build(arch)
    x = rng.normal(size=(arch["batch"], arch["widths"][0]))
    y = make_target(arch["loss"], rng, arch["batch"], arch["widths"][-1])

    out = model.forward(x, training=True)
    # torch clamps p(1 - p) at 1e-12 in this loss's backward, so for saturated outputs its
    # gradient is the clamped one, not the true one (ours is tested against the fused
    # logits form in test_bce_on_saturated_sigmoid_keeps_the_true_gradient).
    if arch["loss"] == "binary_cross_entropy" and not np.all(out * (1 - out) > 1e-12):
        return None
    loss, grad_out = OUR_LOSSES[arch["loss"]](out, y)
    grad_x = model.backward(grad_out)

    out_t, params_t, x_t = torch_forward(model, x)
    loss_t = torch_loss(arch["loss"], out_t, y)
    loss_t.backward()

    errors = {"output": rel_err(out, out_t.detach().numpy())}
    assert_close(out, out_t.detach().numpy(), "output")
    assert_close(loss, loss_t.item(), "loss")
    errors["loss"] = rel_err(loss, loss_t.item())
    assert_close(grad_x, x_t.grad.numpy(), "input grad")
    errors["input"] = rel_err(grad_x, x_t.grad.numpy())
    grads = dict(model.named_grads())
    assert set(grads) == set(params_t)
    for name, p in params_t.items():
        assert_close(grads[name], p.grad.numpy(), name)
        errors[name] = rel_err(grads[name], p.grad.numpy())
    return errors


@settings(max_examples=150, deadline=None)
@given(architectures())
def test_random_mlp_matches_torch_autograd(arch: dict) -> None:
    assume(compare_with_torch(arch) is not None)


@pytest.mark.parametrize("loss", sorted(OUR_LOSSES))
def test_every_loss_matches_torch_on_a_deep_net(loss: str) -> None:
    # Hypothesis samples losses at random; this makes sure each one is exercised.
    arch = {
        "widths": [5, 8, 7, 6, 3],
        "hidden": ["tanh", "dropout", "leaky_relu"],
        "head": HEADS[loss][-1],
        "loss": loss,
        "batch": 6,
        "alpha": 0.2,
        "p": 0.5,
        "init": "xavier",
        "seed": 7,
    }
    errors = compare_with_torch(arch)
    assert len(errors) == 3 + 8  # output, loss, input + 4 Linear layers x (W, b)


def test_bce_on_saturated_sigmoid_keeps_the_true_gradient() -> None:
    z = np.array([[30.7, -25.0, 2.0]])
    y = np.array([[0.3, 0.6, 1.0]])
    sig = Activation("sigmoid")
    _, g = binary_cross_entropy(sig.forward(z), y)
    _, exact = binary_cross_entropy_with_logits(z, y)  # (sigmoid(z) - y) / N
    assert rel_err(sig.backward(g), exact) < 1e-12


# ---------------------------------------------------------------- gradient checks ----------


def small_net(middle: Layer, head: Layer | None = None, seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    layers = [Linear(4, 5, rng=rng), middle, Linear(5, 3, rng=rng)]
    return Sequential(layers if head is None else [*layers, head])


LAYER_CASES = {
    "sigmoid": lambda: Activation("sigmoid"),
    "tanh": lambda: Activation("tanh"),
    "relu": lambda: Activation("relu"),
    "leaky_relu": lambda: Activation("leaky_relu", alpha=0.1),
    "softplus": lambda: Activation("softplus"),
    "linear": lambda: Activation("linear"),
    "softmax": Softmax,
    "linear_he": lambda: Linear(5, 5, init="he", rng=3),
    "nested_sequential": lambda: Sequential([Linear(5, 5, rng=4), Activation("tanh")]),
}


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_gradcheck_every_layer_type(case: str) -> None:
    model = small_net(LAYER_CASES[case]())
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    errors = gradcheck_model(model, squared_error, X, y)
    assert "input" in errors
    assert max(errors.values()) < 1e-7, errors


def test_gradcheck_dropout_with_a_fixed_mask() -> None:
    drop = Dropout(0.5, rng=0)
    model = small_net(drop)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    start = drop.rng.bit_generator.state

    def loss_fn() -> float:
        drop.rng.bit_generator.state = start  # the same mask on every evaluation
        return squared_error(model.forward(X, training=True), y)[0]

    drop.rng.bit_generator.state = start
    grad_X = model.backward(squared_error(model.forward(X, training=True), y)[1])
    assert 0 < np.count_nonzero(drop.mask) < drop.mask.size  # some units really dropped
    arrays = {**dict(model.named_parameters()), "input": X}
    grads = {**dict(model.named_grads()), "input": grad_X}
    errors = gradcheck(loss_fn, arrays, grads)
    assert max(errors.values()) < 1e-7, errors


LOSS_CASES = {
    "squared_error": (None, squared_error),
    "binary_cross_entropy": (Activation("sigmoid"), binary_cross_entropy),
    "binary_cross_entropy_with_logits": (None, binary_cross_entropy_with_logits),
    "softmax_ce_labels": (None, softmax_cross_entropy),
    "softmax_ce_onehot": (None, softmax_cross_entropy),
}


@pytest.mark.parametrize("kind", sorted(LOSS_CASES))
def test_gradcheck_every_loss_type(kind: str) -> None:
    head, loss = LOSS_CASES[kind]
    model = small_net(Activation("tanh"), head)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6, 4))
    y = make_target(kind, rng, 6, 3)
    errors = gradcheck_model(model, loss, X, y)
    assert max(errors.values()) < 1e-7, errors


def test_gradcheck_catches_a_wrong_gradient() -> None:
    class WrongTanh(Activation):
        def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray:
            return 1.1 * super().backward(grad_out)  # 10% too large

    model = small_net(WrongTanh("tanh"))
    rng = np.random.default_rng(1)
    errors = gradcheck_model(model, squared_error, rng.normal(size=(6, 4)), rng.normal(size=(6, 3)))
    assert errors["0.W"] > 0.05 and errors["input"] > 0.05
    assert errors["2.W"] < 1e-7  # layers above the bug are still right


def test_gradcheck_random_subset_for_large_tensors() -> None:
    rng = np.random.default_rng(0)
    model = mlp([50, 40, 3], "tanh", rng=0)
    X, y = rng.normal(size=(4, 50)), rng.integers(0, 3, size=4)
    errors = gradcheck_model(model, softmax_cross_entropy, X, y, max_entries=20, seed=5)
    assert max(errors.values()) < 1e-7, errors

    w = model[0].params["W"]
    picked = np.random.default_rng(5).choice(w.size, size=20, replace=False)
    num = numerical_gradient(lambda: softmax_cross_entropy(model.forward(X), y)[0], w, 1e-6, picked)
    assert np.count_nonzero(~np.isnan(num)) == 20


def test_gradcheck_requires_float64() -> None:
    model = mlp([3, 2], rng=0, dtype=np.float32)
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda: 0.0, dict(model.named_parameters()), dict(model.named_grads()))


# ---------------------------------------------------------------- activations --------------

BIG = np.array([-1e4, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1e4])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stable_functions_give_finite_results_without_warnings(dtype: type) -> None:
    x = BIG.astype(dtype)
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [5.0, 1e4, 1e4]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s, sp = sigmoid(x), softplus(x)
        ds, dsp = sigmoid_deriv(x), softplus_deriv(x)
        p, logp = softmax(logits), log_softmax(logits)
        ce, ce_grad = softmax_cross_entropy(logits, np.array([1, 0, 2]))
        bce, bce_grad = binary_cross_entropy_with_logits(x[:, None], np.ones((x.size, 1), dtype))
        bcep, bcep_grad = binary_cross_entropy(s[:, None], np.ones((x.size, 1), dtype))
    for a in (s, sp, ds, dsp, p, logp, ce, ce_grad, bce, bce_grad, bcep, bcep_grad):
        assert np.all(np.isfinite(a))
    assert s[0] == 0 and s[-1] == 1 and s[4] == 0.5
    assert sp[0] == 0 and sp[-1] == 1e4 and np.all(sp >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(p[0], [1, 0, 0])
    np.testing.assert_allclose(p[2], [0, 0.5, 0.5])
    np.testing.assert_allclose(ce, (2e4 + np.log(3) + np.log(2)) / 3, rtol=1e-6)
    assert p.dtype == dtype and s.dtype == dtype


def test_softmax_properties() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(scale=10, size=(50, 7))
    p = softmax(x)
    assert np.all((p > 0) & (p < 1))
    assert np.max(np.abs(p.sum(axis=1) - 1)) < 1e-15
    assert np.max(np.abs(softmax(x + 123.4) - p)) < 1e-14  # translation invariance
    assert np.max(np.abs(np.exp(log_softmax(x)) - p)) < 1e-15


def test_activation_identities() -> None:
    x = np.linspace(-30, 30, 2001)
    s = sigmoid(x)
    assert np.array_equal(sigmoid_deriv(x), s * (1 - s))
    assert np.max(np.abs(sigmoid_deriv(x) - np.exp(-x) / (1 + np.exp(-x)) ** 2)) < 1e-15
    assert np.max(np.abs(np.tanh(x) - (2 * sigmoid(2 * x) - 1))) < 1e-15
    assert np.max(np.abs(tanh_deriv(x) - 1 / np.cosh(x) ** 2)) < 1e-15
    assert np.max(np.abs(softplus(x) - np.log1p(np.exp(x)))) < 1e-13


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "linear"])
def test_each_derivative_matches_central_differences(name: str) -> None:
    fn, deriv = get_activation(name)
    x = np.linspace(-6, 6, 400) + 1e-3  # stay away from the kink at exactly 0
    h = 1e-6
    numeric = (fn(x + h) - fn(x - h)) / (2 * h)
    assert np.max(np.abs(deriv(x) - numeric)) < 1e-8
    assert np.array_equal(deriv(x, fn(x)), deriv(x))  # passing y = f(x) changes nothing


def test_deep_linear_network_is_one_affine_map() -> None:
    rng = np.random.default_rng(0)
    model = mlp([4, 6, 5, 3], activation="linear", rng=0)
    W, b = np.eye(4), np.zeros(4)
    for layer in model.layers[::2]:  # Linear, Activation("linear"), Linear, ...
        W, b = W @ layer.params["W"], b @ layer.params["W"] + layer.params["b"]
    x = rng.normal(size=(10, 4))
    assert np.max(np.abs(model.forward(x) - (x @ W + b))) < 1e-14


# ---------------------------------------------------------------- layers -------------------


def test_linear_initialisations() -> None:
    xavier = Linear(300, 200, rng=0).params["W"]
    bound = np.sqrt(6 / 500)
    assert np.max(np.abs(xavier)) <= bound and np.max(np.abs(xavier)) > 0.99 * bound
    assert abs(xavier.std() - bound / np.sqrt(3)) < 0.01 * bound
    he = Linear(300, 200, init="he", rng=0).params["W"]
    assert abs(he.std() - np.sqrt(2 / 300)) < 0.02 * np.sqrt(2 / 300)
    assert not Linear(3, 2, init="zeros").params["W"].any()
    assert not Linear(3, 2, rng=0).params["b"].any()
    assert np.array_equal(Linear(3, 2, rng=5).params["W"], Linear(3, 2, rng=5).params["W"])
    with pytest.raises(ValueError, match="xavier, he, zeros"):
        Linear(3, 2, init="glorot")


def test_dropout_is_inverted_and_off_in_evaluation() -> None:
    drop = Dropout(0.25, rng=0)
    x = np.ones((400, 500))
    y = drop.forward(x, training=True)
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1) < 0.01  # expectation preserved
    assert np.array_equal(drop.backward(x), drop.mask)
    assert drop.forward(x, training=False) is x
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


def test_float32_stays_float32() -> None:
    rng = np.random.default_rng(0)
    model = mlp([8, 16, 4], "relu", rng=0, dtype=np.float32)
    x = rng.normal(size=(5, 8)).astype(np.float32)
    out = model.forward(x)
    _, g = softmax_cross_entropy(out, rng.integers(0, 4, 5))
    gx = model.backward(g)
    assert out.dtype == g.dtype == gx.dtype == np.float32
    assert all(g.dtype == np.float32 for _, g in model.named_grads())
    assert model.astype(np.float64)[0].params["W"].dtype == np.float64


def test_sequential_names_state_dict_and_parameter_count() -> None:
    model = mlp([3, 4, 2], "sigmoid", output_activation="softmax", rng=0)
    assert [n for n, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert [n for n, _ in model.named_grads()] == ["0.W", "0.b", "2.W", "2.b"]
    assert isinstance(model[3], Softmax) and len(model) == 4
    assert model.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2
    state = model.state_dict()
    other = mlp([3, 4, 2], "sigmoid", output_activation="softmax", rng=1)
    other.load_state_dict(state)
    x = np.ones((2, 3))
    assert np.array_equal(other.forward(x), model.forward(x))
    with pytest.raises(ValueError, match="expected shape"):
        other.load_state_dict({**state, "0.b": np.zeros(5)})
    model.backward(np.ones((2, 2)))
    model.zero_grad()
    assert all(not g.any() for _, g in model.named_grads())


def test_backward_overwrites_gradients() -> None:
    model = mlp([3, 2], rng=0)
    x = np.ones((4, 3))
    for _ in range(2):
        model.forward(x)
        model.backward(np.ones((4, 2)))
    assert np.array_equal(model[0].grads["b"], [4.0, 4.0])  # not 8: no accumulation


def test_backward_can_skip_the_input_gradient() -> None:
    model = mlp([3, 4, 2], "tanh", rng=0)
    x, g = np.ones((5, 3)), np.ones((5, 2))
    model.forward(x)
    assert model.backward(g).shape == (5, 3)
    grads = {n: v.copy() for n, v in model.named_grads()}
    assert model.backward(g, input_grad=False) is None
    assert all(np.array_equal(v, grads[n]) for n, v in model.named_grads())


# ---------------------------------------------------------------- clear errors -------------


def test_linear_shape_mismatch_names_expected_and_got() -> None:
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\), got \(2, 4\)"):
        Linear(3, 5, rng=0).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        Linear(3, 5, rng=0).forward(np.ones(3))


def test_unknown_activation_lists_valid_names() -> None:
    valid = "leaky_relu, linear, relu, sigmoid, softplus, tanh"
    with pytest.raises(ValueError, match=f"unknown activation 'swish'; valid names: {valid}"):
        Activation("swish")
    with pytest.raises(ValueError, match="softmax"):
        mlp([2, 3, 1], activation="swish")


def test_loss_input_errors() -> None:
    with pytest.raises(ValueError, match=r"same shape, got \(2, 3\) and \(2, 2\)"):
        squared_error(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="integer labels"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_accuracy() -> None:
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(scores, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert accuracy(scores, np.eye(2)[[1, 0, 0]]) == pytest.approx(2 / 3)
    assert accuracy(np.array([[0.6], [0.4]]), np.array([[1.0], [1.0]])) == 0.5
    assert accuracy(np.array([2.0, -1.0]), np.array([1, 0]), threshold=0.0) == 1.0


# ---------------------------------------------------------------- mini-batches -------------


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), seed=st.integers(0, 2**31))
def test_minibatches_cover_every_sample_once(n: int, batch_size: int, seed: int) -> None:
    X = np.arange(n, dtype=float)[:, None] * np.ones((1, 3))
    y = np.arange(n) * 10
    batches = list(minibatches(X, y, batch_size, rng=seed))
    sizes = [len(xb) for xb, _ in batches]
    assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    seen = np.concatenate([xb[:, 0] for xb, _ in batches]).astype(int)
    assert sorted(seen) == list(range(n))
    for xb, yb in batches:
        assert np.array_equal(yb, xb[:, 0] * 10)  # rows stay paired with their labels
    again = [xb[:, 0] for xb, _ in minibatches(X, y, batch_size, rng=seed)]
    assert np.array_equal(np.concatenate(again), seen)  # deterministic for a seed


def test_minibatches_shuffle_and_options() -> None:
    X = np.arange(100)[:, None]
    a = np.concatenate([xb for xb, _ in minibatches(X, None, 7, rng=1)])
    b = np.concatenate([xb for xb, _ in minibatches(X, None, 7, rng=2)])
    assert not np.array_equal(a, b)
    rng = np.random.default_rng(0)  # one generator across epochs: a new order each epoch
    e1 = np.concatenate([xb for xb, _ in minibatches(X, None, 7, rng=rng)])
    e2 = np.concatenate([xb for xb, _ in minibatches(X, None, 7, rng=rng)])
    assert not np.array_equal(e1, e2)
    ordered = np.concatenate([xb for xb, _ in minibatches(X, None, 7, shuffle=False)])
    assert np.array_equal(ordered, X)
    with pytest.raises(ValueError, match="X has 100 samples but y has 3"):
        next(minibatches(X, np.zeros(3), 7))
    with pytest.raises(ValueError, match="batch_size"):
        next(minibatches(X, None, 0))


def test_lecun_initialisation_has_variance_one_over_fan_in() -> None:
    W = Linear(300, 200, init="lecun", rng=0).params["W"]
    assert abs(W.std() - np.sqrt(1 / 300)) < 0.02 * np.sqrt(1 / 300)
    assert abs(W.mean()) < 0.02 * np.sqrt(1 / 300)


def test_mlp_with_one_activation_per_layer_matches_central_differences() -> None:
    model = mlp([3, 5, 4, 6, 2], ["leaky_relu", "softplus", "tanh"], rng=0)
    kinds = [repr(layer) for layer in model.layers if isinstance(layer, Activation)]
    assert kinds == ["Activation('leaky_relu')", "Activation('softplus')", "Activation('tanh')"]
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 2, size=7)
    errors = gradcheck_model(model, softmax_cross_entropy, X, y)
    assert max(errors.values()) < 1e-7, errors


def test_mlp_dropout_per_layer_and_its_gradient_with_a_fixed_mask() -> None:
    model = mlp([3, 6, 6, 2], "tanh", dropout=[0.0, 0.4], rng=0)
    drops = [layer for layer in model.layers if isinstance(layer, Dropout)]
    assert [d.p for d in drops] == [0.4] and isinstance(model.layers[-2], Dropout)
    (drop,) = drops
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    start = drop.rng.bit_generator.state

    def loss_fn() -> float:
        drop.rng.bit_generator.state = start
        return squared_error(model.forward(X, training=True), y)[0]

    drop.rng.bit_generator.state = start
    grad_X = model.backward(squared_error(model.forward(X, training=True), y)[1])
    assert 0 < np.count_nonzero(drop.mask) < drop.mask.size
    arrays = {**dict(model.named_parameters()), "input": X}
    grads = {**dict(model.named_grads()), "input": grad_X}
    errors = gradcheck(loss_fn, arrays, grads)
    assert max(errors.values()) < 1e-7, errors
    # evaluation ignores dropout: predict is deterministic
    assert np.array_equal(model.predict(X), model.predict(X))
    with pytest.raises(ValueError, match="2 values of activation for 3 hidden layers"):
        mlp([2, 4, 4, 4, 1], ["tanh", "relu"])
