import base64
import dataclasses
import functools
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from figcheck import check_figure
from nnlab.config import ExperimentConfig
from nnlab.errors import UserError
from nnlab.experiments import Experiment, Reference, registry
from nnlab.report.render import format_delta, format_value, render_index, render_run
from nnlab.runs.runner import execute
from nnlab.viz import confusion_matrix_figure, figure_to_png, image_grid

CAPTION = "Confusion matrix on the test set <10 classes> & friends"


@functools.cache
def experiment_pngs() -> dict[str, bytes]:
    """Two figures as an experiment would save them; drawn once, they are slow-ish."""
    cm = np.array([[9, 1], [2, 8]])
    tiles = np.eye(4)[:, None, :] * np.ones((4, 4, 4))
    return {
        "confusion.png": figure_to_png(confusion_matrix_figure(cm, ["a", "b"]), dpi=40),
        "weights.png": figure_to_png(image_grid(tiles, title="tiles"), dpi=40),  # no caption
    }


def make_run(
    root: Path,
    name: str = "20240101-120000-smoke",
    experiment: str = "mlp",
    accuracy: float | None = 0.9731,
    created: str = "2024-01-01T12:00:00",
    state: str = "completed",
    summary: dict | None = None,
    preset: str = "smoke",
    **config_fields,
) -> Path:
    run = root / experiment / name
    (run / "figures").mkdir(parents=True)
    config = {
        "experiment": experiment,
        "description": "An MLP on scikit-learn digits",
        "preset": preset,
        "seed": 7,
        "device": "cpu",
        "config": {
            "hidden_sizes": [64, 32],
            "learning_rate": 0.05,
            "epochs": 3,
            "optimizer": "sgd",
        },
        "headline": {"metric": "test_accuracy", "mode": "max"},
        "versions": {"python": "3.11.2", "numpy": "2.0.0", "torch": "2.3.0", "nnlab": "0.1.0"},
        "git_commit": "abc1234",
        "created": created,
        **config_fields,
    }
    (run / "config.json").write_text(json.dumps(config))
    lines = [
        {
            "step": s,
            "train_loss": 2.3 / (s + 1),
            "test_loss": 2.4 / (s + 1),
            "test_accuracy": 0.3 * s,
        }
        for s in range(4)
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    status = {"state": state, "started": created, "elapsed_seconds": 83.4, "resumes": 0}
    if state == "failed":
        status["error"] = "RuntimeError: loss is NaN"
    (run / "status.json").write_text(json.dumps(status))
    if accuracy is not None:
        summary = {
            "test_accuracy": accuracy,
            "test_loss": 0.0812,
            "per_class": [0.9, 0.95, 1.0],
            **(summary or {}),
        }
        (run / "summary.json").write_text(json.dumps(summary))
    for file, png in experiment_pngs().items():
        (run / "figures" / file).write_bytes(png)
    (run / "figures" / "captions.json").write_text(json.dumps({"confusion.png": CAPTION}))
    return run


def parse(html: str) -> None:
    class Strict(HTMLParser):
        def error(self, message):  # pragma: no cover
            raise AssertionError(message)

    p = Strict()
    p.feed(html)
    p.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path]:
    """A run directory and its rendered report.html (tests must not modify them)."""
    run = make_run(tmp_path_factory.mktemp("runs"))
    return run, render_run(run)


def test_render_run_html(rendered):
    run, path = rendered
    assert path == run / "report.html"
    html = path.read_text()
    parse(html)
    assert "0.9731" in html and "test_accuracy" in html
    assert "Confusion matrix on the test set &lt;10 classes&gt; &amp; friends" in html  # escaped
    assert "<figcaption>weights</figcaption>" in html
    assert html.count("data:image/png;base64,") == 2 + 1  # two figures + learning curves
    for key in ("hidden_sizes", "learning_rate", "epochs", "optimizer"):
        assert key in html
    assert "[64, 32]" in html and "abc1234" in html and "1 min 23 s" in html
    assert "completed" in html and "smoke" in html
    # the curves figure was saved beside the experiment's figures, for the Markdown report:
    # loss and accuracy; its caption is the report's, not in captions.json
    check_figure(
        run / "figures" / "learning_curves.png", min_size=(600, 230), panels=(1, 2), caption=False
    )


