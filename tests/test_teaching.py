"""Every experiment teaches: a question with its seed or paper, an answer filled from the run's
own summary, what to look for in the figures it saves, and commands to try next that run.

Tests cannot read a finished run of every experiment, so an answer's placeholders are checked
against the summary keys the experiment's module can produce, read from its source: a key is a
string constant or keyword name there, or fits one of its f-strings (`f"{name}_frechet"`) with
each `{...}` standing for one of the module's own words or a number. The NumPy-only
experiments whose keys are built at run time are run (smoke preset, a second or two) and
their answers checked against the real summary.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import re
import shlex
import string
from pathlib import Path

import pytest

import nnlab
from nnlab.cli import build_parser, main
from nnlab.experiments import Experiment, Teaching, registry

EXPERIMENTS = registry()
NAMES = list(EXPERIMENTS)
SOURCE_NAMED = re.compile(r"\b(seed 00[0-4]|MLDS|et al\.|UFLDL|nanoGPT|char-rnn|\d{4})", re.I)

RUN_FOR_KEYS = ("perceptron", "backprop-by-hand", "gradient-descent-1d")
"""Cheap experiments (NumPy, no training worth the name) checked against a real smoke run."""


def module_source(exp: Experiment) -> str:
    return inspect.getsource(importlib.import_module(exp.run.__module__))


def imported_sources(source: str, package: str = "nnlab", depth: int = 2) -> list[str]:
    """The source of every nnlab module that `source` imports from (read, not imported), and of
    the modules those import from, `depth` levels deep (a package re-exports its modules)."""
    root = Path(nnlab.__file__).parent
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:  # relative: from .figures import ...
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        if not module.startswith("nnlab."):
            continue
        path = root.joinpath(*module.split(".")[1:])
        for file, pkg in (
            (path.with_suffix(".py"), module.rpartition(".")[0]),
            (path / "__init__.py", module),
        ):
            if file.is_file():
                text = file.read_text(encoding="utf-8")
                out.append(text)
                if depth > 1:
                    out += imported_sources(text, pkg, depth - 1)
    return out


@functools.cache
def key_matcher(name: str):
    """A test `key -> bool`: whether the experiment's module (or a library module it imports
    from, which may build part of the summary) can put `key` in a summary."""
    source = module_source(EXPERIMENTS[name])
    words, fstrings = set(), []
    for text in (source, *imported_sources(source)):
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.add(node.value)
            elif isinstance(node, ast.keyword) and node.arg:
                words.add(node.arg)
            elif isinstance(node, ast.JoinedStr):
                fstrings.append(node)
    vocabulary = {w for w in words if re.fullmatch(r"[\w-]+", w)}
    shapes = {
        tuple(v.value if isinstance(v, ast.Constant) else None for v in node.values)
        for node in fstrings
    }

    def is_slot(text: str) -> bool:  # one of the module's words, maybe numbered, or a number
        return text.isdigit() or text in vocabulary or text.rstrip("0123456789") in vocabulary

    def fits(key: str, parts: tuple) -> bool:
        if not parts:
            return not key
        head, rest = parts[0], parts[1:]
        if head is not None:
            return key.startswith(head) and fits(key[len(head) :], rest)
        return any(is_slot(key[:i]) and fits(key[i:], rest) for i in range(1, len(key) + 1))

    return lambda key: key in words or any(fits(key, shape) for shape in shapes)


def placeholders(template: str) -> list[tuple[str, list[str]]]:
    """(root key, [index, ...]) of every replacement field: `{a[b][0]:.1%}` -> ("a", ["b", "0"])."""
    out = []
    for _, field, _, _ in string.Formatter().parse(template):
        if field is None:
            continue
        root = re.match(r"[^.\[]*", field).group(0)
        out.append((root, re.findall(r"\[([^\]]*)\]", field)))
    return out


def saved_figures(exp: Experiment) -> tuple[set[str], list[re.Pattern]]:
    """Names passed to `run.figure(...)` in the module and in the nnlab modules it imports (a
    library helper such as `report_classifier` saves the figures it draws): literal ones, and
    f-string ones as patterns (`f"samples_{name}"` -> `samples_.+`)."""
    source = module_source(exp)
    names, patterns = set(), []
    nodes = [
        n
        for text in (source, *imported_sources(source, depth=1))
        for n in ast.walk(ast.parse(text))
    ]
    for node in nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "figure"
            and node.args
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.add(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                parts = [
                    re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in arg.values
                ]
                patterns.append(re.compile("".join(parts)))
    return names, patterns


@pytest.mark.parametrize("name", NAMES)
def test_every_experiment_teaches_a_question_from_a_seed_or_paper(name):
    t = EXPERIMENTS[name].teaching
    assert isinstance(t, Teaching), f"{name} has no teaching"
    assert t.question.strip().endswith("?"), t.question
    assert SOURCE_NAMED.search(t.question), f"{name}: the question names no seed or paper"
    assert placeholders(t.answer) and len(t.answer) <= 700, f"{name}: an answer is 1-3 sentences"


@pytest.mark.parametrize("name", NAMES)
def test_try_next_commands_run_with_valid_settings(name):
    t = EXPERIMENTS[name].teaching
    assert 2 <= len(t.try_next) <= 3, name
    for command, shows in t.try_next:
        assert shows.strip(), command
        words = shlex.split(command)
        assert words[:2] == ["nnlab", "run"], command
        args = build_parser().parse_args(words[1:])
        assert args.experiment in EXPERIMENTS, command
        exp = EXPERIMENTS[args.experiment]
        fields = {f for f in exp.config.__dataclass_fields__}
        for pair in args.overrides:
            assert pair.partition("=")[0] in fields, f"{command}: no setting {pair!r}"
        exp.make_config(args.preset, args.overrides)  # raises ConfigError on a bad value


@pytest.mark.parametrize("name", NAMES)
def test_figures_named_are_figures_the_module_saves(name):
    exp = EXPERIMENTS[name]
    names, patterns = saved_figures(exp)
    assert exp.teaching.figures, name
    for figure, what in exp.teaching.figures.items():
        assert what.strip(), figure
        assert figure in names or any(p.fullmatch(figure) for p in patterns), (
            f"{name}: teaching describes figure {figure!r}, which the module never saves "
            f"(it saves {sorted(names)})"
        )
    if exp.key_figure is not None:
        assert exp.key_figure in names or any(p.fullmatch(exp.key_figure) for p in patterns)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in RUN_FOR_KEYS])
def test_answer_placeholders_are_keys_the_module_writes(name):
    matches = key_matcher(name)
    for root, indexes in placeholders(EXPERIMENTS[name].teaching.answer):
        assert matches(root), f"{name}: the answer's {{{root}}} is no summary key of its module"
        for index in indexes:
            assert index.isdigit() or matches(index), f"{name}: no key {index!r} under {root}"


def test_a_wrong_placeholder_is_caught():
    matches = key_matcher("ddpm")
    assert matches("ddim10_frechet") and matches("final_epoch_loss")
    assert not matches("final_epoch_los") and not matches("ddim10_frechett")
    matches = key_matcher("autoencoder-study")
    assert matches("skip-denoise_test_mse") and not matches("skip_test_mae")


@pytest.mark.parametrize("name", RUN_FOR_KEYS)
def test_answer_fills_from_a_real_smoke_summary(name, tmp_path):
    assert main(["run", name, "--preset", "smoke", "--quiet", "--out", str(tmp_path)]) == 0
    (summary_file,) = Path(tmp_path).glob(f"{name}/*/summary.json")
    summary = json.loads(summary_file.read_text())
    for field in {
        f for _, f, _, _ in string.Formatter().parse(EXPERIMENTS[name].teaching.answer) if f
    }:
        value = string.Formatter().get_field(field, (), summary)[0]  # KeyError: a wrong key
        assert value is not None, field
    answer = EXPERIMENTS[name].teaching.answer_for(summary)
    assert "?" not in answer, answer
    (figures,) = Path(tmp_path).glob(f"{name}/*/figures")
    saved = {p.stem for p in figures.iterdir()}
    assert set(EXPERIMENTS[name].teaching.figures) <= saved


def test_answer_for_is_lenient_and_formats_nested_values():
    t = Teaching("q?", "{a:.1%} of {b[c]} and {missing:.2f} and {a[0]}")
    assert t.answer_for({"a": 0.25, "b": {"c": "x"}}) == "25.0% of x and ? and ?"
    assert t.answer_for(None) == "? of ? and ? and ?"
