"""Training a language model on token ids: random windows, nanoGPT's learning-rate schedule,
AdamW with weight decay on matrices only, periodic evaluation, best-validation weights, resume.

Any model with `model(x, targets) -> (logits, loss)` trains here (the GPT and the LSTM):

    result = train_language_model(run, model, train_ids, val_ids, LMTraining(steps=2000))

Runs on any number of processes (`nnlab.training.distributed`): every rank draws the same
global batch
and trains on its slice, so the result matches one process with the same batch size.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from nnlab.training.distributed import world
from nnlab.training.optim import restore_states, saved_states
from nnlab.training.precision import autocast, resolve

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from torch import nn

    from nnlab.data.text import CharTokenizer
    from nnlab.runs.run import Run


@dataclass(frozen=True)
class LMTraining:
    """How to train: nanoGPT's `train_shakespeare_char` names and meanings."""

    batch_size: int = 12
    block_size: int = 64
    steps: int = 2000
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_steps: int = 100
    decay_steps: int = 0  # 0: steps
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0: no clipping
    eval_every: int = 250
    eval_batches: int = 20
    time_budget: float = 0.0  # seconds of training after which to stop (0: none)
    compile: bool = False
    precision: str = "fp32"  # auto, fp32 or bf16 (nnlab.training.precision)


def sample_batch(
    ids: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """`batch_size` random windows of `ids` (inputs) and the same shifted by one (targets)."""
    starts = torch.randint(len(ids) - block_size, (batch_size,), generator=generator)
    window = starts[:, None] + torch.arange(block_size + 1)
    chunk = ids[window]
    return chunk[:, :-1], chunk[:, 1:]


def learning_rate(it: int, cfg: LMTraining, spent: float = 0.0) -> float:
    """Linear warm-up to `lr`, cosine decay to `min_lr` at `decay_steps`, then `min_lr`.
    Under a time budget the decay follows the training seconds `spent` instead: it reaches
    `min_lr` as the budget runs out, whatever the speed of the machine."""
    if it < cfg.warmup_steps:
        return cfg.lr * (it + 1) / (cfg.warmup_steps + 1)
    if cfg.time_budget:
        progress = min(1.0, spent / cfg.time_budget)
    else:
        decay = cfg.decay_steps or cfg.steps
        progress = min(1.0, (it - cfg.warmup_steps) / max(1, decay - cfg.warmup_steps))
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)


