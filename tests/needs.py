"""What a test needs from the machine, and what happens when it is missing.

On a user's machine a missing requirement (the shared data, chromium, an optional package)
skips the test with a reason, so `make test` passes where only the README's commands ran.
Under CI (`CI` set to anything but "", "0", "false" or "no") the same requirement fails the
test with that reason: CI must not pass by checking nothing.

    need("chromium not found: ...")                       # skip here, fail under CI
    fastapi = need_module("fastapi", "the playground needs the web extra")
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def need(reason: str) -> NoReturn:
    """A requirement is missing: skip with `reason`, or fail with it under CI. Works inside a
    test, a fixture or at module level."""
    if in_ci():
        pytest.fail(f"missing under CI (CI=true fails, not skips): {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def need_module(name: str, reason: str) -> ModuleType:
    """`importlib.import_module(name)`, or `need(reason)` when it cannot be imported."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        need(f"{reason} ({type(exc).__name__}: {exc})")
