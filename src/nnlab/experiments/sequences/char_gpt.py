"""char-gpt: nanoGPT's character-level GPT on Tiny Shakespeare (seed 000 Problem 3B).

The model is `nnlab.models.gpt` (nanoGPT's conventions by default: no biases, tied head);
training is `nnlab.training.lm`: AdamW with decay on matrices only, warm-up then cosine decay,
gradient
clipping, evaluation every `eval_every` iterations, the best validation weights kept as
`checkpoints/best.pt` for `nnlab generate RUN_DIR`. `--set text=PATH` trains on any UTF-8 file.

Presets: `quick` is nanoGPT's CPU recipe (block 64, 4 layers, 4 heads, 128 wide, 2000
iterations, no dropout); `full` is the seed's (block 256, 6 layers, 6 heads, 384 wide, dropout
0.2, 5000 iterations: 10.65M parameters, a GPU job); `smoke` is a tiny model on a generated play.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import param, settings_for
from nnlab.experiments import Experiment
from nnlab.training.settings import CharModelSettings, Precision, precision_setting

if TYPE_CHECKING:
    from nnlab.runs.run import Run

ATTENTION_PROMPT_CHARS = 40


@dataclass
class Config(CharModelSettings):
    block_size: int = param(64, low=2, high=8_192, help="context length in characters")
    dropout: float = param(0.0, low=0.0, high=0.9)
    bias: bool = param(False, help="biases in linear layers and LayerNorms (nanoGPT: false)")
    tied: bool = param(True, help="output head shares the token embedding's weights")
    batch_size: int = param(16, low=1, high=65_536)
    steps: int = param(1800, low=1, high=10_000_000)
    lr: float = param(2e-3, low=0.0, low_open=True, help="peak learning rate")
    min_lr: float = param(2e-4, low=0.0, help="learning rate at the end of the cosine decay")
    warmup_steps: int = param(100, low=0, high=10_000_000)
    decay_steps: int = param(0, low=0, high=10_000_000, help="cosine decay length (0: steps)")
    weight_decay: float = param(0.1, low=0.0)
    beta2: float = param(0.99, low=0.0, high=0.9999)
    grad_clip: float = param(1.0, low=0.0, help="clip the gradient norm (0: off)")
    eval_every: int = param(250, low=1, high=10_000_000)
    eval_batches: int = param(40, low=1, high=100_000, help="batches per loss estimate")
    compile: bool = param(False, help="train through torch.compile")
    sample_tokens: int = param(500, low=0, high=100_000, help="characters sampled at the end")
    precision: Precision = precision_setting()


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "corpus": "toy-play",
        "n_layer": 2,
        "n_head": 2,
        "n_embd": 32,
        "block_size": 32,
        "batch_size": 8,
        "steps": 150,
        "lr": 3e-3,
        "warmup_steps": 10,
        "eval_every": 50,
        "eval_batches": 4,
        "sample_tokens": 120,
    },
    # nanoGPT's CPU recipe with a batch of 16 (more tokens/s on 2 cores), twice the learning
    # rate and 40 evaluation batches (measured: README.md, "Measured results")
    "quick": {},
    "full": {
        "n_layer": 6,
        "n_head": 6,
        "n_embd": 384,
        "block_size": 256,
        "dropout": 0.2,
        "batch_size": 64,
        "steps": 5000,
        "lr": 1e-3,
        "min_lr": 1e-4,
        "eval_batches": 200,
    },
}


def training_settings(cfg: Config):
    from nnlab.training.lm import LMTraining

    return settings_for(LMTraining, cfg)


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import torch

    from nnlab.data.text import corpus_splits
    from nnlab.models.gpt import GPT, GPTConfig
    from nnlab.training.distributed import world
    from nnlab.training.lm import sample_text, train_language_model
    from nnlab.viz import attention_map, learning_curves, text_figure

    tok, train_ids, val_ids = corpus_splits(cfg.corpus, cfg.text, download=run.allow_download)
    run.write_text("tokenizer.json", tok.to_json())
    gpt_cfg = settings_for(GPTConfig, cfg, vocab_size=tok.vocab_size)
    model = GPT(gpt_cfg).to(run.device)

    def weights() -> dict[str, Any]:
        return {"model": model.state_dict(), "gpt_config": asdict(gpt_cfg), "chars": tok.chars}

    result = train_language_model(
        run, model, train_ids, val_ids, training_settings(cfg), save_best=weights, desc="char-gpt"
    )

    if not world().is_main:  # the sample and the figures are rank 0's to make
        return result
    best = torch.load(
        run.dir / "checkpoints" / "best.pt", map_location=run.device, weights_only=True
    )
    model.load_state_dict(best["model"])
    _, *chars = sample_text(model, tok, cfg.sample_tokens, cfg.temperature, cfg.top_k, run.seed)
    sample = "".join(chars)
    run.write_text("sample.txt", sample)

    history = run.history()
    title = f"char-gpt {cfg.n_layer}x{cfg.n_head}x{cfg.n_embd}, block {cfg.block_size}"
    run.figure(
        "learning_curves",
        learning_curves(
            history,
            {"loss": ["train_loss", "val_loss"], "learning rate": ["lr"]},
            title=title,
            xlabel="iteration",
        ),
        f"Train and validation cross-entropy (nats per character; mean over {cfg.eval_batches} "
        f"batches) and the learning rate, every {cfg.eval_every} iterations.",
    )
    run.figure(
        "sample",
        text_figure(
            [line[:110] for line in sample.splitlines()] or [""],
            f"{len(sample)} characters sampled from the best weights "
            f"(temperature {cfg.temperature}, top-k {cfg.top_k or 'all'})",
        ),
        "Text generated character by character from a newline, by the weights with the best "
        "validation loss. `nnlab generate RUN_DIR --prompt ...` samples more.",
    )
    prompt_ids = val_ids[: min(ATTENTION_PROMPT_CHARS, cfg.block_size)]
    layer, head = gpt_cfg.n_layer - 1, 0
    probs = model.attention_weights(prompt_ids[None].to(run.device), layer)[0, head]
    run.figure(
        "attention_map",
        attention_map(
            probs.cpu().numpy(),
            list(tok.decode(prompt_ids.tolist())),
            title=f"Attention of block {layer + 1}, head {head + 1}, on the first validation text",
        ),
        "Row i: how the character at position i spreads its attention over positions <= i "
        "(causal). Bright off-diagonal cells are earlier characters the head looks back at.",
    )
    return {
        "corpus": cfg.text or cfg.corpus,
        "vocab_size": tok.vocab_size,
        "train_characters": len(train_ids),
        "val_characters": len(val_ids),
        "parameters": model.num_parameters(),
        "parameters_without_position": model.num_parameters(position=False),
        "best_val_loss": result["best_val_loss"],
        "best_iter": result["best_iter"],
        "final_val_loss": result["final_val_loss"],
        "final_train_loss": result["final_train_loss"],
        "iters": result["iters"],
        "tokens_per_iter": cfg.batch_size * cfg.block_size,
        "sample": sample,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