def test_render_run_markdown_links_existing_files(rendered):
    run, _ = rendered
    md = (run / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert sorted(links) == [
        "figures/confusion.png",
        "figures/learning_curves.png",
        "figures/weights.png",
    ]
    assert all((run / link).is_file() for link in links)
    assert "0.9731" in md and CAPTION in md and "| learning_rate | 0.05 |" in md


def test_rerender_redraws_curves_but_keeps_an_experiment_figure_of_that_name(tmp_path):
    run = make_run(tmp_path)
    render_run(run)
    html = render_run(run).read_text()  # the generated curves: not an experiment figure
    assert html.count("data:image/png;base64,") == 3
    assert "<h2>Learning curves</h2>" in html and "<figcaption>learning_curves<" not in html

    other = make_run(tmp_path, name="b")
    own = other / "figures" / "learning_curves.png"
    own.write_bytes(experiment_pngs()["weights.png"])
    before = own.read_bytes()
    html = render_run(other).read_text()
    assert own.read_bytes() == before
    assert html.count("data:image/png;base64,") == 3  # confusion, weights, the experiment's own
    assert "<h2>Learning curves</h2>" not in html and "<figcaption>learning_curves<" in html


def test_failed_run_without_summary_or_metrics(tmp_path):
    run = make_run(tmp_path, accuracy=None, state="failed")
    (run / "metrics.jsonl").unlink()
    html = render_run(run).read_text()
    parse(html)
    assert "failed" in html and "RuntimeError: loss is NaN" in html
    assert "No summary.json" in html
    assert html.count("data:image/png;base64,") == 2  # no metrics: no curves


def test_running_run_shows_last_logged_headline_and_ignores_a_torn_line(tmp_path):
    run = make_run(tmp_path, accuracy=None, state="running")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 4, "test_acc')  # the writer was killed mid-line
    html = render_run(run).read_text()
    assert "0.9" in html and "last logged" in html


def test_not_a_run_dir_and_corrupt_json(tmp_path):
    with pytest.raises(UserError, match="not a run directory.*no config.json"):
        render_run(tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        render_run(tmp_path / "nope")
    run = make_run(tmp_path)
    (run / "summary.json").write_text('{"test_accuracy": 0.9')
    with pytest.raises(UserError, match=r"summary\.json: corrupt JSON"):
        render_run(run)
    (run / "summary.json").unlink()
    (run / "metrics.jsonl").write_text('{"step": 0}\nnot json\n{"step": 2}\n')
    with pytest.raises(UserError, match=r"metrics\.jsonl: line 2"):
        render_run(run)
    assert not (run / "report.html").exists()  # nothing half-written


def test_render_index(tmp_path):
    a = make_run(tmp_path, "20240102-000000-smoke", accuracy=0.9731, created="2024-01-02T00:00:00")
    b = make_run(tmp_path, "20240101-000000-quick", accuracy=0.8123, created="2024-01-01T00:00:00")
    c = make_run(tmp_path, "20240103-000000-smoke", experiment="gpt", accuracy=0.5)
    render_run(a)
    path = render_index(tmp_path)
    assert path == tmp_path / "index.html"
    html = path.read_text()
    parse(html)
    table = html[html.index("<h2>All runs</h2>") :]
    links = re.findall(r'<a href="([^"]+)"', table)
    assert links == [  # grouped by experiment (gpt, mlp), then oldest first
        "gpt/20240103-000000-smoke/report.html",
        "mlp/20240101-000000-quick/report.html",
        "mlp/20240102-000000-smoke/report.html",
    ]
    assert all((tmp_path / link).is_file() for link in links)  # missing reports were rendered
    assert {c / "report.html", b / "report.html"} <= set(tmp_path.rglob("report.html"))
    for value in ("0.9731", "0.8123", "0.5"):
        assert value in html
    best = re.findall(r'<tr class="(?:group )?best">.*?</tr>', table)  # mlp: 0.9731
    assert len(best) == 1 and "0.9731" in best[0]
    md = (tmp_path / "index.md").read_text()
    assert "(mlp/20240101-000000-quick/report.md)" in md and "**0.9731**" in md
    assert all((tmp_path / link).is_file() for link in re.findall(r"\]\(([^)]+)\)", md))


def test_render_index_lists_a_broken_run_and_rejects_a_file(tmp_path):
    make_run(tmp_path)
    broken = make_run(tmp_path, name="broken")
    (broken / "config.json").write_text("{")
    html = render_index(tmp_path).read_text()
    assert "config.json: corrupt JSON" in html and "mlp/20240101-120000-smoke/report.html" in html
    with pytest.raises(UserError, match="not a directory"):
        render_index(tmp_path / "index.html")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.97314, "0.9731"),
        (12345.678, "12346"),
        (1.5e-6, "1.500e-06"),
        (0.00056234, "0.0005623"),
        (-0.020000000000000018, "-0.02"),
        (0.0, "0"),
        (3, "3"),
        (True, "True"),
        (None, "—"),
        ([1, 2.5], "[1, 2.5]"),
        (list(range(10)), "[0, 1, 2, 3, 4, 5, 6, 7, … (10 items)]"),
        ({"a": 0.5}, "{a: 0.5}"),
    ],
)
def test_format_value(value, shown):
    assert format_value(value) == shown


