"""Shared fixtures. The suite is hermetic: it never touches the network, the user's home or
cache, or the user's `NNLAB_DATA`.

For the whole session `HOME` and `XDG_CACHE_HOME` point at empty folders under pytest's
temporary directory (so a user's `~/.cache/nnlab` cannot change a result), `NNLAB_DATA` is
unset and `NNLAB_OFFLINE=1`. Tests that need the shared data ask for the `shared_data`
fixture, which finds it in the `NNLAB_DATA` the suite was started with (CI sets it) and skips
with a reason when it is absent. Under CI (`CI=true`) every missing requirement (shared data,
chromium, fastapi, optuna, ...) fails instead of skipping: see `needs.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from needs import need

# Property tests draw the same examples on every run and machine (and write no example
# database into the checkout): a failure is reproducible, and CI cannot pass by luck.
settings.register_profile("nnlab", derandomize=True, database=None)
settings.load_profile("nnlab")

REPO = Path(__file__).resolve().parents[1]

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `pytest -n 2` puts two workers on the two cores: one thread each (their subprocesses
    # inherit it), or each worker's torch would spread over both cores and fight the other.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
STARTED_WITH_DATA = os.environ.get("NNLAB_DATA", "")


@pytest.fixture(scope="session", autouse=True)
def _hermetic(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        mp.setenv("MPLCONFIGDIR", str(home / ".config" / "matplotlib"))
        mp.setenv("NNLAB_OFFLINE", "1")
        mp.delenv("NNLAB_DATA", raising=False)
        yield


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNLAB_OFFLINE", "1")


def _shared_folder(*needs: str) -> Path:
    for entry in STARTED_WITH_DATA.split(os.pathsep):
        if entry and all((Path(entry) / n).exists() for n in needs):
            return Path(entry)
    need(
        f"shared data ({', '.join(needs)}) not found: run with NNLAB_DATA=../shared/data "
        "(as .ci/run does)"
    )


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder (full MNIST, Fashion-MNIST, Tiny Shakespeare), from the
    `NNLAB_DATA` the suite was started with; skips with a reason when absent (fails under CI)."""
    return _shared_folder("mnist", "fashion-mnist", "tinyshakespeare.txt")


@pytest.fixture(scope="module")
def browser():
    """A headless chromium for the module's tests; without one they skip with a reason (fail
    under CI)."""
    from nnlab.report.browser import chromium_missing, launch_chromium

    reason = chromium_missing()
    if reason:
        need(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An empty NNLAB_DATA directory (`data`: no EMNIST, no MNIST) and an empty nnlab cache
    (`cache`, under `XDG_CACHE_HOME`), both under tmp_path."""
    data, xdg = tmp_path / "data", tmp_path / "xdg"
    data.mkdir()
    monkeypatch.setenv("NNLAB_DATA", str(data))
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    return {"data": data, "cache": xdg / "nnlab"}


@pytest.fixture
def one_torch_thread():
    """Tiny models: one thread is faster, and immune to OpenMP oversubscription on busy CI."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def pg_server():
    """The URL of a PostgreSQL server (see tests/pg.py); skips with a reason (fails under CI)
    when there is none."""
    import pg

    with pg.server() as url:
        yield url or pg.server.reason


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A `postgresql+psycopg://` URL of a fresh database on the session's server."""
    import pg

    if "://" not in pg_server:
        pg.missing(pg_server)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pg.missing("psycopg is not installed: pip install 'nnlab[pg]'")
    return pg.fresh_database(pg_server)


@pytest.fixture
def stopwatch(monkeypatch: pytest.MonkeyPatch):
    """`stopwatch(owner, "name")` replaces `owner.name` by a wrapper that times each call and
    returns the list the durations (seconds) go to: a reported timing can then be compared
    with the same intervals measured from outside."""
    import time

    def watch(owner, name: str) -> list[float]:
        original, took = getattr(owner, name), []

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                took.append(time.perf_counter() - started)

        monkeypatch.setattr(owner, name, timed)
        return took

    return watch


FAST_LIMIT = float(os.environ.get("NNLAB_FAST_LIMIT", "20"))
"""Seconds a test of the fast tier (`pytest -m "not slow"`, `make test`) may take."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = (yield).get_result()
    fast_tier = item.config.getoption("markexpr", "") == "not slow"
    if (
        fast_tier
        and report.when == "call"
        and report.passed
        and "slow" not in item.keywords
        and report.duration > FAST_LIMIT
    ):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} took {report.duration:.1f} s, over the fast tier's {FAST_LIMIT:g} s: "
            "make it faster or mark it @pytest.mark.slow"
        )
