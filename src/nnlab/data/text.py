"""Character-level text data: a corpus (Tiny Shakespeare or any UTF-8 file), its tokenizer and
the 90/10 train/validation split of nanoGPT's `shakespeare_char`.

    text = load_corpus()                      # Tiny Shakespeare, from the registry
    text = toy_play()                         # embedded: a generated play, for smoke runs
    tok = CharTokenizer.from_text(text)       # 65 characters, sorted
    train, val = split_ids(tok.encode(text))  # 1,003,854 and 111,540 ids
    tok.save(run_dir / "tokenizer.json"); CharTokenizer.load(...)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlab.errors import DataError


@dataclass(frozen=True)
class CharTokenizer:
    """Each distinct character of the training text is one token, in sorted order."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls("".join(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Token ids (int64). A character outside the vocabulary is a DataError naming it."""
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - index.keys())
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:10])
            raise DataError(
                f"{len(unknown)} character(s) not in the model's vocabulary of "
                f"{self.vocab_size}: {shown}; use only characters of its training text"
            )
        return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"chars": self.chars}, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> None:
        from nnlab.io import atomic_write_text

        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> CharTokenizer:
        try:
            chars = json.loads(Path(path).read_text(encoding="utf-8"))["chars"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"cannot read the tokenizer {path} ({exc}); is it a run's?") from None
        if not isinstance(chars, str) or len(set(chars)) != len(chars):
            raise DataError(f"{path} is not a character tokenizer (distinct characters)")
        return cls(chars)


# A text file is read whole and encoded as int64 ids (8 bytes a character): 128 MiB of text
# (enwik8's 100 MB fits) needs about 1-2 GB of memory; larger files are refused.
MAX_TEXT_BYTES = 128 * 2**20


def load_corpus(
    path: str | Path | None = None, *, min_chars: int = 1000, download: bool = False
) -> str:
    """Tiny Shakespeare (`path=None`, found and verified by the registry) or the UTF-8 text
    file at `path`. DataError for a missing, empty, binary, too-short or too-large
    (over `MAX_TEXT_BYTES`) file."""
    if path is None:
        from nnlab.data.datasets import load_text

        return load_text("tinyshakespeare", download=download)
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            raw = f.read(MAX_TEXT_BYTES + 1) if size <= MAX_TEXT_BYTES else b""
    except OSError as exc:
        raise DataError(f"cannot read text file {path}: {exc.strerror}") from None
    if size > MAX_TEXT_BYTES or len(raw) > MAX_TEXT_BYTES:  # (a pipe has no size)
        raise DataError(
            f"{path} is larger than the cap of {MAX_TEXT_BYTES // 2**20} MiB for a text file; "
            "pass a smaller file (e.g. its first part: head -c 100M FILE > part.txt)"
        )
    if b"\x00" in raw:
        raise DataError(f"{path} looks binary (it holds NUL bytes); pass a UTF-8 text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r}); "
            "convert it, e.g. with iconv -t utf-8"
        ) from None
    if not text.strip():
        raise DataError(f"{path} is empty; pass a file with some text in it")
    if len(text) < min_chars:
        raise DataError(
            f"{path} has {len(text)} characters; a language model needs at least {min_chars}"
        )
    return text


def split_ids(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The first 90% (by default) for training, the rest for validation, as nanoGPT."""
    n = int(len(ids) * (1 - val_fraction))
    return ids[:n], ids[n:]


def corpus_splits(corpus: str, path: str = "", *, download: bool = False):
    """(tokenizer, train ids, val ids) as int64 tensors for a language model: the file at
    `path` if given, else `corpus` ("tinyshakespeare" or "toy-play"). The tokenizer holds every
    character of the text, so validation never meets an unknown one. The ids' digest is noted
    for the run's config.json."""
    import torch

    from nnlab.data.digest import note_dataset

    if path:
        text, name = load_corpus(path), f"text:{Path(path).name}"
    elif corpus == "toy-play":
        text, name = toy_play(), "toy-play"
    else:
        text, name = load_corpus(download=download), corpus
    tok = CharTokenizer.from_text(text)
    train, val = split_ids(tok.encode(text))
    note_dataset(name, {"train": train, "val": val})
    return tok, torch.from_numpy(train), torch.from_numpy(val)


_SPEAKERS = ("ALDO", "BRIANNE", "CASSIO", "DORA", "EDMUND", "FENNA", "GUARD", "HERALD")
_SUBJECTS = (
    "the king",
    "my lord",
    "the queen",
    "our army",
    "this night",
    "thy sister",
    "the fool",
    "a stranger",
    "the moon",
    "my heart",
    "the river",
    "your father",
)
_VERBS = (
    "loves",
    "fears",
    "commands",
    "betrays",
    "remembers",
    "forgives",
    "seeks",
    "follows",
    "praises",
    "mocks",
    "defends",
    "awaits",
)
_OBJECTS = (
    "the crown",
    "his brother",
    "the north",
    "a letter",
    "the sea",
    "my honour",
    "thy name",
    "the old wall",
    "her ring",
    "the morning",
    "this house",
    "all of us",
)
_ENDINGS = (".", ".", ".", "!", "?", ", and so do I.", ", I swear it.", " no more.")


def toy_play(n_chars: int = 150_000, seed: int = 0) -> str:
    """A generated play (speakers and lines from a small grammar), so that language models
    run without any download; the same text on every machine for a given seed."""
    rng = np.random.default_rng(seed)
    parts: list[str] = []
    size = 0
    while size < n_chars:
        lines = []
        for _ in range(int(rng.integers(1, 4))):
            line = " ".join(
                str(rng.choice(words)) for words in (_SUBJECTS, _VERBS, _OBJECTS)
            ) + str(rng.choice(_ENDINGS))
            lines.append(line[0].upper() + line[1:])
        speech = f"{rng.choice(_SPEAKERS)}:\n" + "\n".join(lines) + "\n\n"
        parts.append(speech)
        size += len(speech)
    return "".join(parts)[:n_chars]
