"""char-gpt training speed and loss against a plain baseline, both measured in this run:

* the matmul peak of this CPU in float32 and bfloat16 (best of square products);
* for char-gpt's quick size (4 layers, 128 wide, block 64, batch 16) and the seed's full size
  (nanoGPT's shakespeare-char: 6 layers, 384 wide, block 256, batch 64), the same model from
  the same weights trained on the same Tiny Shakespeare batches with nanoGPT's schedule, three
  ways, interleaved over `--rounds` rounds of `--iters` steps each:
  - nnlab: `nnlab.training.lm`'s step with precision=auto (bfloat16 autocast where
    `nnlab precision` says it pays), fused AdamW and `scaled_dot_product_attention`;
  - nnlab fp32: the same with precision=fp32 (shown when auto chose bf16);
  - plain: float32, AdamW one parameter at a time, attention written out (scores, mask,
    softmax, product), the way nanoGPT's model.py trains on a CPU without torch's fused
    attention (nanoGPT itself takes scaled_dot_product_attention when torch has it);
  tokens/s (median and range over the rounds), the ratio to plain taken round by round, the
  model FLOPs utilisation of the median against the measured peak of the precision used
  (FLOPs per token 6N + 12·L·H·Q·T: PaLM appendix B, nanoGPT's estimate_mfu), and the
  validation loss after the equal number of steps every way has trained (float32, the same
  `--eval-batches` batches for each);
* sampling 500 characters with the key/value cache and by re-encoding the whole context.

    NNLAB_DATA=... .venv/bin/python benchmarks/bench_char_gpt.py [--sizes quick,full]
        [--rounds 5 --iters 20 --full-rounds 3 --full-iters 2]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from unittest import mock

import torch
import torch.nn.functional as F

from matmul import matmul_peak
from nnlab.data.text import corpus_splits
from nnlab.errors import UserError
from nnlab.experiments.sequences.char_gpt import PRESETS, Config, training_settings
from nnlab.models.gpt import GPT, GPTConfig
from nnlab.training.lm import adamw, learning_rate, sample_batch
from nnlab.training.precision import autocast, resolve
from sidebyside import interleaved, ratios, spread


def naive_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, **_):
    """softmax(q kᵀ / √d + causal mask) v with the (T, T) scores in memory."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if is_causal:
        t = q.shape[-2]
        future = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    return F.dropout(scores.softmax(dim=-1), dropout_p) @ v


def trainer(
    gpt_cfg: GPTConfig, settings, train_ids: torch.Tensor, way: str
) -> tuple[Callable[[int], int], GPT]:
    """A function running n training steps `way` ("bf16", "fp32": nnlab's step in that
    precision; "plain"), returning the tokens trained on, and its model."""
    torch.manual_seed(0)
    model = GPT(gpt_cfg)
    optimizer = adamw(model, settings)  # fused where the device has the kernel
    if way == "plain":  # the same parameter groups and settings, one parameter at a time
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
    precision = "fp32" if way == "plain" else way
    cpu = torch.device("cpu")
    batches = torch.Generator().manual_seed(0)
    done = 0

    def step() -> None:
        nonlocal done
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(done, settings)
        x, y = sample_batch(train_ids, settings.batch_size, settings.block_size, batches)
        with autocast(precision, cpu):
            _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        done += 1

    def steps(n: int) -> int:
        patched = mock.patch.object(F, "scaled_dot_product_attention", naive_attention)
        with patched if way == "plain" else nullcontext():
            for _ in range(n):
                step()
        return n * settings.batch_size * settings.block_size

    return steps, model


@torch.no_grad()
def val_loss(model: GPT, val_ids: torch.Tensor, settings, batches: int) -> float:
    """Mean float32 validation loss over `batches` fixed batches, in eval mode."""
    model.eval()
    generator = torch.Generator().manual_seed(1234)
    total = 0.0
    for _ in range(batches):
        x, y = sample_batch(val_ids, settings.batch_size, settings.block_size, generator)
        total += float(model(x, y)[1])
    model.train()
    return total / batches


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


