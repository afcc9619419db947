"""The notebook API (`nnlab.run`, `nnlab.load`, `nnlab.experiments()`): an in-process run with
keyword settings, bad keywords as the command's one-line errors, a finished run read back, what
Jupyter shows of a run, and an `import nnlab` that loads nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

import nnlab
from needs import need_module
from nnlab.api import Result, _python_call
from nnlab.cli import main
from nnlab.errors import ConfigError, UserError
from nnlab.experiments import CHAPTERS, Reference, Teaching, chapter_title, registry

EXPERIMENT = "backprop-by-hand"  # NumPy only, about a second: two metric lines, three figures


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Result:
    out = tmp_path_factory.mktemp("runs")
    # a float, and a bool spelled as --set spells it: both go through make_config
    return nnlab.run(EXPERIMENT, preset="smoke", seed=3, out=out, quiet=True, lr=0.1, t1="0.05")


def test_experiments_lists_every_experiment_by_chapter_in_course_order():
    grouped = nnlab.experiments()
    assert list(grouped) == [chapter_title(c) for c in CHAPTERS]
    assert [n for names in grouped.values() for n in names] == list(registry())
    assert "xor" in grouped["Neurons and back-propagation"]


def test_run_in_process_applies_keyword_settings_and_returns_the_run(result):
    assert result.dir.parent.name == EXPERIMENT and result.dir.name.endswith("-smoke")
    assert (result.experiment, result.preset, result.seed, result.state) == (
        EXPERIMENT,
        "smoke",
        3,
        "completed",
    )
    assert result.config["lr"] == 0.1 and result.config["t1"] == 0.05  # "0.05" parsed as --set
    assert json.loads((result.dir / "config.json").read_text())["config"] == result.config
    # the numbers of the run: the analytic gradient agrees with the numerical one, and one step
    # of size lr lowers the cost by about lr * |gradient|^2
    summary = result.summary
    assert summary["max_grad_error"] < 1e-8
    assert summary["cost_after"] < summary["cost_before"]
    assert result.metrics == [
        {"step": 0, "cost": summary["cost_before"]},
        {"step": 1, "cost": summary["cost_after"]},
    ]
    assert result.headline == ("max_grad_error", summary["max_grad_error"])
    assert set(result.figures) >= {"network", "values"}
    assert all(p.is_file() and p.suffix == ".png" for p in result.figures.values())
    assert result.report.is_file()


def test_same_settings_give_the_same_summary_as_the_command(result, tmp_path, capsys):
    args = ["run", EXPERIMENT, "--preset", "smoke", "--seed", "3", "--quiet"]
    args += ["--set", "lr=0.1", "--set", "t1=0.05", "--out", str(tmp_path)]
    assert main(args) == 0
    (cli_dir,) = (tmp_path / EXPERIMENT).iterdir()
    assert json.loads((cli_dir / "summary.json").read_text()) == result.summary


BAD = {
    "unknown setting": ({"lrr": 0.1}, "unknown setting 'lrr'", ["--set", "lrr=0.1"]),
    "wrong type": ({"lr": "fast"}, "'lr' must be a number", ["--set", "lr=fast"]),
    "out of range": ({"t1": 2}, "'t1' must be in [0, 1]", ["--set", "t1=2"]),
    "unknown preset": ({"preset": "huge"}, "unknown preset 'huge'", None),
    "unknown experiment": ({"experiment": "backprop"}, "unknown experiment 'backprop'", None),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_keyword_raises_the_commands_one_line_error(case, tmp_path, capsys):
    keywords, expected, cli_args = BAD[case]
    keywords = {"experiment": EXPERIMENT, "preset": "smoke", **keywords}
    with pytest.raises(ConfigError) as info:
        nnlab.run(out=tmp_path / "runs", quiet=True, **keywords)
    message = str(info.value)
    assert expected in message and "\n" not in message
    # raised where the learner called it: no frames from deep inside, no chained exception
    frames = traceback.extract_tb(info.value.__traceback__)
    assert [Path(f.filename).name for f in frames[1:]] == ["api.py"]
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not (tmp_path / "runs").exists()  # nothing was written
    if cli_args is not None:
        out = ["--out", str(tmp_path / "runs")]
        assert main(["run", EXPERIMENT, "--preset", "smoke", *cli_args, *out]) == 2
        assert capsys.readouterr().err == f"nnlab: error: {message}\n"


def test_a_bad_seed_or_device_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="seed must be an integer"):
        nnlab.run(EXPERIMENT, preset="smoke", seed="0", out=tmp_path)
    with pytest.raises(UserError, match="device must be"):
        nnlab.run(EXPERIMENT, preset="smoke", device="tpu", out=tmp_path)


def test_tensorboard_keyword_reaches_the_runner(tmp_path):
    need_module("tensorboard", "--tensorboard needs the tensorboard extra (pip install -e .[dev])")
    r = nnlab.run(EXPERIMENT, preset="smoke", out=tmp_path, quiet=True, tensorboard=True)
    assert (r.dir / "events.out.tfevents.nnlab").stat().st_size > 0


def test_load_reads_back_the_same_run(result):
    again = nnlab.load(str(result.dir))
    assert isinstance(again, Result)
    for name in ("dir", "experiment", "preset", "seed", "config", "summary", "metrics", "state"):
        assert getattr(again, name) == getattr(result, name), name
    assert again.figures == result.figures
    assert again._repr_html_() == result._repr_html_()


def test_load_of_a_folder_that_is_no_run_is_the_commands_error(tmp_path):
    with pytest.raises(UserError, match="is not a run directory") as info:
        nnlab.load(tmp_path)
    assert len(traceback.extract_tb(info.value.__traceback__)) == 2


def test_html_shows_headline_description_key_figure_and_the_report(result, monkeypatch):
    monkeypatch.setattr("nnlab.api._teaching", lambda name: None)  # as an experiment without
    html = nnlab.load(result.dir)._repr_html_()
    assert f"{EXPERIMENT} · smoke · seed 3" in html
    assert "<b>max_grad_error</b> = <b>" in html and "lower is better" in html
    assert result.info.config["description"].split(":")[0] in html
    assert html.count('src="data:image/png;base64,') == 1  # the key figure
    assert str(result.report) in html
    assert "Question." not in html and "Try next" not in html


def test_html_shows_the_teaching_question_answer_figures_and_what_to_try(result, monkeypatch):
    teaching = Teaching(
        question="Does back-propagation get the gradient right?",
        answer="Largest error {max_grad_error:.1e}; cost {cost_before:.3f} -> {cost_after:.3f}",
        figures={"values": "every value beside its estimate", "no_such_figure": "ignored"},
        try_next=(
            ("nnlab run backprop-by-hand --set lr=2 --set update_biases=false", "a larger step"),
            ("nnlab report runs", "the atlas"),
        ),
    )
    monkeypatch.setattr("nnlab.api._teaching", lambda name: teaching)
    r = nnlab.load(result.dir)
    html = r._repr_html_()
    s = r.summary
    answer = f"Largest error {s['max_grad_error']:.1e}; cost {s['cost_before']:.3f} -&gt; "
    assert r.answer.startswith(answer.replace("-&gt;", "->")) and answer in html
    assert "Does back-propagation get the gradient right?" in html
    assert html.count('src="data:image/png;base64,') == 1  # the figure the teaching names
    assert "every value beside its estimate" in html and "ignored" not in html
    assert "nnlab.run(&#x27;backprop-by-hand&#x27;, lr=2, update_biases=False)" in html
    assert "<code>nnlab report runs</code>: the atlas" in html
    assert r.figure("values").look_for == "every value beside its estimate"
    with pytest.raises(UserError, match="has no figure 'nope'"):
        r.figure("nope")


def _fake_run(folder: Path, preset: str, dataset: str) -> Path:
    run_dir = folder / f"run-{preset}-{dataset}"
    (run_dir / "figures").mkdir(parents=True)
    config = {
        "experiment": "mlp-classifier",
        "preset": preset,
        "seed": 0,
        "config": {"dataset": dataset, "epochs": 3},
        "headline": {"metric": "test_accuracy", "mode": "max"},
        "reference": {"value": 0.98, "source": "the course, seed 001", "data": "mnist"},
        "versions": {"nnlab": "0.1.0"},
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "summary.json").write_text(json.dumps({"test_accuracy": 0.9712}))
    (run_dir / "status.json").write_text(json.dumps({"state": "completed"}))
    return run_dir


def test_the_reference_stands_beside_the_headline_only_when_comparable(tmp_path, monkeypatch):
    monkeypatch.setattr("nnlab.api._teaching", lambda name: None)
    comparable = nnlab.load(_fake_run(tmp_path, "full", "mnist"))
    assert comparable.comparable and comparable.reference["value"] == 0.98
    html = comparable._repr_html_()
    assert "beside the reference <b>0.98</b> (the course, seed 001, −0.0088)" in html

    for preset, dataset in (("smoke", "mnist"), ("full", "digits")):
        other = nnlab.load(_fake_run(tmp_path, preset, dataset))
        html = other._repr_html_()
        assert not other.comparable and "<b>0.98</b>" not in html
        assert "beside the reference" not in html
        assert f"this {preset} run on {dataset}" in html
        assert "nnlab.run(&quot;mlp-classifier&quot;, preset=&quot;full&quot;" in html


def test_a_reference_without_data_is_comparable_on_any_data():
    ref = Reference(0.5, "somewhere")
    assert ref.comparable({"dataset": "digits"}, "full")


def test_try_next_commands_read_as_python_calls():
    assert _python_call("nnlab run xor --preset full --set hidden=8 --set lr=0.5") == (
        "nnlab.run('xor', preset='full', hidden=8, lr=0.5)"
    )
    assert _python_call("nnlab run mlp-classifier --set hidden=256,128 --seed 2") == (
        "nnlab.run('mlp-classifier', hidden='256,128', seed=2)"
    )
    assert _python_call("nnlab run x --device cuda") is None  # shown as the command
    assert _python_call("nnlab report runs") is None


def test_progress_bars_show_in_a_jupyter_kernel_unless_quiet(tmp_path):
    from nnlab.runs.run import Run, _draws_bars

    class OutStream:  # how ipykernel's stream looks to the runner: not a terminal
        def isatty(self) -> bool:
            return False

        def write(self, text: str) -> int:
            return len(text)

        def flush(self) -> None:
            pass

    OutStream.__module__ = "ipykernel.iostream"
    assert _draws_bars(OutStream())
    assert not _draws_bars(open(tmp_path / "f", "w"))  # noqa: SIM115 (a plain file)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stderr", OutStream())
        assert not Run(tmp_path / "a", seed=0, device=None).bar(total=3).disable
        assert Run(tmp_path / "b", seed=0, device=None, quiet=True).bar(total=3).disable


def test_import_nnlab_loads_nothing_heavy():
    code = (
        "import sys, nnlab\n"
        "nnlab.experiments(); nnlab.run; nnlab.load; nnlab.Result\n"
        "import nnlab.api\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('torch', 'matplotlib', 'scipy')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
