"""A character-level LSTM language model: an embedding, a multi-layer `nn.LSTM` (PyTorch's fused
cuDNN / oneDNN kernel), dropout on the non-recurrent connections and a linear head. Same
interface as the GPT, so `nnlab.training.lm.train_language_model` trains either.

    cfg = LSTMConfig(vocab_size=65, n_embd=64, hidden=245, n_layer=2)
    model = CharLSTM(cfg)                       # 807,090 parameters
    logits, loss = model(idx, targets)          # idx: (B, T) token ids -> (B, T, vocab)
    out = model.generate(idx, 500, temperature=0.8, top_k=200)   # state carried step to step

`proj > 0` puts a linear projection (no bias) to `proj` units between the last layer and the
head. (PyTorch's own recurrent projection, `nn.LSTM(proj_size=...)`, has no oneDNN kernel.)
`hidden_for_parameters` picks the hidden width that matches a parameter budget, e.g. a GPT's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nnlab.models.gpt import TextSampling

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (layers, B, hidden)


@dataclass(frozen=True)
class LSTMConfig:
    vocab_size: int = 65
    n_embd: int = 64  # embedding width (the first layer's input)
    hidden: int = 256  # cell width of every layer
    n_layer: int = 2
    proj: int = 0  # width of a projection after the last layer (0: none)
    dropout: float = 0.0  # on the embedding, between layers and before the head

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_embd", "hidden", "n_layer"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.proj < 0:
            raise ValueError(f"proj must be >= 0 (0: no projection), got {self.proj}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


def lstm_parameters(cfg: LSTMConfig) -> int:
    """The parameters of `CharLSTM(cfg)`, counted by formula: per layer the four gates' input
    and recurrent weights and PyTorch's two bias vectors; the projection; the head."""
    h = cfg.hidden
    total = cfg.vocab_size * cfg.n_embd  # embedding
    for layer in range(cfg.n_layer):
        inputs = cfg.n_embd if layer == 0 else h
        total += 4 * h * (inputs + h) + 2 * 4 * h
    total += cfg.proj * h
    return total + (cfg.proj or h) * cfg.vocab_size + cfg.vocab_size  # head with bias


def hidden_for_parameters(
    target: int, vocab_size: int, n_embd: int, n_layer: int, proj: int = 0
) -> int:
    """The hidden width whose `CharLSTM` has the parameter count closest to `target` (the
    count grows with the width, so a bisection finds it). ValueError if even hidden = 1 has
    more.

        hidden_for_parameters(800_000, 65, 64, 2)  # 244: 800,885 parameters
    """

    def count(hidden: int) -> int:
        return lstm_parameters(LSTMConfig(vocab_size, n_embd, hidden, n_layer, proj=proj))

    if count(1) > target:
        raise ValueError(
            f"{target:,} parameters is too few for a {n_layer}-layer LSTM with {n_embd}-wide "
            f"embeddings of {vocab_size} tokens (the narrowest has {count(1):,})"
        )
    low, high = 1, 2
    while count(high) < target:
        high *= 2
    while low < high:  # the narrowest width with count >= target
        mid = (low + high) // 2
        low, high = (mid + 1, high) if count(mid) < target else (low, mid)
    return min({max(1, low - 1), low}, key=lambda h: (abs(count(h) - target), h))


class CharLSTM(TextSampling, nn.Module):
    def __init__(self, cfg: LSTMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.lstm = nn.LSTM(
            cfg.n_embd,
            cfg.hidden,
            cfg.n_layer,
            batch_first=True,
            dropout=cfg.dropout if cfg.n_layer > 1 else 0.0,  # between layers
        )
        self.proj = nn.Linear(cfg.hidden, cfg.proj, bias=False) if cfg.proj else nn.Identity()
        self.lm_head = nn.Linear(cfg.proj or cfg.hidden, cfg.vocab_size)
        # forget-gate bias 1 (Jozefowicz et al. 2015): cells remember by default at the start;
        # PyTorch orders the gates input, forget, cell, output and adds two bias vectors
        with torch.no_grad():
            for layer in range(cfg.n_layer):
                getattr(self.lstm, f"bias_hh_l{layer}")[cfg.hidden : 2 * cfg.hidden] += 1.0

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def step(self, idx: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Logits (B, T, vocab) of `idx` (B, T) continuing from `state` (None: zeros), and the
        state after its last token."""
        out, state = self.lstm(self.drop(self.wte(idx)), state)
        return self.lm_head(self.proj(self.drop(out))), state

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, vocab) from a zero state and, with `targets`, the mean cross-entropy."""
        logits, _ = self.step(idx)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    def _stream(self, idx: torch.Tensor, max_new_tokens: int, draw) -> Iterator[torch.Tensor]:
        """The state is carried from token to token: each costs one step, however long the text."""
        logits, state = self.step(idx)
        for _ in range(max_new_tokens):
            token = draw(logits)
            yield token
            logits, state = self.step(token, state)
