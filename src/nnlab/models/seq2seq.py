"""An encoder-decoder LSTM (sequence to sequence) with optional dot-product attention.

The encoder reads the source characters with a bidirectional `nn.LSTM` (the fused cuDNN /
oneDNN kernel, padding packed away); the decoder is a one-way `nn.LSTM` that writes the target
one character at a time. What the decoder learns of the source, its *context*, is one of:

- ``"attention"``: its initial state is made from the encoder's final states, and at every
  output step it also reads a weighted mean of all encoder states, the weights a softmax over
  the source positions of scaled dot products with its own state (Luong et al. 2015, the
  "dot" score; padding gets weight 0);
- ``"final"``: the initial state only (Sutskever et al. 2014): the whole source squeezed
  into one vector;
- ``"none"``: no context at all (the encoder is not run): a language model of targets, which
  can only guess the likeliest output whatever the input.

    model = Seq2Seq(Seq2SeqConfig(src_vocab=69, tgt_vocab=12, context="attention"))
    logits, weights = model(src, lengths, tgt_in)      # teacher forcing: (B, T, V), (B, T, S)
    tokens, weights = model.greedy(src, lengths, steps=10)

`cut=True` in either call zeroes the context of a trained model (its encoder states and
initial state), which shows how much its answers depend on the source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

Context = Literal["attention", "final", "none"]
CONTEXTS: tuple[str, ...] = ("attention", "final", "none")
State = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Seq2SeqConfig:
    src_vocab: int
    tgt_vocab: int  # its last token is the start-of-sequence token fed at the first step
    n_embd: int = 32
    hidden: int = 64  # per direction in the encoder; the decoder is 2 * hidden wide
    context: Context = "attention"

    def __post_init__(self) -> None:
        if self.context not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, not {self.context!r}")


def attend(
    query: torch.Tensor, keys: torch.Tensor, pad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention of queries (B, T, D) over keys (B, S, D), which are also
    the values; `pad` (B, S) is True at padding, which gets weight 0. Returns the contexts
    (B, T, D) and the weights (B, T, S), each row summing to 1 over the source positions."""
    scores = query @ keys.transpose(1, 2) / math.sqrt(query.size(-1))
    scores = scores.masked_fill(pad[:, None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ keys, weights


def _forget_bias_one(lstm: nn.LSTM) -> None:
    """Forget-gate biases 1 (as `CharLSTM`): PyTorch orders the gates input, forget, cell,
    output."""
    h = lstm.hidden_size
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("bias_hh"):
                p[h : 2 * h] += 1.0


class Seq2Seq(nn.Module):
    def __init__(self, cfg: Seq2SeqConfig) -> None:
        super().__init__()
        self.cfg = cfg
        width = 2 * cfg.hidden
        self.src_embed = nn.Embedding(cfg.src_vocab, cfg.n_embd, padding_idx=0)
        self.encoder = nn.LSTM(cfg.n_embd, cfg.hidden, batch_first=True, bidirectional=True)
        self.bridge_h = nn.Linear(width, width)
        self.bridge_c = nn.Linear(width, width)
        self.tgt_embed = nn.Embedding(cfg.tgt_vocab, cfg.n_embd)
        self.decoder = nn.LSTM(cfg.n_embd, width, batch_first=True)
        attended = 2 * width if cfg.context == "attention" else width
        self.combine = nn.Linear(attended, width)
        self.head = nn.Linear(width, cfg.tgt_vocab)
        _forget_bias_one(self.encoder)
        _forget_bias_one(self.decoder)

    @property
    def sos(self) -> int:
        return self.cfg.tgt_vocab - 1

    def num_parameters(self) -> int:
        """The parameters that take part (a "none" model never runs its encoder)."""
        skip = ("src_embed", "encoder", "bridge") if self.cfg.context == "none" else ()
        return sum(p.numel() for n, p in self.named_parameters() if not n.startswith(skip))

    def encode(
        self, src: torch.Tensor, lengths: torch.Tensor, cut: bool = False
    ) -> tuple[torch.Tensor, State]:
        """Encoder states (B, S, 2 * hidden) and the decoder's initial state; zeros where
        the context is "none" or `cut`."""
        b, s = src.shape
        width = 2 * self.cfg.hidden
        if self.cfg.context == "none" or cut:
            zeros = src.new_zeros((1, b, width), dtype=torch.float32)
            return src.new_zeros((b, s, width), dtype=torch.float32), (zeros, zeros.clone())
        packed = pack_padded_sequence(
            self.src_embed(src), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, (h, c) = self.encoder(packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=s)
        # the final states of both directions (forward: after the last character; backward:
        # after the first), side by side, through a tanh layer
        h0 = torch.tanh(self.bridge_h(torch.cat([h[0], h[1]], dim=-1)))[None]
        c0 = self.bridge_c(torch.cat([c[0], c[1]], dim=-1))[None]
        return states, (h0.contiguous(), c0.contiguous())

    def decode(
        self, tgt_in: torch.Tensor, state: State, states: torch.Tensor, pad: torch.Tensor
    ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        """Logits (B, T, V) for the target inputs (B, T) from `state`, the state after them,
        and the attention weights (B, T, S) (None without attention)."""
        out, state = self.decoder(self.tgt_embed(tgt_in), state)
        weights = None
        if self.cfg.context == "attention":
            context, weights = attend(out, states, pad)
            out = torch.cat([out, context], dim=-1)
        return self.head(torch.tanh(self.combine(out))), state, weights

    def forward(
        self, src: torch.Tensor, lengths: torch.Tensor, tgt_in: torch.Tensor, cut: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher forcing: the logits of every target position given the true previous
        characters `tgt_in` (B, T) (the start token, then the target but its last), and the
        attention weights."""
        states, state = self.encode(src, lengths, cut)
        logits, _, weights = self.decode(tgt_in, state, states, src == 0)
        return logits, weights

    @torch.no_grad()
    def greedy(
        self, src: torch.Tensor, lengths: torch.Tensor, steps: int, cut: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Greedy decoding: `steps` tokens (B, steps), each the likeliest given the ones
        before it, and the attention weights (B, steps, S) (None without attention)."""
        states, state = self.encode(src, lengths, cut)
        pad = src == 0
        token = src.new_full((src.size(0), 1), self.sos)
        tokens, weights = [], []
        for _ in range(steps):
            logits, state, w = self.decode(token, state, states, pad)
            token = logits.argmax(-1)
            tokens.append(token)
            weights.append(w)
        out = torch.cat(tokens, dim=1)
        return out, None if weights[0] is None else torch.cat(weights, dim=1)


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per target character."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
