"""The training settings every classifier recipe shares, declared once: a recipe's `Config`
subclasses `ClassifierTraining`, changes a default with `default(...)`, and passes
`fit_settings(cfg)` to `fit_classifier` / `fit_classifiers`; with the other settings several
recipes share (chars36 data, the character models) and `CNNRecipe`, the fixed recipe of the
CNNs nnlab ships (`nnlab.data.trained`). Light: imports no PyTorch.

    @dataclass
    class Config(ClassifierTraining):
        hidden: tuple[int, ...] = (512, 256)
        epochs: int = default("epochs", 5)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nnlab.config import ExperimentConfig, Optimizer, Schedule, param
from nnlab.errors import ConfigError

if TYPE_CHECKING:
    from nnlab.data.splits import ArraySplits

Precision = Literal["auto", "fp32", "bf16"]
PRECISION_HELP = (
    "auto: bfloat16 autocast where this CPU or GPU measurably runs it faster, else float32 "
    "(nnlab precision shows the probe)"
)


def precision_setting() -> Any:
    """The `precision` field of a torch experiment's Config: "auto" by default
    (`nnlab.training.precision.resolve`)."""
    return param("auto", help=PRECISION_HELP)


@dataclass
class ClassifierTraining(ExperimentConfig):
    optimizer: Optimizer = "adamw"
    lr: float = param(2e-3, low=0.0, low_open=True, help="learning rate (peak for onecycle)")
    weight_decay: float = param(1e-4, low=0.0)
    label_smoothing: float = param(0.1, low=0.0, high=0.5, help="cross-entropy label smoothing")
    schedule: Schedule = "onecycle"
    batch_size: int = param(128, low=1, high=1_000_000)
    epochs: int = param(25, low=1, high=10_000)
    precision: Precision = precision_setting()


def default(name: str, value: Any) -> Any:
    """`ClassifierTraining`'s field `name` (its bounds and help) with another default."""
    field = next(f for f in dataclasses.fields(ClassifierTraining) if f.name == name)
    return dataclasses.field(default=value, metadata=field.metadata)


def check_kernels(channels: tuple[int, ...], kernels: tuple[int, ...]) -> None:
    """ConfigError unless a CNN recipe's `kernels` gives one size per convolution of
    `channels`."""
    if len(channels) != len(kernels):
        example = ",".join(["3"] * len(channels))
        raise ConfigError(
            f"channels has {len(channels)} entries but kernels has {len(kernels)}; give one "
            f"kernel size per convolution, e.g. kernels={example}"
        )


def fit_settings(cfg: ClassifierTraining) -> dict[str, Any]:
    """The keyword arguments of `fit_classifier` that the settings hold."""
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(ClassifierTraining)}


@dataclass
class Chars36Settings(ExperimentConfig):
    """The chars36 data settings of the recipes that train on it; `load_chars36_for(cfg, run)`
    loads what they say."""

    ink: Literal["dark", "bright"] = param(
        "dark", help="dark: black ink on white, as NIST36; bright: white on black (1 - x)"
    )
    source: Literal["auto", "fonts", "emnist"] = param(
        "auto", help="chars36 source: EMNIST files when present (auto), or rendered fonts"
    )
    fonts: Literal["bundled", "system"] = param(
        "bundled",
        help="chars36 fonts: nnlab's own (the same everywhere) or also this machine's (system)",
    )
    samples_per_glyph: int = param(20, low=1, high=500, help="chars36 images per (font, character)")
    data_seed: int = param(
        0, low=0, high=2_147_483_647, help="chars36 font split and augmentation seed"
    )


def load_chars36_for(cfg: Chars36Settings, run: Any) -> ArraySplits:
    """chars36 as `cfg` describes it, downloading and showing progress as `run` allows."""
    from nnlab.data.chars36 import load_chars36

    return load_chars36(
        source=cfg.source,
        samples_per_glyph=cfg.samples_per_glyph,
        seed=cfg.data_seed,
        ink=cfg.ink,
        fonts=cfg.fonts,
        download=run.allow_download,
        progress=not run.quiet,
    )


@dataclass
class CharModelSettings(ExperimentConfig):
    """What the character-level language-model recipes share: the text, the GPT's shape and how
    text is sampled."""

    corpus: Literal["tinyshakespeare", "toy-play"] = param(
        "tinyshakespeare", help="training text (toy-play: a generated play, no download)"
    )
    text: str = param("", help="path of a UTF-8 text file to train on instead of the corpus")
    n_layer: int = param(4, low=1, high=96, help="GPT: transformer blocks")
    n_head: int = param(4, low=1, high=128, help="GPT: attention heads per block")
    n_embd: int = param(128, low=1, high=16_384, help="GPT: embedding width (divisible by n_head)")
    temperature: float = param(0.8, low=0.0, low_open=True, high=100.0)
    top_k: int = param(200, low=0, high=1_000_000, help="sample among the k likeliest (0: all)")

    def check(self) -> None:
        if self.n_embd % self.n_head:
            raise ConfigError(
                f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head}): each head "
                f"gets n_embd / n_head dimensions, e.g. n_embd={self.n_head * 32}"
            )


@dataclass(frozen=True, kw_only=True)
class CNNRecipe:
    """What the recipe of every shipped CNN fixes (a family's recipe adds its own fields); the
    manifest compares all fields, so change `version` whenever any field changes."""

    version: int
    channels: tuple[int, ...]
    kernels: tuple[int, ...]
    epochs: int
    batch_size: int = 128
    optimizer: str = "adamw"
    lr: float = 3e-3
    weight_decay: float = 5e-4
    schedule: str = "onecycle"
    dropout: float = 0.1
    seed: int = 0
