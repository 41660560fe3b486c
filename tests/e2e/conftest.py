"""A real `rescue serve --demo` process (gevent, SQLite under a temp data dir)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import _missing, free_port, stop_process
from tests.e2e.browser import chromium, chromium_path, log_in
from tests.e2e.sockets import demo_tokens

ROOT = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, base: str, tokens: dict[str, str], proc: subprocess.Popen, log: Path):
        self.base = base
        self.api = base + "/api/v1"
        self.tokens = tokens
        self.proc = proc
        self.log = log

    def h(self, label: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[label]}"}


def start_server(data_dir: Path, extra_env: dict[str, str] | None = None,
                 port: int | None = None) -> Server:
    port = port or free_port()
    log = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RESCUE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1",
           **(extra_env or {})}
    env.pop("DATABASE_URL", None) if "DATABASE_URL" not in (extra_env or {}) else None
    rescue = Path(sys.executable).with_name("rescue")
    proc = subprocess.Popen([str(rescue), "serve", "--port", str(port), "--demo"], cwd=ROOT,
                            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            if requests.get(base + "/api/v1/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(f"server did not come up:\n{log.read_text()}")
    return Server(base, demo_tokens(log.read_text()), proc, log)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("e2e"))
    yield s
    stop_process(s.proc)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by playwright (one per test module)."""
    if chromium_path() is None:
        _missing("chromium (Debian package `chromium`; `make test` installs it)")
    with chromium() as b:
        yield b


@pytest.fixture
def pages(browser, server):
    """A Wencheng and a Lucheng console, side by side, each recording what it loads."""
    opened = []

    def open_console(label: str):
        ctx = browser.new_context(viewport={"width": 1366, "height": 768})
        page = ctx.new_page()
        page.requests = []
        page.errors = []
        page.on("request", lambda r: page.requests.append(r.url))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        log_in(page, server.base, server.tokens[label])
        opened.append(ctx)
        return page

    yield open_console
    for ctx in opened:
        ctx.close()