# --------------------------------------------------------------------------- summary tables

NESTED = {
    "sweep": [
        {"lr": 0.1, "network": "tuned", "val_accuracy": 0.18055555555555555},
        {"lr": 1.0, "network": "x10", "val_accuracy": 0.0833333, "diverged": True},
    ],
    "trials": [
        {"params": {"lr": 0.00056234, "width": 27}, "sampler": "grid", "value": 0.9},
        {"params": {"lr": 0.01}, "sampler": "tpe", "value": 0.95},
    ],
    "per_class_accuracy": {"0": 1.0, "1": 0.956522},
    "gradients": {"w1": {"backprop": 0.0022683504536545706, "numeric": 0.00226835045}},
    "confusion_matrix": [[45, 1], [2, 40]],
    "grad_norms": [0.5 / 2**i for i in range(40)],
    "verdict": "early stopping wins | by 4.1 points",
}


class Tables(HTMLParser):
    """Every <table> of a page as (header cells, body rows of cells), text only."""

    def __init__(self):
        super().__init__()
        self.tables, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self.tables[-1].append(self._row)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_tables(html: str) -> list[list[list[str]]]:
    p = Tables()
    p.feed(html)
    return p.tables


def table_with_header(html: str, header: list[str]) -> list[list[str]]:
    found = [t for t in html_tables(html) if t and t[0] == header]
    assert len(found) == 1, f"no single table with header {header}"
    return found[0][1:]


def md_tables(md: str) -> list[list[list[str]]]:
    """Markdown tables (runs of lines starting with |), each row split on unescaped pipes."""
    tables, current = [], []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            assert line.rstrip().endswith("|") and not line.rstrip().endswith("\\|"), line
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif current:
            tables.append(current)
            current = []
    return tables


def assert_valid_md_tables(md: str) -> list[list[list[str]]]:
    tables = md_tables(md)
    assert tables
    for t in tables:
        assert len(t) >= 2 and all(re.fullmatch(r":?-{3,}:?", c) for c in t[1]), t[:2]
        assert {len(row) for row in t} == {len(t[0])}, t
    return tables


@pytest.fixture(scope="module")
def nested(tmp_path_factory) -> Path:
    run = make_run(
        tmp_path_factory.mktemp("runs"),
        accuracy=0.7851234,
        summary=NESTED,
        reference={"value": 0.774, "source": "64-unit network in the course (seed 004 Q3)"},
        reproduces="seed 004 Q3 (NIST36 classifier from scratch)",
        preset="full",
    )
    render_run(run)
    return run


