"""A character-level GPT in one file: pre-LayerNorm blocks, causal self-attention through
`scaled_dot_product_attention`, a GELU MLP, GPT-2 initialisation, and generation with a
key/value cache.

    cfg = GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128)
    model = GPT(cfg)
    logits, _ = model(idx)                     # idx: (B, T) token ids -> (B, T, vocab)
    out = model.generate(idx, 500, temperature=0.8, top_k=200)

Two parameter conventions are one setting away: nanoGPT's (`bias=False`, `tied=True`, a fused
query/key/value projection) and the lecture's (`bias=True`, `tied=False`, `fused_qkv=False`:
per-head key, query and value layers without bias, an output head with bias). At the seed's
size (65 characters, block 256, 6 layers, 6 heads, 384 wide) they have 10,745,088 and
10,788,929 parameters, or 10,646,784 and 10,690,625 without the position embeddings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

KVCache = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values (B, heads, T, d)


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 256
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    dropout: float = 0.2
    bias: bool = False  # biases in the linear layers and LayerNorms (nanoGPT: False)
    tied: bool = True  # the output head shares the token embedding's weights
    fused_qkv: bool = True  # one (C, 3C) projection; False: per-head layers without bias

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head}): "
                "each head gets n_embd / n_head dimensions"
            )
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


def next_token(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """A token (B, 1) drawn from the last position's logits (B, T, vocab), softened by
    `temperature` and limited to the `top_k` likeliest (None: all)."""
    last = logits[:, -1, :] / temperature
    if top_k is not None:
        kth = torch.topk(last, min(top_k, last.size(-1))).values[:, [-1]]
        last = last.masked_fill(last < kth, float("-inf"))
    return torch.multinomial(F.softmax(last, dim=-1), 1, generator=generator)


class TextSampling:
    """`generate` and `stream` for a language model whose `_stream(idx, n, draw)` yields `n`
    tokens (B, 1), each drawn by `draw(logits)` from the last position's logits."""

    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """`idx` (B, T) with `max_new_tokens` sampled tokens appended."""
        new = list(self.stream(idx, max_new_tokens, temperature, top_k, generator))
        return torch.cat([idx, *new], dim=1)

    @torch.no_grad()
    def stream(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Iterator[torch.Tensor]:
        """Sample `max_new_tokens` tokens after `idx` (B, T), yielding each (B, 1) as soon as
        it is drawn (in eval mode; the model's mode is restored afterwards)."""
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        was_training = self.training
        self.eval()
        try:
            yield from self._stream(
                idx,
                max_new_tokens,
                lambda logits: next_token(logits, temperature, top_k, generator),
            )
        finally:
            self.train(was_training)


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout: float, causal: bool
) -> torch.Tensor:
    """softmax(q kᵀ / √d) v through `scaled_dot_product_attention`. On a CPU under bfloat16
    autocast it runs in float32: torch's CPU flash attention is 5-15x slower in bfloat16
    than in float32 at char-gpt's sizes (measured with benchmarks/bench_char_gpt.py), and
    the softmax statistics keep float32's precision."""
    if q.device.type == "cpu" and q.dtype == torch.bfloat16 and torch.is_autocast_enabled("cpu"):
        with torch.autocast("cpu", enabled=False):
            y = F.scaled_dot_product_attention(
                q.float(), k.float(), v.float(), dropout_p=dropout, is_causal=causal
            )
        return y
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=causal)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_head, self.head_dim = cfg.n_head, cfg.n_embd // cfg.n_head
        if cfg.fused_qkv:
            self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        else:  # the lecture's heads: separate key, query and value layers, no bias

            def heads() -> nn.ModuleList:
                return nn.ModuleList(
                    nn.Linear(cfg.n_embd, self.head_dim, bias=False) for _ in range(cfg.n_head)
                )

            self.query, self.key, self.value = heads(), heads(), heads()
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = cfg.dropout
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries, keys and values as (B, heads, T, head_dim)."""
        b, t, c = x.shape
        if hasattr(self, "qkv"):
            q, k, v = self.qkv(x).split(c, dim=2)
            return tuple(
                z.view(b, t, self.n_head, self.head_dim).transpose(1, 2) for z in (q, k, v)
            )
        return tuple(
            torch.stack([h(x) for h in hs], dim=1) for hs in (self.query, self.key, self.value)
        )

    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        b, t, c = x.shape
        if past is not None and t > 1:
            raise ValueError("with a key/value cache, feed one token at a time")
        q, k, v = self._qkv(x)
        if past is not None:  # one new query may see every cached key: no mask needed
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        y = attention(q, k, v, self.dropout if self.training else 0.0, causal=past is None)
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_dropout(self.proj(y)), (k, v)


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias),
            nn.GELU(),
            nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias),
            nn.Dropout(cfg.dropout),
        )

    def forward(self, x: torch.Tensor, past=None):
        attended, cache = self.attn(self.ln_1(x), past)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), cache


class GPT(TextSampling, nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=cfg.bias and not cfg.tied)
        if cfg.tied:
            self.lm_head.weight = self.wte.weight
        self.apply(self._init)
        # GPT-2: residual projections scaled down by the number of residual additions
        for block in self.blocks:
            for proj in (block.attn.proj, block.mlp[2]):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self, *, position: bool = True) -> int:
        """Parameters (a tied weight counted once), with or without the position embeddings."""
        total = sum(p.numel() for p in self.parameters())
        return total if position else total - self.wpe.weight.numel()

    def parameter_table(self) -> list[tuple[str, int]]:
        """(module, parameters) for the embeddings, each kind of block layer summed over the
        blocks, the final LayerNorm and the head (0 when tied: it is the token embedding)."""
        rows = [("token embedding", self.wte.weight.numel())]
        rows.append(("position embedding", self.wpe.weight.numel()))
        kinds = {"ln_1": "LayerNorm 1", "attn": "attention", "ln_2": "LayerNorm 2", "mlp": "MLP"}
        for child, label in kinds.items():
            n = sum(p.numel() for b in self.blocks for p in getattr(b, child).parameters())
            rows.append((f"{label} (x{len(self.blocks)} blocks)", n))
        rows.append(("final LayerNorm", sum(p.numel() for p in self.ln_f.parameters())))
        head = 0 if self.cfg.tied else self.lm_head.weight.numel()
        if self.lm_head.bias is not None:
            head += self.lm_head.bias.numel()
        rows.append(("output head", head))
        return rows

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, vocab) and, with `targets`, the mean cross-entropy. With `cache`
        (a list, filled in place), `idx` continues the cached sequence one token at a time."""
        start = cache[0][0].shape[2] if cache else 0
        t = idx.shape[1]
        if start + t > self.cfg.block_size:
            raise ValueError(
                f"sequence of {start + t} tokens is longer than block_size {self.cfg.block_size}"
            )
        pos = torch.arange(start, start + t, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        pasts = list(cache) if cache else [None] * len(self.blocks)
        for i, (block, past) in enumerate(zip(self.blocks, pasts, strict=True)):
            x, kv = block(x, past)
            if cache is not None:
                cache[i : i + 1] = [kv]
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    @torch.no_grad()
    def attention_weights(self, idx: torch.Tensor, layer: int) -> torch.Tensor:
        """The causal attention probabilities (B, heads, T, T) of block `layer` on `idx`,
        computed explicitly (the training path never forms them)."""
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.blocks[:layer]:
            x, _ = block(x)
        attn = self.blocks[layer].attn
        q, k, _ = attn._qkv(self.blocks[layer].ln_1(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(attn.head_dim)
        t = idx.shape[1]
        future = torch.ones(t, t, dtype=torch.bool, device=idx.device).triu(1)
        return scores.masked_fill(future, float("-inf")).softmax(dim=-1)

    def _stream(self, idx: torch.Tensor, max_new_tokens: int, draw) -> Iterator[torch.Tensor]:
        """Within the block size each new token costs one cached step; past it, the window of
        the last `block_size` tokens is re-encoded (absolute positions shift), so a token costs
        at most one window."""
        block = self.cfg.block_size
        cache: KVCache = []
        logits, _ = self(idx[:, -block:], cache=cache)
        window = idx[:, -block:]
        for _ in range(max_new_tokens):
            token = draw(logits)
            yield token
            window = torch.cat([window, token], dim=1)[:, -block:]
            if cache and cache[0][0].shape[2] < block:
                logits, _ = self(token, cache=cache)
            else:  # the window is full: re-encode the last block_size tokens
                cache = []
                logits, _ = self(window)


STYLES = {
    "nanoGPT (bias off, tied head, fused QKV)": {},
    "lecture (biases, untied head, per-head QKV)": {
        "bias": True,
        "tied": False,
        "fused_qkv": False,
    },
}
"""Two ways to build the same GPT whose parameter counts differ (`nnlab count-params`)."""


def parameter_comparison(size: dict[str, int]) -> tuple[list[str], list[tuple[str, ...]]]:
    """The style names and a row per module of a GPT of `size` (vocab_size, block_size,
    n_layer, n_head, n_embd) built in each of `STYLES`: its parameter count in each, then the
    totals with and without the position embedding. ValueError for an impossible size."""
    models = {name: GPT(GPTConfig(**size, **style)) for name, style in STYLES.items()}
    tables = {name: dict(m.parameter_table()) for name, m in models.items()}
    rows = [
        (module, *(f"{t[module]:,}" for t in tables.values()))
        for module in next(iter(tables.values()))
    ]
    rows.append(("total", *(f"{m.num_parameters():,}" for m in models.values())))
    rows.append(
        (
            "without position embedding",
            *(f"{m.num_parameters(position=False):,}" for m in models.values()),
        )
    )
    return list(STYLES), rows
