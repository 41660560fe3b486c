"""The README's picture of a replay: the typhoon exercise recorded on the Wenzhou demo, replayed
in the console and stopped at the height of the storm (the timeline, the replayed clock, the
incidents open at that moment and the units at work).

    .venv/bin/python scripts/screenshot_replay.py docs/replay.png

Starts its own `rescue serve --demo` in a temporary directory; needs chromium (make system-deps).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import stop_process  # noqa: E402
from tests.e2e.browser import chromium  # noqa: E402
from tests.e2e.conftest import start_server  # noqa: E402

TRAINER = "trainer 3303"
PEAK = timedelta(hours=9, minutes=30)  # landfall: the most incidents open at once


def main(out: Path) -> None:
    server = start_server(Path(tempfile.mkdtemp(prefix="rescue-shot-")))
    try:
        h = server.h(TRAINER)
        ex = requests.post(server.api + "/exercises", json={"scenario": "typhoon", "seed": 7},
                           headers=h, timeout=20).json()
        while True:
            state = requests.get(f"{server.api}/exercises/{ex['id']}", headers=h,
                                 timeout=20).json()
            if state["state"] not in ("queued", "running"):
                break
            time.sleep(1)
        assert state["state"] == "done", state
        rp = requests.post(server.api + "/replays", json={"exercise": ex["id"], "speed": 100},
                           headers=h, timeout=20).json()
        at = datetime.fromisoformat(rp["from"]) + PEAK
        requests.post(f"{server.api}/replays/{rp['id']}/seek", json={"time": at.isoformat()},
                      headers=h, timeout=20).raise_for_status()
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1600, "height": 900},
                                    timezone_id="Asia/Shanghai")
            page.goto(f"{server.base}/?replay={rp['id']}")
            page.fill("input[name=token]", server.tokens[TRAINER])
            page.click("#login-form button[type=submit]")
            page.wait_for_selector('body[data-ready="1"]', timeout=60_000)
            first = page.eval_on_selector("#queue li[data-id]", "e => e.dataset.id")
            page.click(f'#queue li[data-id="{first}"]')
            page.evaluate("window.rescueConsole.map.setView([27.85, 120.75], 9) && null")
            page.wait_for_timeout(1500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        print(f"written {out}")
    finally:
        stop_process(server.proc)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/replay.png"))
