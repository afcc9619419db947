"""char-gpt speed, measured in one run on this machine (run it on an idle CPU):

* the float32 matmul peak of this CPU (best of square products from 256 to 2048);
* training tokens/s of char-gpt's quick configuration (nnlab.training.lm's step: fused AdamW,
  gradient
  clipping, random windows) and its model FLOPs utilisation against that peak, with FLOPs
  per token = 6N + 12·L·H·Q·T (PaLM appendix B; nanoGPT's estimate_mfu), N the parameters
  without position embeddings;
* the same model at nanoGPT's CPU batch of 12, and with a naive masked-softmax attention
  (scores formed explicitly) instead of scaled_dot_product_attention;
* sampling 500 characters with the key/value cache and by re-encoding the whole context.

    .venv/bin/python benchmarks/bench_char_gpt.py [--iters 60]

nanoGPT's own throughput on this configuration, measured on this machine when issue 9 was
filed: 17,400-18,950 tokens/s (batch 12); the ratios below are against those two numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from unittest import mock

import torch
import torch.nn.functional as F

from matmul import matmul_peak
from nnlab.experiments.sequences.char_gpt import PRESETS, Config, training_settings
from nnlab.models.gpt import GPT, GPTConfig
from nnlab.training.lm import adamw, sample_batch

NANOGPT_TOKENS_PER_SECOND = (17_400, 18_950)


def naive_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, **_):
    """softmax(q kᵀ / √d + causal mask) v with the (T, T) scores in memory."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if is_causal:
        t = q.shape[-2]
        future = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    return F.dropout(scores.softmax(dim=-1), dropout_p) @ v


def train_speed(gpt_cfg: GPTConfig, batch_size: int, iters: int) -> tuple[float, GPT]:
    """Training tokens/s of `iters` steps (after 10 warm-up steps) on random windows."""
    torch.manual_seed(0)
    model = GPT(gpt_cfg)
    settings = training_settings(Config(**{**PRESETS["quick"], "batch_size": batch_size}))
    optimizer = adamw(model, settings)
    ids = torch.randint(gpt_cfg.vocab_size, (1_000_000,))
    batches = torch.Generator().manual_seed(0)

    def step() -> None:
        x, y = sample_batch(ids, batch_size, gpt_cfg.block_size, batches)
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(10):
        step()
    began = time.perf_counter()
    for _ in range(iters):
        step()
    return batch_size * gpt_cfg.block_size * iters / (time.perf_counter() - began), model


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
    parser.add_argument("--iters", type=int, default=60, help="timed training steps per case")
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

    cases = [(f"quick preset, batch {quick.batch_size}", quick.batch_size, False)]
    if quick.batch_size != 12:
        cases.append(("nanoGPT's batch 12", 12, False))
    cases.append((f"naive attention, batch {quick.batch_size}", quick.batch_size, True))
    rows, trained = [], None
    for label, batch, naive in cases:
        patch = mock.patch.object(F, "scaled_dot_product_attention", naive_attention)
        with patch if naive else contextlib.nullcontext():
            tokens_per_second, model = train_speed(gpt_cfg, batch, args.iters)
        trained = trained or model
        mfu = tokens_per_second * flops_per_token / (peak * 1e9)
        lo, hi = (tokens_per_second / x for x in NANOGPT_TOKENS_PER_SECOND[::-1])
        rows.append((label, tokens_per_second, mfu, lo, hi))
    print(f"\n{'case':32} {'tokens/s':>10} {'MFU':>7}  vs nanoGPT (18,950 / 17,400 tok/s)")
    for label, tps, mfu, lo, hi in rows:
        print(f"{label:32} {tps:10,.0f} {mfu:7.1%}  {lo:.2f}x / {hi:.2f}x")
    print(f"SDPA vs naive attention: {rows[0][1] / rows[-1][1]:.2f}x faster training")

    for cached in (True, False):
        seconds = generation_seconds(trained.eval(), 500, cached)
        kind = "with the key/value cache" if cached else "re-encoding the context "
        print(f"500 characters {kind}: {seconds:.3f} s ({500 / seconds:,.0f} char/s)")


if __name__ == "__main__":
    main()