def test_list_of_records_is_a_table_with_the_union_of_keys_and_rounded_cells(nested):
    html = (nested / "report.html").read_text()
    parse(html)
    # `network` (distinct short strings) names the rows, so it comes first
    rows = table_with_header(html, ["network", "lr", "val_accuracy", "diverged"])
    assert rows == [["tuned", "0.1", "0.1806", ""], ["x10", "1", "0.08333", "True"]]
    assert '<th class="row">tuned</th><td class="num">0.1</td>' in html
    # a dict of scalars inside a record spreads into columns
    rows = table_with_header(html, ["sampler", "params.lr", "params.width", "value"])
    assert rows == [["grid", "0.0005623", "27", "0.9"], ["tpe", "0.01", "", "0.95"]]
    assert "<th>params.<wbr>lr</th>" in html
    assert "<h3>sweep<small>2 rows</small></h3>" in html
    assert "'network'" not in html and "{lr:" not in html  # no Python-like dump left


def test_dicts_matrices_and_lists_in_the_summary(nested):
    html = (nested / "report.html").read_text()
    assert table_with_header(html, ["name", "value"]) == [["0", "1"], ["1", "0.9565"]]
    assert table_with_header(html, ["name", "backprop", "numeric"]) == [
        ["w1", "0.002268", "0.002268"]
    ]
    assert table_with_header(html, ["", "0", "1"]) == [["0", "45", "1"], ["1", "2", "40"]]
    scalars = dict(table_with_header(html, ["metric", "value"]))
    assert scalars["test_accuracy"] == "0.7851" and scalars["test_loss"] == "0.0812"
    assert scalars["per_class"] == "[0.9, 0.95, 1]"
    shown = scalars["grad_norms"]  # 40 numbers: the first 30, rounded, and the count
    assert shown.startswith("[0.5, 0.25, 0.125, 0.0625, 0.03125, 0.01562,")
    assert shown.endswith("… (40 items)]") and shown.count(",") == 30
    assert scalars["verdict"] == "early stopping wins | by 4.1 points"


def test_reference_stands_beside_the_headline(nested):
    html = (nested / "report.html").read_text()
    box = html[html.index('<div class="headline">') : html.index("<h2>Summary</h2>")]
    assert '<div class="value">0.7851</div>' in box
    assert "reference <b>0.774</b>: 64-unit network in the course (seed 004 Q3)" in box
    assert "+0.01112 from the reference" in box and "not comparable" not in box
    assert "<b>Reproduces:</b> seed 004 Q3 (NIST36 classifier from scratch)" in html
    md = (nested / "report.md").read_text()
    quote_lines = [line for line in md.splitlines() if line.startswith(">")]
    assert quote_lines == [
        "> **test_accuracy** (higher is better): **0.7851** — reference **0.774**: "
        "64-unit network in the course (seed 004 Q3) "
        "(+0.01112)",
        ">",
        "> early stopping wins | by 4.1 points",
    ]


def test_a_run_unlike_the_reference_says_so_and_what_to_run_instead(tmp_path):
    ref = {"value": 0.774, "source": "the course", "data": "chars36", "preset": "full"}
    smoke = make_run(tmp_path, accuracy=0.5, reference=ref, config={"dataset": "digits"})
    html = render_run(smoke).read_text()
    box = html[html.index('<div class="headline">') : html.index("<h2>Summary</h2>")]
    assert "from the reference" not in box  # no difference against an unlike run
    assert (
        "not comparable: this smoke run on digits; the reference is for the full preset on "
        "chars36 (`nnlab run mlp --preset full --set dataset=chars36`)"
    ) in box


def test_the_verdict_stands_under_the_headline(nested):
    html = (nested / "report.html").read_text()
    box = html[html.index('<div class="headline">') : html.index("<h2>Summary</h2>")]
    assert '<div class="verdict">early stopping wins | by 4.1 points</div>' in box


def test_no_reference_no_reference_text(rendered):
    run, path = rendered
    html = path.read_text()
    assert "reference" not in html[html.index("<body>") : html.index("<h2>Summary</h2>")]


def test_run_markdown_tables_are_valid_and_match_the_html(nested):
    md = (nested / "report.md").read_text()
    tables = assert_valid_md_tables(md)
    headers = [t[0] for t in tables]
    sweep = tables[headers.index(["network", "lr", "val_accuracy", "diverged"])]
    assert sweep[1] == ["---", "---:", "---:", "---"]  # numbers right-aligned
    assert sweep[2:] == [["tuned", "0.1", "0.1806", ""], ["x10", "1", "0.08333", "True"]]
    scalars = dict(tables[headers.index(["metric", "value"])][2:])
    assert scalars["verdict"] == "early stopping wins \\| by 4.1 points"  # escaped pipe
    assert "**sweep** (2 rows)" in md