def compare(
    size: str, rounds: int, iters: int, data, peaks: dict[str, float], eval_batches: int
) -> GPT:
    """Times and evaluates the three ways at one size; returns nnlab's trained model."""
    tok, train_ids, val_ids = data
    warmup = 2
    cfg = Config(**{**PRESETS[size], "steps": warmup + rounds * iters})
    settings = training_settings(cfg)
    gpt_cfg = GPTConfig(
        vocab_size=tok.vocab_size,
        block_size=cfg.block_size,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        n_embd=cfg.n_embd,
        dropout=cfg.dropout,
    )
    model = GPT(gpt_cfg)
    n = model.num_parameters(position=False)
    head_dim = gpt_cfg.n_embd // gpt_cfg.n_head
    flops_per_token = 6 * n + 12 * gpt_cfg.n_layer * gpt_cfg.n_head * head_dim * gpt_cfg.block_size
    auto = resolve("auto", torch.device("cpu"))
    ways = {"nnlab": auto, "nnlab fp32": "fp32", "plain": "plain"}
    if auto == "fp32":
        del ways["nnlab fp32"]
    print(
        f"\n== {size}: {gpt_cfg.n_layer} layers, {gpt_cfg.n_head} heads, {gpt_cfg.n_embd} wide, "
        f"block {gpt_cfg.block_size}, batch {settings.batch_size}, dropout {gpt_cfg.dropout}; "
        f"N = {n:,} parameters without position embeddings, "
        f"{flops_per_token / 1e6:.3f} MFLOP per token; precision=auto -> {auto}"
    )
    trainers = {name: trainer(gpt_cfg, settings, train_ids, way) for name, way in ways.items()}
    for steps, _ in trainers.values():
        steps(warmup)  # first allocations, kernel choices (and the first steps of training)
    rates = interleaved(
        {name: partial(steps, iters) for name, (steps, _) in trainers.items()}, rounds
    )
    trained = warmup + rounds * iters
    print(
        f"{rounds} rounds of {iters} steps per way, interleaved; tokens/s median (min-max); "
        f"validation loss after {trained} steps ({eval_batches} batches, float32)"
    )
    print(
        f"{'way':12} {'precision':9} {'tokens/s':>24} {'x plain (range)':>20} "
        f"{'MFU':>6} {'val loss':>9}"
    )
    for name, way in ways.items():
        used = "fp32" if way == "plain" else way
        median = statistics.median(rates[name])
        mfu = median * flops_per_token / (peaks[used] * 1e9)
        ratio = spread(ratios(rates[name], rates["plain"]), ".2f") if name != "plain" else "1"
        loss = val_loss(trainers[name][1], val_ids, settings, eval_batches)
        print(f"{name:12} {used:9} {spread(rates[name]):>24} {ratio:>20} {mfu:6.1%} {loss:9.4f}")
    return trainers["nnlab"][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="quick,full", help="quick, full or both (default)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds, quick (5)")
    parser.add_argument("--iters", type=int, default=20, help="steps per way per round (20)")
    parser.add_argument("--full-rounds", type=int, default=3, help="rounds at full size (3)")
    parser.add_argument("--full-iters", type=int, default=2, help="steps per round, full (2)")
    parser.add_argument("--eval-batches", type=int, default=20, help="validation batches (20)")
    parser.add_argument("--full-eval-batches", type=int, default=4, help="at full size (4)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    try:
        data = corpus_splits("tinyshakespeare")
        print("data: Tiny Shakespeare")
    except UserError:
        data = corpus_splits("toy-play")
        print("data: the generated toy play (Tiny Shakespeare not found: set NNLAB_DATA)")
    sizes = (512, 1024, 2048)
    peaks = {
        "fp32": matmul_peak(sizes, 0.5, torch.float32),
        "bf16": matmul_peak(sizes, 0.5, torch.bfloat16),
    }
    print(
        f"matmul peak (best of {', '.join(map(str, sizes))} squared): float32 "
        f"{peaks['fp32']:.1f} GFLOP/s, bfloat16 {peaks['bf16']:.1f} GFLOP/s"
    )
    model = None
    for size in args.sizes.split(","):
        full = size == "full"
        rounds, iters = (args.full_rounds, args.full_iters) if full else (args.rounds, args.iters)
        batches = args.full_eval_batches if full else args.eval_batches
        trained = compare(size, rounds, iters, data, peaks, batches)
        model = trained if size == "quick" else model
    if model is not None:
        print()
        for cached in (True, False):
            seconds = generation_seconds(model.eval(), 500, cached)
            kind = "with the key/value cache" if cached else "re-encoding the context "
            print(f"500 characters {kind}: {seconds:.3f} s ({500 / seconds:,.0f} char/s)")


if __name__ == "__main__":
    main()
