"""char-gpt training speed against a plain baseline, both measured in this run on this machine:

* the float32 matmul peak of this CPU (best of square products from 256 to 2048);
* training tokens/s of char-gpt's quick configuration the nnlab way (nnlab.training.lm's
  step: fused AdamW, scaled_dot_product_attention, gradient clipping, random windows) and
  the plain way (the same model, data and settings with unfused, per-parameter AdamW and a
  manual masked-softmax attention, float32 as nnlab on CPU), interleaved over `--rounds`
  rounds of `--iters` steps each: median and range of each, and of the ratio taken round by
  round; the model FLOPs utilisation of the median against the peak, with FLOPs per token =
  6N + 12·L·H·Q·T (PaLM appendix B; nanoGPT's estimate_mfu), N the parameters without
  position embeddings;
* sampling 500 characters with the key/value cache and by re-encoding the whole context.

    .venv/bin/python benchmarks/bench_char_gpt.py [--rounds 5 --iters 20]

nanoGPT itself is not run here; its throughput on this configuration, measured on another
day when issue 9 was filed (17,400-18,950 tokens/s at batch 12), is printed as a labelled
reference, not as a ratio.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from functools import partial
from unittest import mock

import torch
import torch.nn.functional as F

from matmul import matmul_peak
from nnlab.experiments.sequences.char_gpt import PRESETS, Config, training_settings
from nnlab.models.gpt import GPT, GPTConfig
from nnlab.training.lm import adamw, sample_batch
from sidebyside import interleaved, ratios, spread

#: a reference from another day (issue 9), printed as such: never divided by
NANOGPT_TOKENS_PER_SECOND = (17_400, 18_950)


def naive_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, **_):
    """softmax(q kᵀ / √d + causal mask) v with the (T, T) scores in memory."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if is_causal:
        t = q.shape[-2]
        future = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    return F.dropout(scores.softmax(dim=-1), dropout_p) @ v


def trainer(gpt_cfg: GPTConfig, batch_size: int, plain: bool) -> tuple[Callable[[int], int], GPT]:
    """A function running n training steps (returning the tokens trained on), and its model.
    `plain`: unfused per-parameter AdamW and the manual attention instead of nnlab's step."""
    torch.manual_seed(0)
    model = GPT(gpt_cfg)
    settings = training_settings(Config(**{**PRESETS["quick"], "batch_size": batch_size}))
    optimizer = adamw(model, settings)  # fused where the device has the kernel
    if plain:  # the same parameter groups and settings, one parameter at a time
        groups = [
            {"params": g["params"], "weight_decay": g["weight_decay"]}
            for g in optimizer.param_groups
        ]
        optimizer = torch.optim.AdamW(
            groups,
            lr=settings.lr,
            betas=(settings.beta1, settings.beta2),
            foreach=False,
            fused=False,
        )
    ids = torch.randint(
        gpt_cfg.vocab_size, (1_000_000,), generator=torch.Generator().manual_seed(0)
    )
    batches = torch.Generator().manual_seed(0)

    def step() -> None:
        x, y = sample_batch(ids, batch_size, gpt_cfg.block_size, batches)
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def steps(n: int) -> int:
        if plain:
            with mock.patch.object(F, "scaled_dot_product_attention", naive_attention):
                for _ in range(n):
                    step()
        else:
            for _ in range(n):
                step()
        return n * batch_size * gpt_cfg.block_size

    return steps, model


def generation_seconds(model: GPT, tokens: int, cached: bool) -> float:
    prompt = torch.zeros(1, 1, dtype=torch.long)
    generator = torch.Generator().manual_seed(0)
    began = time.perf_counter()
    if cached:
        model.generate(prompt, tokens, temperature=0.8, top_k=200, generator=generator)
    else:  # re-encode the whole (cropped) context for every character
        idx = prompt
        with torch.no_grad():
            for _ in range(tokens):
                logits, _ = model(idx[:, -model.cfg.block_size :])
                probs = F.softmax(logits[:, -1] / 0.8, dim=-1)
                idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], 1)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--iters", type=int, default=20, help="training steps per case per round")
    args = parser.parse_args()
    quick = Config(**PRESETS["quick"])
    gpt_cfg = GPTConfig(
        vocab_size=65,
        block_size=quick.block_size,
        n_layer=quick.n_layer,
        n_head=quick.n_head,
        n_embd=quick.n_embd,
        dropout=quick.dropout,
    )
    n = GPT(gpt_cfg).num_parameters(position=False)
    head_dim = gpt_cfg.n_embd // gpt_cfg.n_head
    flops_per_token = 6 * n + 12 * gpt_cfg.n_layer * gpt_cfg.n_head * head_dim * gpt_cfg.block_size
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(
        f"model: {gpt_cfg.n_layer} layers, {gpt_cfg.n_head} heads, {gpt_cfg.n_embd} wide, "
        f"block {gpt_cfg.block_size}; N = {n:,} parameters without position embeddings; "
        f"{flops_per_token / 1e6:.3f} MFLOP per token"
    )
    peak = matmul_peak()
    print(f"float32 matmul peak: {peak:.1f} GFLOP/s")

    batch = quick.batch_size
    nnlab_steps, trained = trainer(gpt_cfg, batch, plain=False)
    plain_steps, _ = trainer(gpt_cfg, batch, plain=True)
    nnlab_steps(5), plain_steps(5)  # warm-up: first allocations, kernel choices
    rates = interleaved(
        {"nnlab": partial(nnlab_steps, args.iters), "plain": partial(plain_steps, args.iters)},
        args.rounds,
    )
    print(
        f"\ntraining at batch {batch}, {args.rounds} rounds of {args.iters} steps each, "
        "interleaved: median (min-max)"
    )
    for name, label in (
        ("nnlab", "nnlab (fused AdamW, SDPA)"),
        ("plain", "plain (unfused AdamW, manual attention)"),
    ):
        mfu = statistics.median(rates[name]) * flops_per_token / (peak * 1e9)
        print(f"{label:42} {spread(rates[name])} tokens/s, MFU {mfu:.1%}")
    speedup = spread(ratios(rates["nnlab"], rates["plain"]), ".2f")
    print(f"{'nnlab / plain, round by round':42} {speedup}x")
    lo, hi = NANOGPT_TOKENS_PER_SECOND
    print(
        f"reference, not measured here: nanoGPT at batch 12 on issue 9's day, {lo:,}-{hi:,} "
        "tokens/s"
    )

    for cached in (True, False):
        seconds = generation_seconds(trained.eval(), 500, cached)
        kind = "with the key/value cache" if cached else "re-encoding the context "
        print(f"500 characters {kind}: {seconds:.3f} s ({500 / seconds:,.0f} char/s)")


if __name__ == "__main__":
    main()
