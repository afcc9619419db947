"""date-seq2seq: an encoder-decoder LSTM translates dates written the ways people write them
("3 March 1997", "03/03/97", "Mon, Mar 3, 1997", "1997 March 3rd", ...) into ISO dates
("1997-03-03"), with and without attention, and with no context at all (seed 003's "Sequence
to Sequence Model (LSTM)").

The data are generated (`nnlab.data.dates`: 14 formats, days 1969-2068, the test days never
seen in training in any format). Three models of the same shape (`nnlab.models.seq2seq`: a
bidirectional LSTM encoder, an LSTM decoder) train for the same steps on the same batches
(`nnlab.training.seq2seq`: teacher forcing, AdamW, cosine decay):

- ``attention``: the decoder starts from the encoder's final states and, at each output
  character, reads a softmax-weighted mean of all the encoder's states (dot-product attention);
- ``no_attention``: it starts from the encoder's final states only: the whole input squeezed
  into one vector (Sutskever et al. 2014);
- ``no_context``: the decoder never sees the input (its context is cut): it can only learn the
  likeliest date, which shows what the context is worth.

Scored on the held-out test set by greedy decoding: exact match (all ten characters right)
and per-character accuracy, beside the guess of the commonest character at each position of
the training targets, and the attention model again with its context zeroed at test time.
The figures are attention maps of four test dates, the validation accuracy of the three
models while they train, and a table of translations.

    nnlab run date-seq2seq --preset quick
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnlab.config import ExperimentConfig, param, settings_for
from nnlab.experiments import Experiment

if TYPE_CHECKING:
    from nnlab.runs.run import Run

VARIANTS = {"attention": "attention", "no_attention": "final", "no_context": "none"}
"""Summary name -> the model's context (`nnlab.models.seq2seq.CONTEXTS`)."""
LABELS = {"attention": "attention", "no_attention": "no attention", "no_context": "no context"}
METRIC = {"attention": "attention", "no_attention": "no-attention", "no_context": "no-context"}
"""The prefix of each model's metrics (`no-attention/val_exact`)."""
GOAL = 0.95  # the validation exact match whose first step is reported
SHOWN_FORMATS = ("Dow, Mon d, yyyy", "mm/dd/yyyy", "dd/mm/yy", "yyyy Month dth")
"""The formats of the attention maps: the US and European orders read the digits differently."""


@dataclass
class Config(ExperimentConfig):
    n_train: int = param(20_000, low=1, high=10_000_000, help="generated training examples")
    val_size: int = param(1_000, low=1, high=1_000_000, help="validation examples (curves)")
    test_size: int = param(2_000, low=1, high=1_000_000, help="held-out test examples")
    data_seed: int = param(0, low=0, high=2_147_483_647, help="seed of the generated dates")
    n_embd: int = param(32, low=1, high=4096, help="character embedding width")
    hidden: int = param(
        64, low=1, high=4096, help="encoder LSTM width per direction (decoder: twice)"
    )
    steps: int = param(2000, low=1, high=10_000_000, help="training batches for each model")
    batch_size: int = param(64, low=1, high=65_536)
    lr: float = param(3e-3, low=0.0, low_open=True, help="AdamW learning rate after warm-up")
    min_lr: float = param(3e-4, low=0.0, help="learning rate at the end of the cosine decay")
    warmup_steps: int = param(50, low=0, high=10_000_000)
    grad_clip: float = param(1.0, low=0.0, help="clip the gradient norm (0: off)")
    eval_every: int = param(250, low=1, high=10_000_000, help="steps between evaluations")
    threads: int = param(
        1, low=0, high=256, help="torch CPU threads while training (0: torch's default)"
    )


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "n_train": 3000,
        "val_size": 200,
        "test_size": 400,
        "n_embd": 16,
        "hidden": 32,
        "steps": 300,
        "lr": 1e-2,
        "min_lr": 1e-3,
        "warmup_steps": 30,
        "eval_every": 100,
    },
    "quick": {},
    "full": {
        "n_train": 100_000,
        "val_size": 2_000,
        "test_size": 5_000,
        "n_embd": 64,
        "hidden": 128,
        "steps": 10_000,
        "batch_size": 128,
        "lr": 2e-3,
        "eval_every": 500,
    },
}


