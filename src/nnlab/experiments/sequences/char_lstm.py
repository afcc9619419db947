"""char-lstm: a character LSTM against a GPT of the same size, for the same training time.

Both models train on the same text (Tiny Shakespeare, the generated `toy-play`, or
`--set text=PATH`) in one run, one after the other, each for `budget` seconds of training
(evaluations excluded) through `nnlab.training.lm`, on the same random windows of `block_size`
characters. The GPT is `nnlab.models.gpt` with nanoGPT's conventions (by default char-gpt's
quick GPT: 4 layers, 4 heads, 128 wide, block 64); the LSTM (`nnlab.models.lstm`) gets the
hidden width that brings its parameter count closest to the GPT's, which must be within 5%.
Each model has its own peak learning rate; after the warm-up it decays along a cosine of the
training seconds spent, to a tenth of the peak as the budget runs out (as char-gpt's decays
over its iterations), so neither is cut off at a high learning rate.

At the end both models are scored on the same validation windows; the summary says which is
ahead and by how much (`lstm_minus_gpt_val_loss`, nats per character), with each model's
parameters, iterations, tokens per second and best validation loss. The figures are the
validation loss against training seconds (and iterations) and a sample from each model.

    nnlab run char-lstm --preset quick          # 75 s each on Tiny Shakespeare

Because the budget is wall-clock time, the iterations done, and so the losses, vary a little
from machine to machine and run to run: the summary is not bit-for-bit repeatable. For the
same reason a resumed char-lstm run starts again from the beginning (a time budget cannot be
continued exactly).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import param, settings_for
from nnlab.errors import ConfigError
from nnlab.experiments import Experiment
from nnlab.training.settings import CharModelSettings

if TYPE_CHECKING:
    from nnlab.runs.run import Run

PARAMETER_TOLERANCE = 0.05  # the LSTM's parameters are within 5% of the GPT's
MAX_ITERS = 1_000_000_000  # the time budget ends training, not a number of iterations
MODELS = {"gpt": "GPT", "lstm": "LSTM"}


@dataclass
class Config(CharModelSettings):
    budget: float = param(
        75.0,
        low=0.0,
        low_open=True,
        high=1e6,
        help="training seconds for each model (evaluations excluded)",
    )
    lstm_layers: int = param(2, low=1, high=64, help="LSTM: stacked layers")
    lstm_embd: int = param(
        64, low=1, high=16_384, help="LSTM: embedding width (the hidden width is chosen)"
    )
    lstm_proj: int = param(0, low=0, high=16_384, help="LSTM: projection before the head (0: none)")
    block_size: int = param(64, low=2, high=8_192, help="characters per training window")
    dropout: float = param(0.0, low=0.0, high=0.9, help="dropout of both models")
    batch_size: int = param(16, low=1, high=65_536)
    lr: float = param(2e-3, low=0.0, low_open=True, help="GPT: learning rate after warm-up")
    lstm_lr: float = param(2e-3, low=0.0, low_open=True, help="LSTM: learning rate after warm-up")
    warmup_steps: int = param(100, low=0, high=10_000_000)
    weight_decay: float = param(0.1, low=0.0)
    beta2: float = param(0.99, low=0.0, high=0.9999)
    grad_clip: float = param(1.0, low=0.0, help="clip the gradient norm (0: off)")
    eval_every: int = param(100, low=1, high=10_000_000, help="iterations between evaluations")
    eval_batches: int = param(20, low=1, high=100_000, help="batches per loss estimate")
    sample_tokens: int = param(300, low=0, high=100_000, help="characters sampled from each")


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "corpus": "toy-play",
        "budget": 3.0,
        "n_layer": 2,
        "n_head": 2,
        "n_embd": 32,
        "lstm_embd": 16,
        "block_size": 32,
        "batch_size": 8,
        "warmup_steps": 10,
        "eval_every": 100,
        "eval_batches": 4,
        "sample_tokens": 120,
    },
    "quick": {},
    "full": {
        "budget": 900.0,
        "n_layer": 6,
        "n_head": 6,
        "n_embd": 384,
        "lstm_layers": 3,
        "lstm_embd": 384,
        "block_size": 256,
        "dropout": 0.2,
        "batch_size": 64,
        "eval_every": 250,
        "eval_batches": 200,
    },
}


def training_settings(cfg: Config, lr: float):
    from nnlab.training.lm import LMTraining

    # min_lr is reached as the budget runs out (a cosine over training seconds)
    return settings_for(
        LMTraining, cfg, steps=MAX_ITERS, lr=lr, min_lr=lr / 10, time_budget=cfg.budget
    )


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import torch

    from nnlab.data.text import corpus_splits
    from nnlab.models.gpt import GPT, GPTConfig
    from nnlab.models.lstm import CharLSTM, LSTMConfig, hidden_for_parameters
    from nnlab.training.lm import estimate_loss, sample_text, train_language_model
    from nnlab.viz import Line, LinePanel, history_series, line_panels, text_figure

    run.load_checkpoint()  # none is ever saved: a resumed run rewinds its metrics, starts over
    tok, train_ids, val_ids = corpus_splits(cfg.corpus, cfg.text, download=run.allow_download)
    run.write_text("tokenizer.json", tok.to_json())
    vocab = tok.vocab_size
    torch.manual_seed(run.seed)
    gpt = GPT(settings_for(GPTConfig, cfg, vocab_size=vocab)).to(run.device)
    target = gpt.num_parameters()
    try:
        hidden = hidden_for_parameters(target, vocab, cfg.lstm_embd, cfg.lstm_layers, cfg.lstm_proj)
    except ValueError as exc:
        raise ConfigError(f"{exc}; lower lstm_embd or lstm_layers, or widen the GPT") from None
    lstm_cfg = LSTMConfig(vocab, cfg.lstm_embd, hidden, cfg.lstm_layers, cfg.lstm_proj, cfg.dropout)
    torch.manual_seed(run.seed)
    lstm = CharLSTM(lstm_cfg).to(run.device)
    ratio = lstm.num_parameters() / target
    if abs(ratio - 1) > PARAMETER_TOLERANCE:
        raise ConfigError(
            f"the LSTM closest to the GPT's {target:,} parameters (hidden {hidden}) has "
            f"{lstm.num_parameters():,}, {ratio:.3f} times as many; change lstm_embd or "
            "lstm_layers so that a width lands within 5%"
        )

    models = {"gpt": gpt, "lstm": lstm}
    results = {}
    for name, lr in (("gpt", cfg.lr), ("lstm", cfg.lstm_lr)):
        results[name] = train_language_model(
            run,
            models[name],
            train_ids,
            val_ids,
            training_settings(cfg, lr),
            name=name,
            resumable=False,
            desc=f"char-lstm {name}",
        )
    # the end of the budget: both models on the same validation windows
    scoring = training_settings(cfg, cfg.lr)  # its batch_size, block_size and eval_batches
    windows = {}
    for name, model in models.items():
        same = torch.Generator().manual_seed(run.seed + 1)
        windows[name] = estimate_loss(model, {"val": val_ids}, scoring, same, run.device)
    gap = windows["lstm"]["val"] - windows["gpt"]["val"]
    leader, behind = ("gpt", "lstm") if gap > 0 else ("lstm", "gpt")
    verdict = (
        f"After {cfg.budget:g} s of training each, the {MODELS[leader]} is ahead by "
        f"{abs(gap):.3f} nats/char ({windows[leader]['val']:.3f} against "
        f"{windows[behind]['val']:.3f} on the same validation windows)."
    )

    samples = {}
    for name, model in models.items():
        _, *chars = sample_text(model, tok, cfg.sample_tokens, cfg.temperature, cfg.top_k, run.seed)
        samples[name] = "".join(chars)
        run.write_text(f"sample_{name}.txt", samples[name])

    history = run.history()
    label = {n: f"{MODELS[n]} ({models[n].num_parameters():,} parameters)" for n in models}

    def val_curves(x: str) -> list[Line]:
        """Each model's validation loss against `x` ("step", or "{}/seconds": its own time)."""
        return [
            Line(*history_series(history, f"{n}/val_loss", x.format(n)), label[n], "o-", 3)
            for n in models
        ]

    gpt_shape = f"GPT ({cfg.n_layer} layers, {cfg.n_head} heads, {cfg.n_embd} wide)"
    lstm_shape = f"LSTM ({cfg.lstm_layers} layers, {hidden} wide)"
    run.figure(
        "val_loss_vs_time",
        line_panels(
            [
                LinePanel(
                    val_curves("{}/seconds"),
                    "against training time",
                    "validation loss (nats/char)",
                    xlabel="training seconds (evaluations excluded)",
                ),
                LinePanel(val_curves("step"), "against iterations", "validation loss (nats/char)"),
            ],
            title=f"{gpt_shape} vs {lstm_shape}, {cfg.budget:g} s each, block {cfg.block_size}",
            xlabel="iteration",
        ),
        f"Validation cross-entropy (mean over {cfg.eval_batches} batches of {cfg.batch_size} "
        f"windows) every {cfg.eval_every} iterations and at the end of the budget. " + verdict,
    )
    lines = []
    for name in models:
        text = samples[name].rstrip("\n").splitlines()
        lines += [f"== {label[name]} ==", *(line[:110] for line in text), ""]
    run.figure(
        "samples",
        text_figure(
            lines[:-1],
            f"{cfg.sample_tokens} characters from each model at the end of its budget "
            f"(temperature {cfg.temperature}, top-k {cfg.top_k or 'all'})",
        ),
        "Text generated character by character from a newline by each model's final weights "
        "(the LSTM carries its state from character to character).",
    )

    tokens_per_iter = cfg.batch_size * cfg.block_size
    summary: dict[str, Any] = {
        "corpus": cfg.text or cfg.corpus,
        "vocab_size": vocab,
        "budget_seconds": cfg.budget,
        "leader": leader,
        "lstm_minus_gpt_val_loss": gap,
        "verdict": verdict,
        "lstm_hidden": hidden,
        "parameter_ratio": ratio,
    }
    for name, result in results.items():
        summary |= {
            f"{name}_parameters": models[name].num_parameters(),
            f"{name}_val_loss": windows[name]["val"],
            f"{name}_best_val_loss": result["best_val_loss"],
            f"{name}_iters": result["iters"],
            f"{name}_tokens_per_second": round(
                result["iters"] * tokens_per_iter / result["train_seconds"]
            ),
        }
    return summary


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
