"""Training a sequence-to-sequence model (`nnlab.models.seq2seq`) on character pairs: teacher
forcing in training (the decoder reads the true previous character), greedy decoding in
evaluation (it reads its own), scored by exact match of the whole output and per character.

    train = encode_pairs(texts, targets, SOURCE_CHARS, TARGET_CHARS)
    result = train_seq2seq(run, model, train, val, Seq2SeqTraining(steps=2000), name="attention")
    scores = evaluate(model, test)          # {"exact": 0.98, "char": 0.996, "loss": ...}

The learning-rate schedule (warm-up, cosine decay to `min_lr`) and AdamW (fused where the device
has the kernel) are the language models' (`nnlab.training.lm`). Targets all have one length
(an ISO date's ten characters), so no end token is needed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from nnlab.models.seq2seq import sequence_loss
from nnlab.training.lm import adamw, learning_rate

if TYPE_CHECKING:
    from nnlab.models.seq2seq import Seq2Seq
    from nnlab.runs.run import Run


@dataclass(frozen=True)
class Seq2SeqTraining:
    """How to train (the names and meanings of `nnlab.training.lm.LMTraining`'s fields)."""

    batch_size: int = 64
    steps: int = 2000
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 50
    decay_steps: int = 0  # 0: steps
    time_budget: float = 0.0  # the schedule follows steps (always 0 here)
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0: no clipping
    eval_every: int = 250


@dataclass(frozen=True)
class Pairs:
    """Encoded examples: sources (N, S) padded with 0, their lengths (N,), targets (N, T)."""

    src: torch.Tensor
    lengths: torch.Tensor
    tgt: torch.Tensor

    def __len__(self) -> int:
        return len(self.lengths)

    def to(self, device: torch.device) -> Pairs:
        return Pairs(self.src.to(device), self.lengths.to(device), self.tgt.to(device))

    def take(self, index: torch.Tensor | slice) -> Pairs:
        return Pairs(self.src[index], self.lengths[index], self.tgt[index])


def encode_pairs(
    texts: Sequence[str], targets: Sequence[str], src_chars: str, tgt_chars: str
) -> Pairs:
    """Source characters become 1..len(src_chars) (0 is padding), target characters
    0..len(tgt_chars) - 1 (the model's start token is len(tgt_chars)). ValueError for a
    character outside the alphabets or targets of different lengths."""
    src_ids = {c: i + 1 for i, c in enumerate(src_chars)}
    tgt_ids = {c: i for i, c in enumerate(tgt_chars)}
    if len({len(t) for t in targets}) > 1:
        raise ValueError("the targets must all have the same length")
    for text, table in ((texts, src_ids), (targets, tgt_ids)):
        unknown = set("".join(text)) - set(table)
        if unknown:
            raise ValueError(f"characters outside the alphabet: {''.join(sorted(unknown))!r}")
    width = max(len(t) for t in texts)
    src = torch.zeros((len(texts), width), dtype=torch.long)
    for i, text in enumerate(texts):
        src[i, : len(text)] = torch.tensor([src_ids[c] for c in text])
    tgt = torch.tensor([[tgt_ids[c] for c in t] for t in targets], dtype=torch.long)
    lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
    return Pairs(src, lengths, tgt)


def decode_ids(ids: torch.Tensor, tgt_chars: str) -> list[str]:
    """Rows of target ids back to strings (the start token, if predicted, as '?')."""
    return ["".join(tgt_chars[i] if i < len(tgt_chars) else "?" for i in row) for row in ids]


def teacher_inputs(model: Seq2Seq, tgt: torch.Tensor) -> torch.Tensor:
    """The decoder's inputs under teacher forcing: the start token, then the target but its
    last character."""
    start = torch.full_like(tgt[:, :1], model.sos)
    return torch.cat([start, tgt[:, :-1]], dim=1)


@torch.no_grad()
def evaluate(
    model: Seq2Seq, pairs: Pairs, batch_size: int = 1000, cut: bool = False
) -> dict[str, Any]:
    """Greedy decoding of every example: exact-match accuracy (the whole target right),
    per-character accuracy, the teacher-forced loss, and the predicted ids (N, T) on the CPU."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    predictions, loss = [], 0.0
    for start in range(0, len(pairs), batch_size):
        part = pairs.take(slice(start, start + batch_size)).to(device)
        tokens, _ = model.greedy(part.src, part.lengths, part.tgt.size(1), cut=cut)
        predictions.append(tokens.cpu())
        logits, _ = model(part.src, part.lengths, teacher_inputs(model, part.tgt), cut=cut)
        loss += float(sequence_loss(logits, part.tgt)) * len(part)
    model.train(was_training)
    predicted = torch.cat(predictions)
    right = predicted == pairs.tgt
    return {
        "exact": float(right.all(dim=1).float().mean()),
        "char": float(right.float().mean()),
        "loss": loss / len(pairs),
        "predictions": predicted,
    }


def train_seq2seq(
    run: Run,
    model: Seq2Seq,
    train: Pairs,
    val: Pairs,
    cfg: Seq2SeqTraining,
    *,
    name: str = "",
) -> dict[str, Any]:
    """Train `model` for `cfg.steps` batches drawn at random (seeded by the run's seed) with
    teacher forcing, logging `train_loss` (the mean since the last evaluation), `val_loss`,
    `val_exact` and `val_char` (greedy decoding) every `eval_every` steps and at the end;
    `name` prefixes them (`attention/val_exact`). Returns the final validation scores, the
    steps and the training seconds (also `run.record_time`'d)."""
    device = run.device
    model.to(device).train()
    optimizer = adamw(model, cfg)  # type: ignore[arg-type]  # the same field names
    batches = torch.Generator().manual_seed(run.seed)
    train_dev = train.to(device)
    key = f"{name}/" if name else ""
    seconds, since, running = 0.0, 0, 0.0
    scores: dict[str, Any] = {}

    def log(step: int) -> None:
        nonlocal scores, since, running
        scores = evaluate(model, val)
        run.log(
            step,
            **{
                f"{key}train_loss": running / since if since else scores["loss"],
                f"{key}val_loss": scores["loss"],
                f"{key}val_exact": scores["exact"],
                f"{key}val_char": scores["char"],
            },
        )
        since, running = 0, 0.0

    bar = run.bar(total=cfg.steps, desc=name or "seq2seq", unit="it")
    log(0)
    for step in range(cfg.steps):
        began = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, cfg)  # type: ignore[arg-type]
        index = torch.randint(len(train), (cfg.batch_size,), generator=batches)
        part = train_dev.take(index.to(device))
        logits, _ = model(part.src, part.lengths, teacher_inputs(model, part.tgt))
        loss = sequence_loss(logits, part.tgt)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        running += float(loss.detach())
        since += 1
        seconds += time.perf_counter() - began
        bar.update(1)
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            log(step + 1)
            bar.set_postfix(val_exact=f"{scores['exact']:.3f}")
    bar.close()
    run.record_time(f"{key}train_seconds", seconds)
    return {
        "steps": cfg.steps,
        "val_exact": scores["exact"],
        "val_char": scores["char"],
        "val_loss": scores["loss"],
        "train_seconds": seconds,
    }