def test_many_records_are_cut_with_a_note(tmp_path):
    records = [{"i": i, "x": i / 7} for i in range(120)]
    run = make_run(tmp_path, summary={"trials": records})
    html = render_run(run).read_text()
    rows = table_with_header(html, ["i", "x"])
    assert len(rows) == 50 and rows[-1] == ["49", "7"] and rows[1] == ["1", "0.1429"]
    assert "first 50 of 120 rows; summary.json has them all" in html
    assert_valid_md_tables((run / "report.md").read_text())


def test_format_delta():
    assert [format_delta(x) for x in (0.0111, -0.59, 0, 3)] == ["+0.0111", "\u22120.59", "0", "+3"]


# --------------------------------------------------------------------------- the atlas


def cards(html: str) -> dict[str, str]:
    """Each atlas card's HTML by experiment name."""
    found = re.findall(r'<article class="card" id="([^"]+)">(.*?)</article>', html, re.S)
    return dict(found)


def test_atlas_has_one_card_per_experiment_with_thumbnail_and_report_link(tmp_path):
    ref = {"value": 0.774, "source": "64-unit network in the course"}
    make_run(tmp_path, "20240101-000000-smoke", accuracy=0.61, created="2024-01-01T00:00:00")
    make_run(tmp_path, "20240103-000000-smoke", accuracy=0.62, created="2024-01-03T00:00:00")
    quick = make_run(
        tmp_path, "20240102-000000-quick", accuracy=0.7851, created="2024-01-02T00:00:00",
        preset="quick", reference=ref, key_figure="weights",
    )  # fmt: skip
    make_run(
        tmp_path, "20240104-000000-full", accuracy=None, created="2024-01-04T00:00:00",
        state="failed", preset="full",
    )  # fmt: skip
    make_run(tmp_path, "20240105-000000-smoke", experiment="gpt", accuracy=0.5)
    make_run(tmp_path, experiment="rnn", accuracy=None, state="running")
    html = render_index(tmp_path).read_text()
    parse(html)
    found = cards(html)
    assert list(found) == ["gpt", "mlp", "rnn"]
    # no completed run: the card shows the latest run as it is
    assert '<span class="value">0.9 (last logged)</span>' in found["rnn"]
    assert '<span class="state state-running">running</span>' in found["rnn"]
    mlp = found["mlp"]
    # the latest completed run of the fullest preset: quick (the full run failed)
    links = set(re.findall(r'<a [^>]*href="([^"]+)"', mlp))
    assert "mlp/20240102-000000-quick/report.html" in links
    assert all((tmp_path / link).is_file() for link in links)
    thumbs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', mlp)
    assert len(thumbs) == 1
    png = base64.b64decode(thumbs[0])
    with Image.open(io.BytesIO(png)) as im:  # the declared key figure, downscaled
        assert im.width <= 400 and im.height <= 250
    assert 'alt="weights"' in mlp  # weights.png has no caption: its stem
    assert '<span class="value">0.7851</span>' in mlp
    assert "vs reference" not in mlp and "64-unit network in the course" in mlp
    assert "not comparable: this quick run" in mlp  # the reference is the full preset's
    others = re.findall(r'<li><a href="([^"]+)"', mlp)  # the other runs, newest first
    assert others == [
        "mlp/20240104-000000-full/report.html",
        "mlp/20240103-000000-smoke/report.html",
        "mlp/20240101-000000-smoke/report.html",
    ]
    # gpt declares no key figure: its first figure by file name
    assert 'alt="Confusion matrix on the test set &lt;10 classes&gt; &amp; friends"' in found["gpt"]
    assert "reference" not in found["gpt"]
    md = (tmp_path / "index.md").read_text()
    tables = assert_valid_md_tables(md)
    atlas = tables[0]
    assert atlas[0] == ["figure", "experiment", "headline", "reference", "run"]
    assert len(atlas) == 2 + 3
    assert "**0.774** 64-unit network in the course" in atlas[3][3]
    assert 'src="mlp/20240102-000000-quick/figures/weights.png"' in atlas[3][0]
    for target in re.findall(r'(?:\]\(|src=")([^)"]+)', md):
        assert (tmp_path / target).is_file(), target
    assert quick.name in atlas[3][4] and "+ 3 other runs" in atlas[3][4]


