"""Optimizer state_dict / load_state_dict and engine checkpoints: save, load, continue gives the
trajectory of an uninterrupted run, for every optimizer."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from nnlab.scratch import (
    SGD,
    Adagrad,
    Adam,
    Momentum,
    RMSprop,
    StepDecay,
    engine_state,
    epoch_callback,
    fit,
    flatten,
    mlp,
    restore_engine_state,
    resume,
    softmax_cross_entropy,
)

OPTIMIZERS = {
    "sgd": lambda m: SGD(m, lr=0.1),
    "momentum": lambda m: Momentum(m, lr=0.05),
    "nesterov": lambda m: SGD(m, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adagrad": lambda m: Adagrad(m, lr=0.05),
    "rmsprop": lambda m: RMSprop(m, lr=0.01, l1=1e-4),
    "adam": lambda m: Adam(m, lr=0.01),
}

rng0 = np.random.default_rng(0)
X = rng0.normal(size=(50, 6)).astype(np.float32)
Y = rng0.integers(0, 3, 50)
SCHEDULE = StepDecay(0.05, every=2, gamma=0.5)


def _fresh(name):
    model = mlp([6, 8, 3], "tanh", rng=1, dtype=np.float32)
    return model, OPTIMIZERS[name](model), np.random.default_rng(7)


def _train(model, opt, shuffle, epochs, done=0):
    return fit(
        model,
        softmax_cross_entropy,
        opt,
        X,
        Y,
        epochs=epochs,
        batch_size=16,
        rng=shuffle,
        schedule=lambda e: SCHEDULE(done + e),
    )


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_state_dict_round_trip_continues_exactly(name):
    ref_model, ref_opt, ref_rng = _fresh(name)
    _train(ref_model, ref_opt, ref_rng, 3)

    model, opt, shuffle = _fresh(name)
    _train(model, opt, shuffle, 2)
    params, opt_state, rng_state = model.state_dict(), opt.state_dict(), shuffle.bit_generator.state
    _train(model, opt, shuffle, 1)  # the saved copies must not follow the originals

    model2, opt2, shuffle2 = _fresh(name)
    model2.load_state_dict(params)
    opt2.load_state_dict(opt_state)
    shuffle2.bit_generator.state = rng_state
    assert opt2.t == 2 * 4 and opt2.lr == SCHEDULE(1)
    _train(model2, opt2, shuffle2, 1, done=2)
    for (key, a), (_, b) in zip(
        ref_model.named_parameters(), model2.named_parameters(), strict=True
    ):
        np.testing.assert_array_equal(a, b, err_msg=key)
    assert opt2.t == ref_opt.t
    for key, slot in ref_opt.state.items():
        for buf, arr in slot.items():
            np.testing.assert_array_equal(opt2.state[key][buf], arr, err_msg=f"{key}/{buf}")


def test_state_dict_holds_copies_and_load_copies_too():
    model, opt, shuffle = _fresh("adam")
    _train(model, opt, shuffle, 1)
    state = opt.state_dict()
    assert set(state) == {"t", "lr", "state"} and set(state["state"]["0.W"]) == {"m", "v"}
    state["state"]["0.W"]["m"][...] = 123.0
    assert not np.any(opt.state["0.W"]["m"] == 123.0)
    opt.load_state_dict(state)
    state["state"]["0.W"]["m"][...] = 0.0
    assert np.all(opt.state["0.W"]["m"] == 123.0)


def test_load_state_dict_rejects_foreign_buffers():
    model, opt, shuffle = _fresh("momentum")
    _train(model, opt, shuffle, 1)
    state = opt.state_dict()
    other = Momentum(mlp([6, 5, 3], rng=0, dtype=np.float32), lr=0.1)
    with pytest.raises(ValueError, match=r"0\.W/velocity: expected shape \(6, 5\)"):
        other.load_state_dict(state)
    state["state"]["9.W"] = state["state"].pop("0.W")
    with pytest.raises(ValueError, match="'9.W', which is not a parameter"):
        opt.load_state_dict(state)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_engine_state_through_a_weights_only_checkpoint(name):
    ref_model, ref_opt, ref_rng = _fresh(name)
    _train(ref_model, ref_opt, ref_rng, 3)
    model, opt, shuffle = _fresh(name)
    _train(model, opt, shuffle, 2)
    buf = io.BytesIO()
    torch.save(engine_state(model, opt, shuffle), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    model2, opt2, shuffle2 = _fresh(name)
    restore_engine_state(state, model2, opt2, shuffle2)
    _train(model2, opt2, shuffle2, 1, done=2)
    for (key, a), (_, b) in zip(
        ref_model.named_parameters(), model2.named_parameters(), strict=True
    ):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b, err_msg=key)


def test_flatten_makes_contiguous_float32_rows():
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)[:, :, ::-1]
    rows = flatten(x)
    assert rows.shape == (2, 12) and rows.dtype == np.float32 and rows.flags.c_contiguous
    np.testing.assert_array_equal(rows[1], x[1].ravel())


class _FakeRun:
    """What epoch_callback uses of a Run: log and save_checkpoint (through torch, as a Run)."""

    def __init__(self):
        self.lines, self.saved = [], None

    def log(self, step, **metrics):
        self.lines.append({"step": step, **metrics})

    def save_checkpoint(self, state):
        buf = io.BytesIO()
        torch.save(state, buf)
        buf.seek(0)
        self.saved = torch.load(buf, weights_only=True)


class _Bar:
    def __init__(self):
        self.n, self.postfix = 0, {}

    def update(self, n):
        self.n += n

    def set_postfix(self, **kw):
        self.postfix = kw


def test_epoch_callback_logs_checkpoints_and_resume_continues_exactly():
    ref_model, ref_opt, ref_rng = _fresh("momentum")
    _train(ref_model, ref_opt, ref_rng, 3)

    run, bar = _FakeRun(), _Bar()
    model, opt, shuffle = _fresh("momentum")
    assert resume(None, model, opt, shuffle) == 0
    callback = epoch_callback(
        run,
        model,
        opt,
        shuffle,
        name="net",
        skip=("lr",),
        extra={"network": 1},
        bar=bar,
        postfix=lambda h: {"loss": f"{h['train_loss'][-1]:.2f}"},
    )
    fit(
        model,
        softmax_cross_entropy,
        opt,
        X,
        Y,
        epochs=2,
        batch_size=16,
        rng=shuffle,
        schedule=SCHEDULE,
        callback=callback,
    )
    assert [line["step"] for line in run.lines] == [1, 2]
    assert set(run.lines[0]) == {"step", "train_loss@net"}
    assert run.saved["epoch"] == 2 and run.saved["network"] == 1
    assert bar.n == 2 and set(bar.postfix) == {"loss"}

    # a fresh start from the last checkpoint: one more epoch, logged as step 3
    model2, opt2, shuffle2 = _fresh("momentum")
    done = resume(run.saved, model2, opt2, shuffle2)
    assert done == 2
    fit(
        model2,
        softmax_cross_entropy,
        opt2,
        X,
        Y,
        epochs=3 - done,
        batch_size=16,
        rng=shuffle2,
        schedule=lambda e: SCHEDULE(done + e),
        callback=epoch_callback(run, model2, opt2, shuffle2, done),
    )
    assert run.lines[-1]["step"] == 3 and "lr" in run.lines[-1]  # no name, nothing skipped
    for (key, a), (_, b) in zip(
        ref_model.named_parameters(), model2.named_parameters(), strict=True
    ):
        np.testing.assert_array_equal(a, b, err_msg=key)
