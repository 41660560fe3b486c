"""A real headless Chromium (Debian's `chromium`, driven by Python playwright) for the console.

Playwright's own browser download is never used: the project's setup installs the Debian
package and points playwright at it. Missing, it fails the run (tests/conftest.py `_missing`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("RESCUE_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@contextmanager
def chromium(**launch: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise FileNotFoundError("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, **launch)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Any, base: str, token: str, timeout_ms: int = 30_000) -> None:
    """Open the console, type the token into the field named `token`, wait for the picture."""
    page.goto(base + "/")
    page.fill("input[name=token]", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector('body[data-ready="1"]', timeout=timeout_ms)
