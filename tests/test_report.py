import functools
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from nnlab.errors import UserError
from nnlab.report import format_value, render_index, render_run
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
) -> Path:
    run = root / experiment / name
    (run / "figures").mkdir(parents=True)
    config = {
        "experiment": experiment,
        "description": "An MLP on scikit-learn digits",
        "preset": "smoke",
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
        summary = {"test_accuracy": accuracy, "test_loss": 0.0812, "per_class": [0.9, 0.95, 1.0]}
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
    # the curves figure was saved beside the experiment's figures, for the Markdown report
    assert (run / "figures" / "learning_curves.png").is_file()


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
    links = re.findall(r'<a href="([^"]+)"', html)
    assert links == [  # grouped by experiment (gpt, mlp), then oldest first
        "gpt/20240103-000000-smoke/report.html",
        "mlp/20240101-000000-quick/report.html",
        "mlp/20240102-000000-smoke/report.html",
    ]
    assert all((tmp_path / link).is_file() for link in links)  # missing reports were rendered
    assert {c / "report.html", b / "report.html"} <= set(tmp_path.rglob("report.html"))
    for value in ("0.9731", "0.8123", "0.5"):
        assert value in html
    assert '<tr class="best">' in html and html.count('class="best"') == 1  # mlp: 0.9731
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
