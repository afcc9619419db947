"""Headless Chromium for nnlab's browser tests and benchmarks: Debian's `chromium` driven by
Playwright, never a browser from `playwright install` (it downloads one, which fails offline).

    reason = chromium_missing()           # None, or why no browser can be started here
    with sync_playwright() as p:
        browser = launch_chromium(p)
"""

from __future__ import annotations

import shutil
from typing import Any

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_missing() -> str | None:
    """Why a headless Chromium cannot be started on this machine, or None if it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if shutil.which("chromium") is None:
        return "no chromium on PATH (Debian: apt-get install chromium)"
    return None


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser from a running `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
