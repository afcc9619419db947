"""`nnlab course`: the list of items against every item the seed documents number, and the
measured answer read from the latest completed matching run.

The completeness tests parse the seed documents in ../shared/seeds/ (skipped with a reason when
that folder is absent on a user's machine; failed under CI=true):

- 000: the problems ("Problem 3A - ...");
- 001: the numbered parts of each "## Problem N" and of "## Bonus" ("1. ...", "2. ...");
- 002: the sub-task headings under "1-N Questions" (title-case lines that occur once) and the
  "N) Part K" of a heading;
- 003: the numbered in-class exercises and breakouts ("ICE #n", "Breakouts Time #n"), and every
  topic item's heading found as a line of the lecture, in the lecture's order;
- 004: the bold question numbers ("**Q1.1:", "**Q.2.1.3:", "**Q.4:**", "**5.3.1:**").
"""

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from nnlab.cli import main
from nnlab.course import SEEDS, Item, items, latest_run, render

REPO = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO.parent / "shared" / "seeds"


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    found = (
        {p.name[:3]: p for p in SEEDS_DIR.glob("[0-9][0-9][0-9]_*.txt")}
        if SEEDS_DIR.is_dir()
        else {}
    )
    if set(found) != set(SEEDS):
        reason = f"the seed documents ({', '.join(SEEDS)}) are not all in {SEEDS_DIR}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason} (CI=true: CI must provide ../shared)", pytrace=False)
        pytest.skip(reason)
    return {s: p.read_text(encoding="utf-8") for s, p in found.items()}


# ---- parsing the seeds ------------------------------------------------------------------


def numbered_000(text: str) -> list[str]:
    return re.findall(r"^Problem (\d[A-Z]) - ", text, re.M)


def numbered_001(text: str) -> list[str]:
    out, section = [], None
    for line in text.splitlines():
        head = re.match(r"^#{1,4} +(.*?)\s*$", line)
        if head:
            title = head.group(1)
            problem = re.fullmatch(r"Problem (\d+)", title)
            section = f"P{problem.group(1)}." if problem else "Bonus " if title == "Bonus" else None
            continue
        part = re.match(r"^(\d+)\. ", line)
        if section and part:
            out.append(f"{section}{part.group(1)}")
    return out


