"""The console in replay mode, in a real headless Chromium: a trainer opens a recorded rescue
at `/?replay=ID`, sees the picture at its start, plays it (the incident appears, units move),
drags the timeline back (the picture is rebuilt at that moment), and forks a what-if."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from tests.conftest import _missing
from tests.e2e.browser import chromium, chromium_path
from tests.e2e.test_replay_live import recorded_exercise

TRAINER = "trainer 3303"


@pytest.fixture(scope="module")
def browser():
    if chromium_path() is None:
        _missing("chromium (Debian package `chromium`; `make test` installs it)")
    with chromium() as b:
        yield b


def test_a_trainer_plays_scrubs_and_forks_a_recorded_rescue(browser, server) -> None:
    eid = recorded_exercise(server)
    rp = requests.post(server.api + "/replays", json={"exercise": eid, "speed": 100},
                       headers=server.h(TRAINER), timeout=10).json()
    start = datetime.fromisoformat(rp["from"])
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, timezone_id="UTC")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server.base}/?replay={rp['id']}")
        page.fill("input[name=token]", server.tokens[TRAINER])
        page.click("#login-form button[type=submit]")
        page.wait_for_selector('body[data-ready="1"]', timeout=30_000)
        bar = page.locator("#replay-bar")
        assert bar.get_attribute("data-state") == "paused"
        assert page.locator("#replay-bar .rp-clock").text_content() == start.strftime(
            "%Y-%m-%d %H:%M:%S")
        # At its very start the exercise has recorded nothing yet: its first events (the
        # units at home, then the person in the water) come the moment it plays.
        assert page.evaluate("rescueConsole.units.size") == 0
        assert not page.locator("#new-incident").is_visible()
        # Play: the person in the water is reported and boats get under way.
        page.click("#replay-bar .rp-play")
        page.wait_for_selector('#replay-bar[data-state="playing"]', timeout=10_000)
        page.wait_for_selector("#queue li[data-id]", timeout=20_000)
        assert page.evaluate("rescueConsole.units.size") > 50
        page.wait_for_function(
            "[...rescueConsole.units.byId.values()].some(u => u.status === 'en_route')",
            timeout=30_000)
        # Pause, then drag the timeline back to minute 1: the picture is rebuilt there.
        page.click("#replay-bar .rp-play")
        page.wait_for_selector('#replay-bar[data-state="paused"]', timeout=10_000)
        page.evaluate("""() => { const s = document.querySelector('#replay-bar .rp-scrub');
            s.value = '60'; s.dispatchEvent(new Event('input'));
            s.dispatchEvent(new Event('change')); }""")
        page.wait_for_selector('body[data-pictures="2"]', timeout=15_000)
        at = (start + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
        page.wait_for_function(
            f"document.querySelector('#replay-bar .rp-clock').textContent === '{at}'",
            timeout=10_000)
        assert page.evaluate(
            "[...rescueConsole.units.byId.values()].filter(u => u.status === 'en_route').length"
        ) == 0, "a minute in, nobody has left yet"
        assert len(page.eval_on_selector_all("#queue li[data-id]", "e => e")) == 1
        assert page.evaluate("rescueConsole.units.size") > 50
        # What if: a new exercise from this moment.
        page.click("#replay-bar .rp-fork")
        page.wait_for_selector("#replay-bar[data-forked]", timeout=10_000)
        fork = page.locator("#replay-bar").get_attribute("data-forked")
        ex = requests.get(f"{server.api}/exercises/{fork}", headers=server.h(TRAINER),
                          timeout=10).json()
        assert ex["fork"]["replay"] == rp["id"] and ex["parent"] == eid
        assert ex["fork"]["time"].startswith(at.replace(" ", "T"))
        assert errors == []
    finally:
        ctx.close()