def run(cfg: Config, run: Run) -> dict[str, Any]:
    import torch

    from nnlab.data.dates import ALPHABET, FORMATS, TARGET_ALPHABET, date_sets
    from nnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
    from nnlab.training.seq2seq import (
        Seq2SeqTraining,
        decode_ids,
        encode_pairs,
        evaluate,
        train_seq2seq,
    )
    from nnlab.training.threads import torch_threads
    from nnlab.viz import (
        Line,
        LinePanel,
        cross_attention_maps,
        history_series,
        line_panels,
        text_figure,
        text_table,
    )

    run.load_checkpoint()  # none is saved: a resumed run starts again
    sets = date_sets(cfg.data_seed, cfg.n_train, cfg.val_size, cfg.test_size)
    pairs = {
        split: encode_pairs(s.texts, s.targets, ALPHABET, TARGET_ALPHABET)
        for split, s in sets.items()
    }
    test_set = sets["test"]
    training = settings_for(Seq2SeqTraining, cfg)

    models, scores, params = {}, {}, {}
    with torch_threads(cfg.threads):  # small matrices: one thread is fastest on shared cores
        for name, context in VARIANTS.items():
            torch.manual_seed(run.seed)
            shape = Seq2SeqConfig(
                len(ALPHABET) + 1, len(TARGET_ALPHABET) + 1, cfg.n_embd, cfg.hidden, context
            )
            models[name] = Seq2Seq(shape).to(run.device)
            params[name] = models[name].num_parameters()
            train_seq2seq(
                run, models[name], pairs["train"], pairs["val"], training, name=METRIC[name]
            )
            scores[name] = evaluate(models[name], pairs["test"])
        cut = evaluate(models["attention"], pairs["test"], cut=True)
    predicted = {n: decode_ids(s["predictions"], TARGET_ALPHABET) for n, s in scores.items()}

    # the commonest character at each position of the training targets: what a model that
    # never reads its input can do at best, position by position
    columns = zip(*sets["train"].targets, strict=True)
    guess = "".join(Counter(col).most_common(1)[0][0] for col in columns)
    truth = list(test_set.targets)
    guess_exact = sum(t == guess for t in truth) / len(truth)
    guess_char = sum(a == b for t in truth for a, b in zip(t, guess, strict=True)) / (
        len(truth) * len(guess)
    )
    blind_output, blind_count = Counter(predicted["no_context"]).most_common(1)[0]

    def per_format(name: str) -> dict[str, float]:
        right: Counter[int] = Counter()
        seen: Counter[int] = Counter()
        for fmt, p, t in zip(test_set.formats, predicted[name], truth, strict=True):
            seen[fmt] += 1
            right[fmt] += p == t
        return {FORMATS[f][0]: right[f] / seen[f] for f in sorted(seen)}

    formats_no_attention = per_format("no_attention")
    hardest = min(formats_no_attention, key=formats_no_attention.__getitem__)

    # figure 1: where the attention model looks while it writes each character
    names = [n for n, _ in FORMATS]
    chosen = []
    for fmt_name in SHOWN_FORMATS:
        fmt = names.index(fmt_name)
        if fmt in test_set.formats:
            chosen.append(test_set.formats.index(fmt))
    rows = pairs["test"].take(torch.tensor(chosen)).to(run.device)
    models["attention"].eval()
    tokens, weights = models["attention"].greedy(rows.src, rows.lengths, rows.tgt.size(1))
    shown_out = decode_ids(tokens.cpu(), TARGET_ALPHABET)
    titles = [
        f"{test_set.texts[i]!r} → {out} ({'right' if out == truth[i] else 'wrong'})"
        for i, out in zip(chosen, shown_out, strict=True)
    ]
    assert weights is not None
    run.figure(
        "attention_maps",
        cross_attention_maps(
            list(weights.cpu().numpy()),
            [test_set.texts[i] for i in chosen],
            shown_out,
            titles,
            title=f"Where the attention model reads while writing each ISO character "
            f"(test exact match {scores['attention']['exact']:.1%})",
        ),
        "Attention weights of the decoder over the source characters (columns) at each "
        "output character it writes (rows), for test dates in four formats; each row sums to "
        "1: the brighter the cell, the more that source character's encoder state goes into the "
        "output character.",
    )

    # figure 2: the three models while they train
    history = run.history()

    def first_step_at_goal(name: str) -> int | None:
        steps, exact = history_series(history, f"{METRIC[name]}/val_exact")
        return next((s for s, e in zip(steps, exact, strict=True) if e >= GOAL), None)

    def curves(metric: str) -> list[Line]:
        return [
            Line(*history_series(history, f"{METRIC[n]}/{metric}"), LABELS[n], "o-", 3)
            for n in VARIANTS
        ]

    run.figure(
        "training_curves",
        line_panels(
            [
                LinePanel(curves("val_exact"), "validation exact match", "fraction of dates"),
                LinePanel(
                    curves("val_char"),
                    "validation per-character accuracy",
                    "fraction of characters",
                    reference=(guess_char, "commonest character per position"),
                ),
                LinePanel(curves("train_loss"), "training loss", "cross-entropy (nats)", log=True),
            ],
            title=f"Three decoders, same shape and batches ({cfg.steps} steps of "
            f"{cfg.batch_size}): greedy decoding on {cfg.val_size} validation dates",
            xlabel="step",
        ),
        "Exact match and per-character accuracy of greedy decoding on the validation dates, "
        "and the teacher-forced training loss, every "
        f"{cfg.eval_every} steps. The dotted line is the per-character accuracy of always "
        "writing the commonest training character at each position, where the model with no "
        "context stops.",
    )

    # figure 3: translations of one test date per format
    firsts = sorted({f: i for i, f in reversed(list(enumerate(test_set.formats)))}.items())

    def cell(name: str, i: int) -> str:
        out = predicted[name][i]
        return out if out == truth[i] else f"{out} ✗"

    table_rows = [[test_set.texts[i], truth[i], *(cell(n, i) for n in VARIANTS)] for _, i in firsts]
    lines = text_table(["input", "ISO date", *(LABELS[n] for n in VARIANTS)], table_rows)
    run.figure(
        "translations",
        text_figure(lines, "Test dates, one per format, as each model translates them (✗: wrong)"),
        "The first test date of each format, its ISO form and each model's greedy translation. "
        "The model without context writes the same date whatever the input.",
    )

    summary: dict[str, Any] = {
        "formats": len(FORMATS),
        "n_train": len(sets["train"]),
        "test_size": len(test_set),
        "steps": cfg.steps,
    }
    for name in VARIANTS:
        summary |= {
            f"test_exact_{name}": scores[name]["exact"],
            f"test_char_{name}": scores[name]["char"],
            f"test_loss_{name}": scores[name]["loss"],
            f"parameters_{name}": params[name],
            f"steps_to_95_{name}": first_step_at_goal(name),
        }
    return summary | {
        "attention_minus_no_context_exact": scores["attention"]["exact"]
        - scores["no_context"]["exact"],
        "attention_context_cut_exact": cut["exact"],
        "attention_context_cut_char": cut["char"],
        "guess_date": guess,
        "guess_exact": guess_exact,
        "guess_char": guess_char,
        "no_context_commonest_output": blind_output,
        "no_context_commonest_output_fraction": blind_count / len(truth),
        "test_exact_by_format_attention": per_format("attention"),
        "test_exact_by_format_no_attention": formats_no_attention,
        "hardest_format_no_attention": hardest,
    }


EXPERIMENT = Experiment.load(__name__, config=Config, presets=PRESETS, run=run)
