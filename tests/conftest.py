"""Shared fixtures. Every test runs with NNLAB_OFFLINE=1: tests never touch the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNLAB_OFFLINE", "1")


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder (full Fashion-MNIST, Tiny Shakespeare): the first directory of
    $NNLAB_DATA that has `fashion-mnist/`, else ../shared/data beside the repository."""
    candidates = [Path(p) for p in os.environ.get("NNLAB_DATA", "").split(os.pathsep) if p]
    candidates.append(REPO.parent / "shared" / "data")
    for path in candidates:
        if (path / "fashion-mnist").is_dir():
            return path
    pytest.skip("shared data folder not found: set NNLAB_DATA to ../shared/data")
