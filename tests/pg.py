"""A PostgreSQL server for the storage tests (see the `pg_url` fixture in conftest.py).

`NNLAB_TEST_PG_URL` names a running server (CI starts one with `.ci/pg-start`); without it a
throw-away server is started with `.ci/pg-start` when PostgreSQL's programs are installed
and stopped at the end of the session. Each test gets a database of its own on it.
Without a server the tests skip with the reason, and fail under CI (`CI=true`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PG_START = REPO / ".ci" / "pg-start"


def missing(reason: str) -> None:
    """Skip with `reason`, or fail under CI, where every requirement is provided."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: CI must provide it)", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def server() -> Iterator[str | None]:
    """The URL of a PostgreSQL server for the session, or None (with the reason kept in
    `server.reason`) when there is none."""
    url = os.environ.get("NNLAB_TEST_PG_URL")
    if url:
        yield url
        return
    if shutil.which("bash") is None:
        server.reason = "no PostgreSQL server: NNLAB_TEST_PG_URL is unset and bash is missing"
        yield None
        return
    done = subprocess.run(
        ["bash", str(PG_START)], capture_output=True, text=True, timeout=120, check=False
    )
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in done.stdout.splitlines()
        if line.startswith("export ")
    )
    if done.returncode != 0 or "NNLAB_TEST_PG_URL" not in exports:
        lines = done.stderr.strip().splitlines() or ["no output"]
        server.reason = f"no PostgreSQL server: NNLAB_TEST_PG_URL is unset and {lines[-1]}"
        yield None
        return
    folder = exports["NNLAB_TEST_PG_DIR"].strip("'")
    try:
        yield exports["NNLAB_TEST_PG_URL"].strip("'")
    finally:
        subprocess.run(
            ["bash", str(PG_START), "stop"],
            env={**os.environ, "NNLAB_TEST_PG_DIR": folder},
            capture_output=True,
            timeout=120,
            check=False,
        )


server.reason = ""


def fresh_database(url: str) -> str:
    """A new, empty database on the server of `url`; its URL."""
    import psycopg

    name = f"nnlab_{uuid.uuid4().hex[:12]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def server_version(url: str) -> str:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]