def adamw(model: nn.Module, cfg: LMTraining) -> torch.optim.AdamW:
    """AdamW decaying only matrices (weights, embeddings), not biases or LayerNorm gains;
    the fused kernel where the device has one."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    betas = (cfg.beta1, cfg.beta2)
    try:
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=betas, fused=True)
    except RuntimeError:  # no fused kernel for this device or torch version
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=betas)


@torch.no_grad()
def estimate_loss(
    model: nn.Module,
    splits: dict[str, torch.Tensor],
    cfg: LMTraining,
    generator: torch.Generator,
    device: torch.device,
    precision: str = "fp32",
) -> dict[str, float]:
    """Mean loss over `eval_batches` random batches of each split (averaged over ranks),
    the forward passes under the autocast of `precision` ("fp32" or "bf16")."""
    w = world()
    was_training = model.training
    model.eval()
    out = {}
    for name, ids in splits.items():
        total = 0.0
        for _ in range(cfg.eval_batches):
            x, y = sample_batch(ids, cfg.batch_size, cfg.block_size, generator)
            with autocast(precision, device):
                _, loss = model(w.shard(x).to(device), w.shard(y).to(device))
            total += float(loss)
        out[name] = w.mean(total / cfg.eval_batches)
    model.train(was_training)
    return out


def train_language_model(
    run: Run,
    model: nn.Module,
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    cfg: LMTraining,
    *,
    save_best: Callable[[], dict[str, Any]] | None = None,
    name: str = "",
    resumable: bool = True,
    desc: str = "training",
) -> dict[str, Any]:
    """Train `model` for `cfg.steps` iterations (or until `cfg.time_budget` seconds),
    logging `train_loss`/`val_loss` every `eval_every` iterations and at the end.

    Each evaluation checkpoints everything (resume continues from the last one); the best
    validation loss so far also calls `save_best()` and keeps what it returns as
    `checkpoints/best.pt`. Returns the best and final losses, the iterations done, the
    training seconds (evaluations excluded) and tokens per second; the times also go to
    `run.record_time`.

    Several models can train in one run: `name` prefixes the metrics (`gpt/val_loss`) and
    timings; `resumable=False` skips the checkpoints (a run under a wall-clock budget cannot
    be continued exactly anyway). Each log line also holds `seconds`, the training time so far.

    `cfg.precision` ("auto", "fp32", "bf16"; `nnlab.training.precision.resolve`) chooses the
    autocast of the training steps and the evaluations (the loss itself is float32); the one
    used is noted in the run's summary.
    """
    w = world()
    device = run.device
    precision = resolve(cfg.precision, device)
    run.note("precision", precision)
    optimizer = adamw(model, cfg)
    step_model = w.wrap(torch.compile(model) if cfg.compile else model)
    batches = torch.Generator().manual_seed(run.seed)
    it, best_val, best_iter, losses = 0, math.inf, -1, None
    train_seconds, eval_seconds = 0.0, 0.0
    state = run.load_checkpoint() if resumable else None
    key = f"{name}/" if name else ""
    parts = {"model": model, "optimizer": optimizer, "batches": batches}
    if state is not None:
        restore_states(state, **parts)
        it, best_val, best_iter, losses = (
            state[k] for k in ("iter", "best_val", "best_iter", "losses")
        )
        train_seconds, eval_seconds = state["train_seconds"], state["eval_seconds"]

    def evaluate_and_checkpoint() -> None:
        nonlocal best_val, best_iter, eval_seconds, losses, evaluated_at
        evaluated_at = it
        began = time.perf_counter()
        # the same batches at a given iteration, whether or not the run was resumed
        evaluation = torch.Generator().manual_seed(run.seed * 1_000_003 + it)
        losses = estimate_loss(
            model, {"train": train_ids, "val": val_ids}, cfg, evaluation, device, precision
        )
        run.log(
            it,
            **{
                f"{key}train_loss": losses["train"],
                f"{key}val_loss": losses["val"],
                f"{key}lr": learning_rate(it, cfg, train_seconds),
                f"{key}seconds": train_seconds,
            },
        )
        if losses["val"] < best_val:
            best_val, best_iter = losses["val"], it
            if save_best is not None:
                run.save_model("best", {**save_best(), "iter": it, "val_loss": best_val})
        eval_seconds += time.perf_counter() - began
        if not resumable:
            return
        run.save_checkpoint(
            {
                **saved_states(**parts),
                "iter": it,
                "best_val": best_val,
                "best_iter": best_iter,
                "losses": losses,
                "train_seconds": train_seconds,
                "eval_seconds": eval_seconds,
            }
        )

    model.train()
    bar = run.bar(total=cfg.steps, initial=it, desc=desc, unit="it")
    evaluated_at = it if state is not None else -1  # a checkpoint follows an evaluation
    segment = time.perf_counter()  # training time is measured between evaluations
    while it < cfg.steps:
        if it % cfg.eval_every == 0 and it != evaluated_at:
            train_seconds += time.perf_counter() - segment  # float(loss) has synchronised
            evaluate_and_checkpoint()
            bar.set_postfix(train=f"{losses['train']:.4f}", val=f"{losses['val']:.4f}")
            segment = time.perf_counter()
        spent = 0.0
        if cfg.time_budget:  # rank 0's clock decides, so that every rank stops at one step
            spent = w.share(train_seconds + time.perf_counter() - segment)
            if spent >= cfg.time_budget:
                break
        lr = learning_rate(it, cfg, spent)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = sample_batch(train_ids, cfg.batch_size, cfg.block_size, batches)
        with autocast(precision, device):
            _, loss = step_model(w.shard(x).to(device), w.shard(y).to(device))
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        it += 1
        bar.update(1)
    bar.close()
    if it != evaluated_at:  # the final evaluation (unless the run was killed just after it)
        train_seconds += time.perf_counter() - segment
        evaluate_and_checkpoint()
    run.record_time(f"{key}train_seconds", train_seconds)
    run.record_time(f"{key}eval_seconds", eval_seconds)
    if train_seconds > 0:
        tokens_per_second = it * cfg.batch_size * cfg.block_size / train_seconds
        run.record_time(f"{key}tokens_per_second", tokens_per_second)
    return {
        "iters": it,
        "final_train_loss": losses["train"],
        "final_val_loss": losses["val"],
        "best_val_loss": best_val,
        "best_iter": best_iter,
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
    }


def load_language_model(run_dir: Path, device: torch.device, bounds: type | None = None):
    """(GPT in eval mode, tokenizer) from a char-gpt run's `checkpoints/best.pt`. The sizes
    it reads are checked against the fields of the config class `bounds` (char-gpt's), and
    against the shapes of the saved weights, before the model is allocated."""
    from nnlab.config import check_bounds
    from nnlab.data.text import CharTokenizer
    from nnlab.errors import UserError
    from nnlab.models.gpt import GPT, GPTConfig
    from nnlab.models.loading import build_checked

    path = Path(run_dir) / "checkpoints" / "best.pt"
    if not path.is_file():
        raise UserError(
            f"{run_dir} has no checkpoints/best.pt; pass a char-gpt run directory "
            "(one that has evaluated at least once)"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        settings = dict(state["gpt_config"])
    except Exception as exc:  # a damaged or foreign file: any error means the same to the user
        raise UserError(f"{path} cannot be loaded as a GPT ({type(exc).__name__}: {exc})") from None
    # the checkpoint chooses the model's size: the experiment's bounds first, then the shapes
    # of the weights it carries (nnlab.models.loading), before the model is built
    if bounds is not None:
        check_bounds(bounds, settings, f"{path} asks for a GPT out of bounds")
    model = build_checked(lambda: GPT(GPTConfig(**settings)), state.get("model"), f"{path} (a GPT)")
    return model.to(device).eval(), CharTokenizer(state["chars"])


def stream_text(
    run_dir: Path,
    *,
    prompt: str = "",
    tokens: int = 500,
    temperature: float = 0.8,
    top_k: int = 200,
    seed: int = 0,
    device: str = "cpu",
) -> Iterator[str]:
    """The prompt (a newline when empty), then `tokens` characters drawn one at a time from a
    char-gpt run's best model (`top_k` 0: all characters); the same seed gives the same text."""
    from nnlab.runs.run import resolve_device
    from nnlab.training.settings import CharModelSettings

    # a checkpoint's sizes within the char-gpt recipes' bounds
    model, tok = load_language_model(Path(run_dir), resolve_device(device), CharModelSettings)
    yield from sample_text(model, tok, tokens, temperature, top_k, seed, prompt)


def sample_text(
    model: nn.Module,
    tok: CharTokenizer,
    tokens: int,
    temperature: float = 0.8,
    top_k: int = 200,
    seed: int = 0,
    prompt: str = "",
) -> Iterator[str]:
    """The prompt (a newline when empty, or the first character where the text has none),
    then `tokens` characters drawn one at a time from `model` (a GPT or an LSTM; `top_k` 0:
    all characters); the same seed gives the same text."""
    device = next(model.parameters()).device
    prompt = prompt or ("\n" if "\n" in tok.chars else tok.chars[0])
    idx = torch.from_numpy(tok.encode(prompt))[None].to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    yield prompt
    for token in model.stream(idx, tokens, temperature, top_k or None, generator):
        yield tok.chars[int(token)]
