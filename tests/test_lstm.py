"""The character LSTM: shapes, the loss at initialisation, the parameter formula against
PyTorch's count, the width that matches a parameter budget, and generation with a carried
state against re-reading the whole text."""

from __future__ import annotations

import math

import pytest
import torch

from nnlab.models.lstm import CharLSTM, LSTMConfig, hidden_for_parameters, lstm_parameters

SHAPES = [
    {"vocab_size": 11, "n_embd": 8, "hidden": 16, "n_layer": 1},
    {"vocab_size": 65, "n_embd": 64, "hidden": 245, "n_layer": 2},
    {"vocab_size": 40, "n_embd": 24, "hidden": 32, "n_layer": 3, "proj": 12},
]


def small(**kw) -> CharLSTM:
    torch.manual_seed(0)
    cfg = {"vocab_size": 11, "n_embd": 8, "hidden": 16, "n_layer": 2, **kw}
    return CharLSTM(LSTMConfig(**cfg)).eval()


@pytest.mark.parametrize("cfg", SHAPES, ids=["1-layer", "quick", "projected"])
def test_shapes_and_the_loss_at_initialisation_is_ln_vocab(cfg):
    torch.manual_seed(0)
    model = CharLSTM(LSTMConfig(**cfg))
    idx = torch.randint(0, cfg["vocab_size"], (4, 32))
    with torch.no_grad():
        logits, loss = model(idx, idx)
    assert logits.shape == (4, 32, cfg["vocab_size"])
    assert model(idx)[1] is None
    assert float(loss) == pytest.approx(math.log(cfg["vocab_size"]), abs=0.05)


@pytest.mark.parametrize("cfg", SHAPES, ids=["1-layer", "quick", "projected"])
def test_parameter_formula_matches_pytorch(cfg):
    model = CharLSTM(LSTMConfig(**cfg))
    assert lstm_parameters(model.cfg) == model.num_parameters()
    assert model.num_parameters() == sum(p.numel() for p in model.parameters())


def test_the_quick_size_has_the_documented_count():
    assert lstm_parameters(LSTMConfig(vocab_size=65, n_embd=64, hidden=245, n_layer=2)) == 807_090


@pytest.mark.parametrize("target", [5_000, 27_000, 100_000, 804_096, 3_000_000, 10_745_088])
@pytest.mark.parametrize(("n_layer", "proj"), [(1, 0), (2, 0), (3, 0), (2, 32)])
def test_the_picked_width_is_the_closest_and_within_five_percent(target, n_layer, proj):
    def count(hidden: int) -> int:
        return lstm_parameters(LSTMConfig(65, 32, hidden, n_layer, proj=proj))

    hidden = hidden_for_parameters(target, 65, 32, n_layer, proj)
    assert abs(count(hidden) / target - 1) <= 0.05
    neighbours = [h for h in (hidden - 1, hidden + 1) if h >= 1]
    assert all(abs(count(hidden) - target) <= abs(count(h) - target) for h in neighbours)


def test_a_budget_below_the_narrowest_lstm_is_a_clear_error():
    with pytest.raises(ValueError, match="too few for a 2-layer LSTM"):
        hidden_for_parameters(1_000, 65, 64, 2)


def test_bad_configs_are_clear_errors():
    with pytest.raises(ValueError, match=r"proj must be >= 0"):
        LSTMConfig(proj=-1)
    with pytest.raises(ValueError, match="n_layer must be >= 1"):
        LSTMConfig(n_layer=0)


def test_the_carried_state_gives_the_logits_of_the_full_sequence():
    model = small(proj=6, n_layer=3)
    idx = torch.randint(0, 11, (2, 9))
    full = model(idx)[0]
    logits, state = model.step(idx[:, :4])
    steps = [logits]
    for t in range(4, 9):
        logits, state = model.step(idx[:, t : t + 1], state)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)


def test_greedy_generation_equals_re_reading_the_text():
    model = small()
    idx = torch.randint(0, 11, (3, 5))
    out = model.generate(idx, 40, top_k=1)
    reference = idx
    for _ in range(40):
        step = model(reference)[0][:, -1].argmax(-1, keepdim=True)
        reference = torch.cat([reference, step], dim=1)
    assert out.shape == (3, 45)
    assert torch.equal(out, reference)
    assert not model.training  # generation restores the mode it found


def test_sampling_is_repeatable_with_a_generator_and_keeps_the_mode():
    model = small().train()
    idx = torch.zeros(1, 1, dtype=torch.long)
    a = model.generate(idx, 30, temperature=0.8, generator=torch.Generator().manual_seed(1))
    b = model.generate(idx, 30, temperature=0.8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and model.training
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.generate(idx, 3, temperature=0.0)