# --------------------------------------------------------------------------- declarations


@dataclasses.dataclass
class TinyConfig(ExperimentConfig):
    steps: int = 3


def tiny_run(cfg: TinyConfig, run) -> dict:
    for step in range(cfg.steps):
        run.log(step, train_loss=1.0 / (step + 1), val_accuracy=0.2 * step)
    for name, png in (("a_first", "confusion.png"), ("b_key", "weights.png")):
        run.figure(name, _Png(experiment_pngs()[png]), f"figure {name}")
    return {
        "val_accuracy": 0.78512345,
        "sweep": [{"lr": 0.1, "val_accuracy": 0.7851234}, {"lr": 1.0, "val_accuracy": 0.08333}],
    }


class _Png:
    """Stands in for a matplotlib Figure in `run.figure`: writes ready PNG bytes."""

    def __init__(self, png: bytes):
        self.png = png

    def savefig(self, buf, **_):
        buf.write(self.png)


def tiny_experiment(**declared) -> Experiment:
    return Experiment(
        name="tiny",
        description="a tiny fake experiment",
        reproduces="nothing in particular (test)",
        config=TinyConfig,
        presets={"smoke": {}, "quick": {}, "full": {"steps": 4}},
        run=tiny_run,
        headline="val_accuracy",
        **declared,
    )


def test_execute_records_the_declarations_and_the_atlas_uses_them(tmp_path):
    exp = tiny_experiment(
        reference=Reference(0.774, "64-unit network in the course (seed 004 Q3)"),
        key_figure="b_key",
    )
    run_dir = execute(exp, exp.make_config("smoke"), preset="smoke", seed=0, out=tmp_path)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["reference"] == {
        "value": 0.774,
        "source": "64-unit network in the course (seed 004 Q3)",
        "data": None,
        "preset": "full",
    }
    assert config["key_figure"] == "b_key"
    assert config["reproduces"] == "nothing in particular (test)"
    assert config["description"] == "a tiny fake experiment"
    html = (run_dir / "report.html").read_text()
    assert "0.7851" in html and "reference <b>0.774</b>: 64-unit network" in html
    assert table_with_header(html, ["lr", "val_accuracy"]) == [["0.1", "0.7851"], ["1", "0.08333"]]
    index = render_index(tmp_path).read_text()
    card = cards(index)["tiny"]
    assert 'alt="figure b_key"' in card  # the declared key figure, not the first one
    # without a declaration: the first figure by file name
    plain = tiny_experiment()
    execute(plain, plain.make_config("full"), preset="full", seed=0, out=tmp_path / "other")
    card = cards(render_index(tmp_path / "other").read_text())["tiny"]
    assert 'alt="figure a_first"' in card and "reference" not in card


def test_reference_must_be_declared_as_a_reference():
    with pytest.raises(TypeError, match="Reference"):
        tiny_experiment(reference=(0.774, "the course"))
    with pytest.raises(TypeError, match="number"):
        Reference("77.4%", "the course")
    with pytest.raises(TypeError, match="key_figure must be a figure name"):
        tiny_experiment(key_figure="figures/confusion.png")
    with pytest.raises(TypeError, match="where the number comes from"):
        Reference(0.774, "")


def test_real_experiment_run_renders_its_records_and_its_card(tmp_path):
    exp = registry()["mlp-classifier"]
    assert exp.reference is None and exp.key_figure is None  # declares none
    run_dir = execute(exp, exp.make_config("smoke"), preset="smoke", seed=0, out=tmp_path)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["reference"] is None and config["key_figure"] is None
    assert config["reproduces"] == exp.reproduces
    html = (run_dir / "report.html").read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    (table,) = [
        t for t in html_tables(html) if sorted(t[0]) == ["count", "predicted", "rate", "true"]
    ]
    header, rows = table[0], table[1:]
    first = dict(zip(header, rows[0], strict=True))
    expected = summary["most_confused"][0]
    assert first == {
        "count": str(expected["count"]),
        "predicted": expected["predicted"],
        "rate": f"{expected['rate']:.4g}",
        "true": expected["true"],
    }
    assert len(rows) == len(summary["most_confused"])
    card = cards(render_index(tmp_path).read_text())["mlp-classifier"]
    assert card.count("<img ") == 1 and exp.reproduces in card
    assert_valid_md_tables((run_dir / "report.md").read_text())
    assert_valid_md_tables((tmp_path / "index.md").read_text())


