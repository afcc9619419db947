"""Which parts of a bfloat16 step must stay float32? Measured on char-gpt, not assumed.

The quick char-gpt (4 layers, 128 wide, block 64, batch 16, Tiny Shakespeare) trains for
`--steps` steps with nanoGPT's schedule in each variant below, from the same weights and on the
same batches; each trained model's validation loss is then measured in float32 on the same 40
batches, so the table compares what training in each precision did to the model:

* fp32: everything float32 (the reference), and again from another seed (the noise level:
  two float32 runs differ by this much at equal steps);
* autocast: nnlab's bf16 (torch.autocast: products in bfloat16; the residual stream, the
  LayerNorm inputs, the attention (`nnlab.models.gpt.attention`), the parameters, AdamW and
  the cross-entropy float32; logits bfloat16);
* autocast, bf16 attention: torch's attention kernel fed bfloat16 (its softmax statistics
  are float32 inside);
* autocast, float32 head: the final LayerNorm and the output head outside autocast;
* autocast, bf16 stream: the residual stream (and so every LayerNorm and residual sum) bf16;
* autocast, bf16 loss: the cross-entropy's log-softmax and mean computed in bfloat16;
* pure bf16: parameters, AdamW state and all arithmetic in bfloat16 (no float32 master copy).

Then the loss of the float32-trained model itself, evaluated in float32, under autocast, and
with a bfloat16 cross-entropy (what evaluating in bf16 changes).

    NNLAB_DATA=... .venv/bin/python benchmarks/precision_parts.py [--steps 600]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from unittest import mock

import torch
import torch.nn.functional as F

import nnlab.models.gpt
from nnlab.data.text import corpus_splits
from nnlab.experiments.sequences.char_gpt import PRESETS, Config, training_settings
from nnlab.models.gpt import GPT, GPTConfig
from nnlab.training.lm import adamw, learning_rate, sample_batch


def bf16_attention(q, k, v, dropout, causal):
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=causal)


def forward(model: GPT, idx: torch.Tensor, targets: torch.Tensor, variant: str) -> torch.Tensor:
    """The GPT's loss with the parts of `variant` in bfloat16."""
    auto = variant.startswith("autocast")
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if auto else contextlib.nullcontext()
    attention = contextlib.nullcontext()
    if variant == "autocast, bf16 attention":
        attention = mock.patch.object(nnlab.models.gpt, "attention", bf16_attention)
    with ctx, attention:
        pos = torch.arange(idx.shape[1])
        x = model.wte(idx) + model.wpe(pos)
        if variant == "autocast, bf16 stream":
            x = x.bfloat16()
        for block in model.blocks:
            x, _ = block(x)
        if variant != "autocast, float32 head":
            logits = model.lm_head(model.ln_f(x))
    if variant == "autocast, float32 head":
        logits = model.lm_head(model.ln_f(x.float()))
    flat = logits.view(-1, logits.size(-1))
    if variant in ("autocast, bf16 loss", "pure bf16"):
        return F.cross_entropy(flat.bfloat16(), targets.reshape(-1))
    return F.cross_entropy(flat.float(), targets.reshape(-1))


@torch.no_grad()
def val_loss(model: GPT, ids: torch.Tensor, cfg, variant: str = "fp32") -> float:
    model.eval()
    generator = torch.Generator().manual_seed(1234)
    total = 0.0
    for _ in range(40):
        x, y = sample_batch(ids, cfg.batch_size, cfg.block_size, generator)
        total += float(forward(model, x, y, variant))
    model.train()
    return total / 40


def train(variant: str, seed: int, steps: int, data, gpt_cfg, cfg) -> tuple[GPT, float]:
    train_ids, _ = data
    torch.manual_seed(seed)
    model = GPT(gpt_cfg)
    if variant == "pure bf16":
        model = model.bfloat16()
    optimizer = adamw(model, cfg)
    batches = torch.Generator().manual_seed(seed)
    began = time.process_time()
    for it in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(it, cfg)
        x, y = sample_batch(train_ids, cfg.batch_size, cfg.block_size, batches)
        forward(model, x, y, variant).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return model.float(), time.process_time() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--only", default="", help="comma-separated variants to train (all)")
    args = parser.parse_args()
    quick = Config(**PRESETS["quick"])
    cfg = training_settings(Config(**{**PRESETS["quick"], "steps": args.steps}))
    tok, train_ids, val_ids = corpus_splits("tinyshakespeare")
    gpt_cfg = GPTConfig(
        vocab_size=tok.vocab_size,
        block_size=quick.block_size,
        n_layer=quick.n_layer,
        n_head=quick.n_head,
        n_embd=quick.n_embd,
        dropout=quick.dropout,
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; quick char-gpt, ")
    print(f"{args.steps} steps, batch {cfg.batch_size}, validation loss in float32 (40 batches)")
    rows = [("fp32", 0), ("fp32", 1)]
    rows += [
        (v, 0)
        for v in (
            "autocast",
            "autocast, bf16 attention",
            "autocast, float32 head",
            "autocast, bf16 stream",
            "autocast, bf16 loss",
            "pure bf16",
        )
    ]
    if args.only:
        chosen = ["fp32", *args.only.split(",")]
        rows = [r for r in rows if r[0] in chosen and (r[0] != "fp32" or r[1] == 0)]
    reference = None
    for variant, seed in rows:
        model, cpu = train(variant, seed, args.steps, (train_ids, val_ids), gpt_cfg, cfg)
        loss = val_loss(model, val_ids, cfg)
        reference = loss if reference is None else reference
        label = f"{variant} (seed {seed})"
        print(f"{label:34} val loss {loss:.4f}  ({loss - reference:+.4f})  {cpu:.0f} CPU s")
        if variant == "fp32" and seed == 0:
            trained = model
    print("\nthe float32-trained model's validation loss evaluated:")
    for variant in ("fp32", "autocast", "autocast, bf16 loss"):
        loss = val_loss(trained, val_ids, cfg, variant)
        print(f"  {variant:32} {loss:.5f}  ({loss - reference:+.5f})")


if __name__ == "__main__":
    main()
