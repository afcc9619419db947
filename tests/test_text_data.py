"""Character-level text: tokenizer round trip, nanoGPT's split of Tiny Shakespeare, and
clear errors for files that are not usable text."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab.data.text import CharTokenizer, load_corpus, split_ids
from nnlab.errors import DataError


def test_tokenizer_round_trip_sorted_vocabulary_and_saved_file(tmp_path):
    tok = CharTokenizer.from_text("hello, world\n")
    assert tok.chars == "\n ,dehlorw" and tok.vocab_size == 10
    ids = tok.encode("world, hello")
    assert ids.dtype == np.int64 and tok.decode(ids) == "world, hello"
    tok.save(tmp_path / "tokenizer.json")
    assert CharTokenizer.load(tmp_path / "tokenizer.json") == tok
    unknown = r"5 character\(s\) not in the model's vocabulary of 10: 'E', 'H', 'L', 'O', 'ö'"
    with pytest.raises(DataError, match=unknown):
        tok.encode("HELLO wörld")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DataError, match="cannot read the tokenizer"):
        CharTokenizer.load(tmp_path / "bad.json")


def test_tiny_shakespeare_split_as_nanogpt(shared_data, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(shared_data))
    text = load_corpus()
    tok = CharTokenizer.from_text(text)
    assert tok.vocab_size == 65
    train, val = split_ids(tok.encode(text))
    assert (len(train), len(val)) == (1_003_854, 111_540)
    assert tok.decode(train[:13]) == "First Citizen"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n\t ", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "looks binary"),
        ("caf\u00e9 ".encode("latin-1") * 400, "is not UTF-8 text"),
        (b"too short", "has 9 characters; a language model needs at least 1000"),
    ],
    ids=["empty", "blank", "binary", "latin-1", "short"],
)
def test_unusable_text_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        load_corpus(path)
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match="cannot read text file"):
        load_corpus(tmp_path / "missing.txt")


def test_a_users_own_corpus(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("Ünïcode text, line after line.\n" * 50, encoding="utf-8")
    text = load_corpus(path)
    assert len(text) == 1550 and CharTokenizer.from_text(text).chars == "\n ,.acdefilnortxÜï"
