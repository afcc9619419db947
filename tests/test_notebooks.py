"""The course notebooks (notebooks/*.ipynb): one per chapter in course order, stored without
outputs, exactly what notebooks/make_notebooks.py writes, and each runs top to bottom in a real
Jupyter kernel (nbclient + ipykernel) on the smoke preset, offline, its runs in a temporary
folder, showing every run inline and an answer under every question.

The kernels run two at a time with one torch thread each (`OMP_NUM_THREADS=1`): the runs are
tiny, and on a busy 2-core machine two threads per kernel spin waiting for each other (ten
times slower). All nine take about two minutes there (`-s` prints the times). Without
nbclient or ipykernel the kernel tests skip with a reason; under CI (`CI=true`) they fail.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

import nnlab
from nnlab.experiments import CHAPTERS, chapter_title

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
TIMES: dict[str, float] = {}


def _need(module: str):
    """Import `module`, or skip with a reason (fail under CI, where every requirement is
    installed)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        reason = f"{module} is not installed: pip install -e '.[dev]'"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason} (CI=true: CI must provide it)", pytrace=False)
        pytest.skip(reason)


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def test_one_notebook_per_chapter_in_course_order():
    assert [p.name for p in NOTEBOOKS] == [f"{i:02d}-{c}.ipynb" for i, c in enumerate(CHAPTERS, 1)]
    for number, (path, chapter) in enumerate(zip(NOTEBOOKS, CHAPTERS, strict=True), start=1):
        first = json.loads(path.read_text())["cells"][0]
        assert _source(first).startswith(f"# {number}. {chapter_title(chapter)}\n"), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code"
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None, (
            f"{path.name} stores outputs: python notebooks/make_notebooks.py rewrites it clean"
        )
    assert "widgets" not in nb["metadata"]


def test_notebooks_are_what_the_generator_writes(monkeypatch):
    _need("nbformat")
    spec = importlib.util.spec_from_file_location("make_notebooks", FOLDER / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_notebooks", module)  # its dataclasses look it up
    spec.loader.exec_module(module)
    wanted = module.notebooks()
    assert sorted(wanted) == NOTEBOOKS
    stale = [p.name for p, text in wanted.items() if p.read_text() != text]
    assert not stale, f"{stale} differ from the generator: python notebooks/make_notebooks.py"


def _execute_all(paths: list[Path], runs: Path, workdir: Path) -> dict[Path, object]:
    """Run the notebooks in kernels of their own, two at a time (each kernel uses one core);
    return each one executed, or the exception it raised, and record the times."""
    import asyncio

    import nbclient
    import nbformat

    async def one(path: Path, slots: asyncio.Semaphore) -> object:
        async with slots:
            nb = nbformat.read(path, as_version=4)
            client = nbclient.NotebookClient(
                nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": workdir}}
            )
            started = time.perf_counter()
            try:
                await client.async_execute()  # CellExecutionError: the cell and its traceback
            except Exception as exc:
                return exc
            finally:
                TIMES[path.stem] = time.perf_counter() - started
            return nb

    async def every() -> list[object]:
        slots = asyncio.Semaphore(2)
        # the diffusion notebook takes longest (half a minute or more): it starts first
        first = sorted(paths, key=lambda p: "diffusion" not in p.name)
        done = dict(zip(first, await asyncio.gather(*(one(p, slots) for p in first)), strict=True))
        return [done[p] for p in paths]

    env = {
        "NNLAB_NOTEBOOK_RUNS": str(runs),  # the kernels inherit the environment
        "NNLAB_OFFLINE": "1",
        # the kernel imports the nnlab under test, wherever the kernel starts
        "PYTHONPATH": os.pathsep.join(
            [str(Path(nnlab.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
        **dict.fromkeys(("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "1"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        started = time.perf_counter()
        done = asyncio.run(every())
        TIMES["all, two at a time"] = time.perf_counter() - started
    return dict(zip(paths, done, strict=True))


@pytest.fixture(scope="module")
def executed(request, tmp_path_factory):
    """The selected notebooks, executed, and the folder of their runs."""
    _need("nbformat")
    _need("nbclient")
    _need("ipykernel")
    selected = [
        item.callspec.params["path"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_notebook_runs_top_to_bottom_in_a_kernel"
    ]
    runs = tmp_path_factory.mktemp("notebook-runs")
    results = _execute_all(selected, runs, str(tmp_path_factory.mktemp("notebook-cwd")))
    total = TIMES.pop("all, two at a time")
    each = ", ".join(f"{k} {v:.0f} s" for k, v in TIMES.items())
    print(f"\nnotebooks: {total:.1f} s wall for {len(selected)}, two at a time ({each})")
    return results, runs


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_in_a_kernel(path, executed):
    results, runs = executed
    nb = results[path]
    if isinstance(nb, Exception):
        raise nb
    experiments = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        outputs = cell.outputs
        assert not [o for o in outputs if o.output_type == "error"], _source(cell)
        source = _source(cell)
        if "nnlab.run(" in source:
            experiments.append(source.split('nnlab.run("', 1)[1].split('"', 1)[0])
            html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
            assert len(html) == 1 and "nnlab-result" in html[0], source
            assert 'src="data:image/png;base64,' in html[0], f"no figure shown for {source}"
        else:  # the set-up, or the check under a question: something to read
            shown = [o for o in outputs if o.output_type != "stream" or o.name == "stdout"]
            assert shown, f"no output from {source!r}"
    assert experiments, f"{path.name} runs no experiment"
    for name in experiments:
        (run_dir,) = (runs / name).iterdir()
        status = json.loads((run_dir / "status.json").read_text())
        config = json.loads((run_dir / "config.json").read_text())
        assert status["state"] == "completed" and config["preset"] == "smoke", name
