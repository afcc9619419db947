"""The generated dates and the seq2seq model: every format writes the date its ISO target
names (read back by `strptime` with this file's own patterns), the splits keep test days out
of training, attention weights are a distribution over the real source characters only, and
greedy decoding agrees with teacher forcing on its own output."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import torch

from nnlab.data.dates import (
    ALPHABET,
    FIRST,
    FORMATS,
    LAST,
    TARGET_ALPHABET,
    date_sets,
    ordinal,
    render,
)
from nnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig, attend
from nnlab.training.seq2seq import decode_ids, encode_pairs, evaluate, teacher_inputs

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# each format read back independently of the library (C-locale English names; %y maps 69-99
# to 19xx and 00-68 to 20xx, the library's century); ordinal suffixes are stripped first
PATTERNS = {
    "d Month yyyy": "%d %B %Y",
    "dd/mm/yy": "%d/%m/%y",
    "Dow, Mon d, yyyy": "%a, %b %d, %Y",
    "yyyy Month dth": "%Y %B %d",
    "Month d, yyyy": "%B %d, %Y",
    "mm/dd/yyyy": "%m/%d/%Y",
    "dd.mm.yyyy": "%d.%m.%Y",
    "d-Mon-yy": "%d-%b-%y",
    "dth of Month yyyy": "%d of %B %Y",
    "Weekday d MONTH yyyy": "%A %d %B %Y",
    "yyyymmdd": "%Y%m%d",
    "yyyy/mm/dd": "%Y/%m/%d",
    "mon d 'yy": "%b %d '%y",
    "dd Mon yyyy": "%d %b %Y",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def read_back(text: str, name: str) -> date:
    plain = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    return datetime.strptime(plain, PATTERNS[name]).date()


def test_ordinals():
    got = [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 30, 31)]
    assert " ".join(got) == "1st 2nd 3rd 4th 11th 12th 13th 21st 22nd 23rd 30th 31st"


def test_every_format_writes_the_date_its_iso_target_names():
    """Caught a planted bug: "dd.mm.yyyy" writing month before day."""
    assert [n for n, _ in FORMATS] == list(PATTERNS)  # a new format needs its pattern here
    days = [FIRST, LAST, date(2000, 2, 29), date(1997, 3, 3)]
    days += [FIRST + timedelta(k) for k in range(0, (LAST - FIRST).days, 97)]  # days 1..31
    for day in days:
        for fmt, (name, _) in enumerate(FORMATS):
            text = render(day, fmt)
            assert read_back(text, name) == day, (name, text)
            if name.startswith(("Dow", "Weekday")):  # strptime ignores the weekday: check it
                assert text.startswith(WEEKDAYS[day.weekday()]), (name, text)
            assert set(text) <= set(ALPHABET)
    assert render(date(1997, 3, 3), 0) == "3 March 1997"
    assert render(date(1997, 3, 3), 2) == "Mon, Mar 3, 1997"


def test_splits_cover_every_format_keep_test_days_unseen_and_repeat():
    """Caught a planted bug: the test days drawn from the training pool."""
    sets = date_sets(seed=3, n_train=3000, val_size=300, test_size=500)
    train, test = sets["train"], sets["test"]
    assert set(train.formats) == set(range(len(FORMATS))) == set(test.formats)
    assert not set(train.days) & set(test.days)
    assert not set(sets["val"].days) & (set(train.days) | set(test.days))
    for s in sets.values():
        for text, target, fmt, day in zip(s.texts, s.targets, s.formats, s.days, strict=True):
            assert date.fromisoformat(target) == day == read_back(text, FORMATS[fmt][0])
            assert len(target) == 10 and set(target) <= set(TARGET_ALPHABET)
    again = date_sets(seed=3, n_train=3000, val_size=300, test_size=500)
    assert again == sets
    assert date_sets(seed=4, n_train=3000, val_size=300, test_size=500)["train"] != train


def batch(texts: list[str]):
    targets = ["1997-03-03"] * len(texts)
    return encode_pairs(texts, targets, ALPHABET, TARGET_ALPHABET)


def model(context: str = "attention") -> Seq2Seq:
    torch.manual_seed(0)
    shape = Seq2SeqConfig(len(ALPHABET) + 1, len(TARGET_ALPHABET) + 1, 8, 12, context)
    return Seq2Seq(shape).eval()


def test_encoding_pads_with_zero_and_refuses_unknown_characters():
    pairs = batch(["3 March 1997", "19970303"])
    assert pairs.lengths.tolist() == [12, 8]
    assert (pairs.src[1, 8:] == 0).all() and (pairs.src[1, :8] > 0).all()
    assert decode_ids(pairs.tgt, TARGET_ALPHABET) == ["1997-03-03"] * 2
    with pytest.raises(ValueError, match="outside the alphabet"):
        encode_pairs(["3 März 1997"], ["1997-03-03"], ALPHABET, TARGET_ALPHABET)


def test_attention_weights_are_a_distribution_over_the_real_characters_only():
    """Caught a planted bug: the padding mask left out of `attend` (padding got weight)."""
    pairs = batch(["3 March 1997", "19970303", "Wednesday 30 SEPTEMBER 2049"])
    net = model()
    logits, weights = net(pairs.src, pairs.lengths, teacher_inputs(net, pairs.tgt))
    assert weights is not None and weights.shape == (3, 10, pairs.src.size(1))
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 10))
    for row, n in enumerate(pairs.lengths.tolist()):
        assert (weights[row, :, n:] == 0).all()  # padding is never read
        assert (weights[row, :, :n] > 0).all()
    # more padding changes nothing: the same logits and weights on the real characters
    wider = torch.cat([pairs.src, torch.zeros(3, 5, dtype=torch.long)], dim=1)
    logits2, weights2 = net(wider, pairs.lengths, teacher_inputs(net, pairs.tgt))
    torch.testing.assert_close(logits2, logits)
    torch.testing.assert_close(weights2[:, :, : pairs.src.size(1)], weights)


def test_attend_is_scaled_dot_product_attention():
    torch.manual_seed(1)
    q, k = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    pad = torch.zeros(2, 5, dtype=torch.bool)
    pad[1, 3:] = True
    context, weights = attend(q, k, pad)
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, k, attn_mask=~pad[:, None])
    torch.testing.assert_close(context, expected)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))


@pytest.mark.parametrize("context", ["attention", "final", "none"])
def test_greedy_decoding_agrees_with_teacher_forcing_on_its_own_output(context):
    """Caught a planted bug: greedy decoding restarting the decoder state at every step."""
    pairs = batch(["3 March 1997", "19970303", "mar 3 '97"])
    net = model(context)
    tokens, weights = net.greedy(pairs.src, pairs.lengths, 10)
    logits, forced = net(pairs.src, pairs.lengths, teacher_inputs(net, tokens))
    assert torch.equal(logits.argmax(-1), tokens)
    assert (weights is None) == (forced is None) == (context != "attention")
    if weights is not None:
        torch.testing.assert_close(weights, forced)
    scores = evaluate(net, pairs)
    right = (scores["predictions"] == pairs.tgt).float()
    assert scores["exact"] == float(right.prod(1).mean()) and scores["char"] == float(right.mean())


def test_no_context_and_a_cut_context_ignore_the_input():
    pairs = batch(["3 March 1997", "19970303"])
    different = batch(["12 June 2041", "20410612"])
    for net, cut in ((model("none"), False), (model("attention"), True)):
        a, _ = net(pairs.src, pairs.lengths, teacher_inputs(net, pairs.tgt), cut=cut)
        b, _ = net(different.src, different.lengths, teacher_inputs(net, pairs.tgt), cut=cut)
        torch.testing.assert_close(a, b)
    net = model("attention")
    a, _ = net(pairs.src, pairs.lengths, teacher_inputs(net, pairs.tgt))
    b, _ = net(different.src, different.lengths, teacher_inputs(net, pairs.tgt))
    assert not torch.allclose(a, b)