def numbered_002(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    count = Counter(lines)
    out: list[str] = []
    section, heading, parts = None, None, 0
    for line in lines:
        m = re.fullmatch(r"(1-\d) Questions", line)
        if m:
            section = m.group(1)
            continue
        if section is None:
            continue
        if re.fullmatch(r"[A-Z][A-Za-z]*(?: [A-Za-z]+){2,}", line) and count[line] == 1:
            heading, parts = f"{section} {line}", 0
            out.append(heading)
            continue
        part = re.fullmatch(r"\d\) Part (\d)", line)
        if part and heading:
            if parts == 0:
                out.remove(heading)  # a heading in parts is answered part by part
            parts += 1
            out.append(f"{heading} — Part {part.group(1)}")
    return out


def numbered_003(text: str) -> list[str]:
    return re.findall(r"^(ICE #\d+|Breakouts Time #?\d+)\b", text, re.M)


def numbered_004(text: str) -> list[str]:
    return re.findall(r"^\*\*(Q?\.?\d+(?:\.\d+)*):", text, re.M)


PARSERS = {
    "000": numbered_000,
    "001": numbered_001,
    "002": numbered_002,
    "003": numbered_003,
    "004": numbered_004,
}


def problems(seed: str, text: str, its: list[Item]) -> list[str]:
    """What is wrong with `its` as the list of the seed's items: [] when every item the
    document numbers is there, once, in the document's order."""
    numbered = PARSERS[seed](text)
    labels = [it.label for it in its]
    if seed == "003":  # the lecture numbers only its exercises; its topics are headings
        pattern = re.compile(r"ICE #\d+|Breakouts Time #?\d+")
        out = []
        if [lb for lb in labels if pattern.fullmatch(lb)] != numbered:
            out.append(f"exercises {[lb for lb in labels if pattern.fullmatch(lb)]} != {numbered}")
        lines = [line.strip() for line in text.splitlines()]
        at = -1
        for lb in labels:
            where = [i for i, line in enumerate(lines) if line.startswith(lb) and i > at]
            if not where:
                out.append(f"'{lb}' is not a line of the lecture after the previous item")
                continue
            at = where[0]
        return out
    missing = [n for n in numbered if n not in labels]
    extra = [lb for lb in labels if lb not in numbered]
    out = [f"missing {missing}"] if missing else []
    out += [f"not in the document {extra}"] if extra else []
    if not out and labels != numbered:
        out.append(f"order {labels} != the document's {numbered}")
    return out


# ---- completeness -----------------------------------------------------------------------


def test_parsers_find_the_documents_items(seed_texts):
    """The parsers find what a reader counts, so an empty parse cannot pass by accident."""
    assert numbered_000(seed_texts["000"]) == ["3A", "3B", "3C"]
    assert len(numbered_001(seed_texts["001"])) == 18
    assert numbered_001(seed_texts["001"])[-1] == "Bonus 1"
    assert len(numbered_002(seed_texts["002"])) == 9
    assert numbered_003(seed_texts["003"]) == [
        "ICE #1",
        "ICE #2",
        "ICE #3",
        "ICE #4",
        "ICE #5",
        "Breakouts Time 1",
        "Breakouts Time #2",
    ]
    found = numbered_004(seed_texts["004"])
    assert len(found) == 34 and found[0] == "Q1.1" and found[-1] == "Q6.3"


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_every_numbered_item_is_listed_in_order(seed_texts, seed):
    assert problems(seed, seed_texts[seed], items(seed)) == []


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_a_missing_item_is_caught(seed_texts, seed):
    its = items(seed)
    numbered = [it for it in its if it.label in PARSERS[seed](seed_texts[seed])]
    planted = [it for it in its if it is not numbered[len(numbered) // 2]]
    assert problems(seed, seed_texts[seed], planted) != []


# ---- the items themselves ---------------------------------------------------------------


def test_items_name_real_experiments_settings_and_fields():
    from nnlab.experiments import registry

    experiments = registry()
    keys = set()
    for it in items():
        key = (it.seed, it.label)
        assert key not in keys, f"{key} twice"
        keys.add(key)
        if it.kind == "absent":
            assert it.reason and not it.experiment
            continue
        if it.kind == "reasoned":
            assert it.reasoned and not it.command
            continue
        if not it.experiment:
            assert it.command.startswith("nnlab ")
            continue
        assert it.experiment in experiments, it
        cfg = experiments[it.experiment].make_config(it.preset, dict(it.settings)).to_dict()
        for k, v in it.settings.items():
            assert json.loads(json.dumps(cfg[k])) == json.loads(json.dumps(v)), (it.number, k)
        fields = [f for _, f, _, _ in string.Formatter().parse(it.answer) if f]
        assert fields, f"{it.seed} {it.label}: an answer with no value from the run"


def test_the_seed_numbers_the_review_names_are_stated():
    """The document's own numbers (accuracies, PSNR, parameters) stand beside the answers."""
    by = {(it.seed, it.number): it for it in items()}
    assert "77.4%" in by["004", "Q3.1"].document and "78.3%" in by["004", "Q3.1"].document
    assert "14.55" in by["004", "Q5.3.2"].document
    assert "84.5%" in by["004", "Q6.1.2"].document
    assert "10,690,625" in by["000", "3B"].document
    assert "48.85" in by["000", "3A"].document and "0.481" in by["000", "3A"].document
    assert "0.0372" in by["000", "3C"].document


# ---- runs -------------------------------------------------------------------------------


def write_run(
    root: Path,
    experiment: str,
    name: str,
    settings: dict,
    summary: dict | None,
    state: str = "completed",
    finished: str = "",
) -> Path:
    run = root / experiment / name
    run.mkdir(parents=True)
    preset = name.rsplit("-", 1)[-1]
    config = {
        "experiment": experiment,
        "preset": preset,
        "config": settings,
        "versions": {"nnlab": "0.1.0"},
        "created": finished or "2026-01-01T00:00:00+00:00",
    }
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    status = {"state": state}
    if finished:
        status["finished"] = finished
    (run / "status.json").write_text(json.dumps(status), encoding="utf-8")
    if summary is not None:
        (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return run


def _item(seed: str, number: str) -> Item:
    return next(it for it in items(seed) if it.number == number)


def test_the_answer_comes_from_the_latest_completed_matching_run(tmp_path):
    p42 = _item("001", "P4.2")  # cnn-mnist on MNIST
    summary = {
        "test_accuracy": 0.9,
        "epochs": 5,
        "first_layer_filters": [40, 1, 5, 5],
        "most_confused": [{"true": "4", "predicted": "9", "count": 7}],
    }
    write_run(
        tmp_path,
        "cnn-mnist",
        "20260101-000000-quick",
        {"dataset": "mnist"},
        summary,
        finished="2026-01-01T00:10:00+00:00",
    )
    newer = write_run(
        tmp_path,
        "cnn-mnist",
        "20260102-000000-smoke",
        {"dataset": "mnist"},
        {**summary, "test_accuracy": 0.9876},
        finished="2026-01-02T00:10:00+00:00",
    )
    # later, but on other data, unfinished, or unreadable: none of them answers P4.2
    write_run(
        tmp_path,
        "cnn-mnist",
        "20260103-000000-smoke",
        {"dataset": "digits"},
        {**summary, "test_accuracy": 0.5},
        finished="2026-01-03T00:10:00+00:00",
    )
    write_run(
        tmp_path,
        "cnn-mnist",
        "20260104-000000-full",
        {"dataset": "mnist"},
        None,
        state="failed",
        finished="2026-01-04T00:10:00+00:00",
    )
    broken = write_run(
        tmp_path,
        "cnn-mnist",
        "20260105-000000-full",
        {"dataset": "mnist"},
        summary,
        finished="2026-01-05T00:10:00+00:00",
    )
    (broken / "summary.json").write_text("{not json", encoding="utf-8")

    found = latest_run(p42, tmp_path)
    assert found is not None and found.run_dir == newer and found.preset == "smoke"

    text = render("001", tmp_path)
    block = text.split("P4.2")[1].split("\n\n")[0]
    assert "test accuracy 98.76% after 5 epochs" in block
    assert "true 4 read as 9 (7 times)" in block
    assert "(smoke run 20260102-000000-smoke)" in block
    # P4.1 takes any cnn-mnist run; the digits one is the latest, its values are missing: "?"
    assert "(a) ?x?" in text.split("P4.1")[1]
    # an item with no run says so, with its command
    p51 = _item("001", "P5.1")
    assert p51.run_command == "nnlab run ae-identity --preset quick --set dataset=mnist"
    assert f"not run yet — {p51.run_command}" in text.split("P5.1")[1].split("\n\n")[0].replace(
        "\n" + " " * 16, " "
    )


def test_every_line_fits_and_nothing_is_left_out(tmp_path):
    long = "x" * 400 + "\x1b[31m"
    write_run(tmp_path, "fundamentals", "20260101-000000-smoke", {}, {"softmax_shift_error": long})
    for seed in SEEDS:
        text = render(seed, tmp_path)
        assert all(len(line) <= 100 for line in text.splitlines())
        assert "\x1b" not in text
        for it in items(seed):
            assert it.title.split()[0] in text
        n_absent = sum(it.kind == "absent" for it in items(seed))
        assert text.count("not answered — ") == n_absent
        n_reasoned = sum(bool(it.reasoned) for it in items(seed))
        assert text.count("in words, not measured — ") == n_reasoned


def test_quiz_answers_in_words_are_marked_as_not_measured(tmp_path):
    from nnlab.course import Item, render_item

    quiz = {it.number: it for it in items("003") if it.number in ("ICE #3", "ICE #4", "ICE #5")}
    assert quiz["ICE #3"].kind == quiz["ICE #5"].kind == "reasoned"
    assert quiz["ICE #4"].kind == "run"  # statements 1-2 measured, 3-4 in words beside them
    text = render("003", tmp_path)
    assert "answered in words" in text.splitlines()[1]
    ice5 = "\n".join(render_item(quiz["ICE #5"], tmp_path)).replace("\n" + " " * 16, " ")
    assert "command:    none" in ice5 and "answer:     in words, not measured — ① the" in ice5
    assert "not answered" not in ice5
    with pytest.raises(ValueError, match="a reason and a reasoned answer"):
        Item("003", "x", "t", reason="r", reasoned="w")


def test_not_run_yet_everywhere_without_runs(tmp_path, capsys):
    assert main(["course", "004", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("not run yet — nnlab run ") == sum(1 for it in items("004") if it.experiment)
    assert "needs:" in out and "nnlab data fetch cifar10" in out


def test_bad_seed_and_runs_are_one_line_errors(tmp_path, capsys):
    assert main(["course", "009", "--runs", str(tmp_path)]) == 2
    assert "unknown seed '009'" in capsys.readouterr().err
    assert main(["course", "--runs", str(tmp_path / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_course_imports_neither_torch_nor_matplotlib(tmp_path):
    code = (
        "import sys\nfrom nnlab.cli import main\n"
        f"main(['course', '--runs', {str(tmp_path)!r}])\n"
        "bad = [m for m in ('torch', 'matplotlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "seed 000" in done.stdout and "seed 004" in done.stdout
