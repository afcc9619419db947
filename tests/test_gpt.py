"""The character GPT: parameter counts under both conventions, causality, SDPA against a
naive masked softmax, and cached generation against recomputing the whole context."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from nnlab.models.gpt import GPT, GPTConfig

SEED_SIZE = {"vocab_size": 65, "block_size": 256, "n_layer": 6, "n_head": 6, "n_embd": 384}
LECTURE = {"bias": True, "tied": False, "fused_qkv": False}


@pytest.mark.parametrize(
    ("style", "total", "without_position"),
    [({}, 10_745_088, 10_646_784), (LECTURE, 10_788_929, 10_690_625)],
    ids=["nanogpt", "lecture"],
)
def test_parameter_counts_match_nanogpt_and_the_seed(style, total, without_position):
    model = GPT(GPTConfig(**SEED_SIZE, **style))
    assert model.num_parameters() == total
    assert model.num_parameters(position=False) == without_position


def test_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match=r"n_embd \(100\) must be divisible by n_head \(6\)"):
        GPTConfig(n_embd=100, n_head=6)
    model = GPT(GPTConfig(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match="longer than block_size 4"):
        model(torch.zeros(1, 5, dtype=torch.long))


def small(**kw) -> GPT:
    torch.manual_seed(0)
    cfg = {"vocab_size": 11, "block_size": 16, "n_layer": 2, "n_head": 2, "n_embd": 16}
    return GPT(GPTConfig(**{**cfg, "dropout": 0.0, **kw})).eval()


@pytest.mark.parametrize("style", [{}, LECTURE], ids=["fused", "per-head"])
def test_attention_is_causal(style):
    model = small(**style)
    idx = torch.randint(0, 11, (2, 12))
    changed = idx.clone()
    changed[:, 8:] = (changed[:, 8:] + 1) % 11
    a, b = model(idx)[0], model(changed)[0]
    torch.testing.assert_close(a[:, :8], b[:, :8])
    assert not torch.allclose(a[:, 8:], b[:, 8:])


def test_sdpa_equals_a_naive_masked_softmax():
    attn = small().blocks[0].attn
    x = torch.randn(3, 10, 16)
    q, k, v = attn._qkv(x)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(torch.ones(10, 10).triu(1).bool(), float("-inf"))
    naive = attn.proj((F.softmax(scores, -1) @ v).transpose(1, 2).reshape(3, 10, 16))
    torch.testing.assert_close(attn(x)[0], naive, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("style", [{}, LECTURE], ids=["fused", "per-head"])
def test_cached_steps_give_the_logits_of_the_full_sequence(style):
    model = small(**style)
    idx = torch.randint(0, 11, (2, 9))
    full = model(idx)[0]
    cache: list = []
    steps = [model(idx[:, :4], cache=cache)[0]]
    steps += [model(idx[:, t : t + 1], cache=cache)[0] for t in range(4, 9)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)


def reference_generate(model: GPT, idx: torch.Tensor, n: int) -> torch.Tensor:
    """Greedy decoding that re-encodes the (cropped) context every step, as nanoGPT does."""
    for _ in range(n):
        logits = model(idx[:, -model.cfg.block_size :])[0][:, -1]
        idx = torch.cat([idx, logits.argmax(-1, keepdim=True)], dim=1)
    return idx


def test_generation_with_the_cache_matches_recomputing_past_the_block_size():
    model = small()
    prompt = torch.randint(0, 11, (2, 3))
    out = model.generate(prompt, 30, top_k=1)  # top-1: greedy, so both must agree exactly
    assert out.shape == (2, 33) and torch.equal(out[:, :3], prompt)
    assert torch.equal(out, reference_generate(model, prompt, 30))
    g = torch.Generator().manual_seed(5)
    first = model.generate(prompt, 20, temperature=0.8, top_k=5, generator=g)
    g = torch.Generator().manual_seed(5)
    assert torch.equal(first, model.generate(prompt, 20, temperature=0.8, top_k=5, generator=g))


def test_count_params_prints_both_conventions_and_rejects_bad_shapes(capsys):
    from nnlab.cli import main

    assert main(["count-params"]) == 0
    rows = {line[:26].strip(): line[26:].split() for line in capsys.readouterr().out.splitlines()}
    assert rows["total"] == ["10,745,088", "10,788,929"]
    assert rows["without position embedding"] == ["10,646,784", "10,690,625"]
    assert rows["output head"] == ["0", "25,025"]  # tied in nanoGPT's convention
    assert main(["count-params", "--embd", "100"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "nnlab: error: n_embd (100) must be divisible by n_head (6): "
        "each head gets n_embd / n_head dimensions"
    ]