# --------------------------------------------------------------------------- in a browser


def test_atlas_and_report_render_in_chromium(browser, tmp_path):
    ref = {"value": 0.774, "source": "64-unit network in the course"}
    make_run(tmp_path, accuracy=0.7851, reference=ref, summary=NESTED, preset="full")
    make_run(tmp_path, "20240102-000000-smoke", experiment="gpt", accuracy=0.5)
    index = render_index(tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(index.as_uri())
    cards = page.locator("article.card")
    assert cards.count() == 2
    for i in range(2):
        img = cards.nth(i).locator(".thumb img")
        assert img.evaluate("im => im.complete && im.naturalWidth > 0")  # a decoded picture
        box = img.bounding_box()
        assert 100 < box["width"] <= 400 and box["height"] <= 190  # a thumbnail, not a poster
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 700, "height": 900})  # a narrow window: cards reflow
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    mlp = page.locator("article#mlp")
    assert "vs reference 0.774" in mlp.locator(".headline").inner_text()
    mlp.locator("h3 a").click()  # the link opens the run's report
    page.wait_for_load_state()
    assert page.url.endswith("mlp/20240101-120000-smoke/report.html")
    assert page.locator(".headline .value").inner_text() == "0.7851"
    assert "reference 0.774" in page.locator(".headline .reference").inner_text()
    sweep = page.locator("section", has=page.locator("h3", has_text="sweep"))
    assert sweep.locator("tr").first.locator("th").all_inner_texts() == [
        "network",
        "lr",
        "val_accuracy",
        "diverged",
    ]
    # wide tables scroll inside their box; the page itself does not scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.close()


def test_atlas_groups_cards_by_chapter_in_course_order(tmp_path):
    for name in ("ddpm", "mlp-classifier", "zzz-foreign", "perceptron"):
        make_run(tmp_path, experiment=name, accuracy=0.5)
    html = render_index(tmp_path).read_text()
    titles = re.findall(r'<h2 class="chapter">([^<]+)</h2>', html)
    assert titles == [
        "1. Neurons and back-propagation",
        "2. Training: descent, optimisers, regularisation, search",
        "8. Diffusion",
        "Other experiments",
    ]
    assert list(cards(html)) == ["perceptron", "mlp-classifier", "ddpm", "zzz-foreign"]


def test_report_opens_with_the_question_and_an_answer_from_its_own_summary(tmp_path, monkeypatch):
    import dataclasses

    import nnlab.experiments
    from nnlab.experiments import Teaching, registry

    real = registry()
    taught = dataclasses.replace(
        real["perceptron"],
        teaching=Teaching(
            "Seed 003: does the perceptron learn OR?",
            "it reaches {test_accuracy:.0%} in this run",
            {"a_first": "the line between the classes"},
            (("nnlab run perceptron --set epochs=3", "fewer epochs"),),
        ),
    )
    monkeypatch.setattr(nnlab.experiments, "registry", lambda: {**real, "perceptron": taught})
    html = render_run(make_run(tmp_path, experiment="perceptron", accuracy=0.75)).read_text()
    teaching = html[html.index('<section class="teaching">') : html.index("</section>")]
    assert "Seed 003: does the perceptron learn OR?" in teaching
    assert "it reaches 75% in this run" in teaching  # filled from this run's summary
    assert "nnlab run perceptron --set epochs=3" in teaching
    assert html.index('<section class="teaching">') < html.index("<h2>Summary</h2>")
    other = render_run(make_run(tmp_path / "b", experiment="perceptron", accuracy=0.5))
    assert "it reaches 50% in this run" in other.read_text()
