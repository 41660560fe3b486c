"""The console for training, in a real headless Chromium.

Replay mode: a trainer opens a recorded rescue at `/?replay=ID`, sees the picture at its start,
plays it (the incident appears, units move), drags the timeline back (the picture is rebuilt at
that moment), and forks a what-if. Trainees in the loop: an operator opens `/?exercise=ID`,
joins, sees the exercise's incident (and nothing live), and assigns a unit from the advice;
the decision is scored."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import requests

from tests.e2e.test_replay_live import recorded_exercise
from tests.integration.test_trainees import SCENARIO

TRAINER = "trainer 3303"


def console(browser, url: str, token: str) -> tuple[object, object, list[str]]:
    """A console page logged in at `url` (its context, the page, the page's errors)."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, timezone_id="UTC")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.fill("input[name=token]", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector('body[data-ready="1"]', timeout=30_000)
    return ctx, page, errors


def test_a_trainer_plays_scrubs_and_forks_a_recorded_rescue(browser, server) -> None:
    eid = recorded_exercise(server)
    rp = requests.post(server.api + "/replays", json={"exercise": eid, "speed": 100},
                       headers=server.h(TRAINER), timeout=10).json()
    start = datetime.fromisoformat(rp["from"])
    ctx, page, errors = console(browser, f"{server.base}/?replay={rp['id']}",
                                server.tokens[TRAINER])
    try:
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
        # A long rebuild's news (as a first seek far into a big exercise sends it) shows in
        # the bar until the picture comes; then the replay's own state again.
        page.evaluate("rescueReplay.socket.listeners('replay_progress')"
                      ".forEach(f => f({replay: 'x', generation: 2, done: 0.42}))")
        assert page.locator("#replay-bar").get_attribute("data-state") == "loading"
        assert "42%" in page.locator("#replay-bar .rp-state").text_content()
        page.evaluate("rescueReplay.bar.update(rescueReplay.clock.status)")
        assert page.locator("#replay-bar").get_attribute("data-state") == "paused"
        # The after-action report opens in a new tab (fetched with the token).
        with page.context.expect_page() as opened:
            page.click("#replay-bar .rp-report")
        report = opened.value
        report.wait_for_url(re.compile(r"^blob:"), timeout=20_000)
        report.wait_for_selector("text=After-action report", timeout=20_000)
        report.close()
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


def test_a_trainee_assigns_from_the_console_and_is_scored(browser, server) -> None:
    r = requests.post(server.api + "/exercises", json={"scenario": SCENARIO, "mode": "trainees",
                                                       "speed": 30},
                      headers=server.h(TRAINER), timeout=10)
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    ctx, page, errors = console(browser, f"{server.base}/?exercise={eid}",
                                server.tokens["operator 330305"])
    try:
        assert eid in page.locator(".mode-tag").text_content()
        ex = requests.get(f"{server.api}/exercises/{eid}", headers=server.h(TRAINER),
                          timeout=10).json()
        assert len(ex["trainees"]) == 1, "opening the console joined the exercise"
        page.wait_for_selector("#queue li[data-id]", timeout=60_000)
        ids = page.eval_on_selector_all("#queue li[data-id]", "els => els.map(e => e.dataset.id)")
        assert len(ids) == 1 and ids[0].startswith(eid)
        page.click(f'#queue li[data-id="{ids[0]}"]')
        # The first unit this county may send (the plan's may be the city's to send).
        mine = "#panel button.assign:not([disabled]) >> nth=0"
        page.wait_for_selector(mine, timeout=30_000)
        chosen = page.get_attribute(mine, "data-rid")
        page.click(mine)
        page.wait_for_function(
            f"rescueConsole.incidents.get('{ids[0]}').assignments.length > 0", timeout=20_000)

        def scored() -> list[dict]:
            evs = requests.get(f"{server.api}/events", params={"exercise": eid, "limit": 1000},
                               headers=server.h(TRAINER), timeout=10).json()["events"]
            return [e for e in evs if e["type"] == "exercise.decision"
                    and e["payload"]["mode"] == "trainee"]

        deadline = time.monotonic() + 30
        while not scored() and time.monotonic() < deadline:
            time.sleep(0.5)
        decision = scored()[0]["payload"]
        assert decision["chosen"]["resource_id"] == chosen
        assert decision["planned"] is not None and decision["eta_lost_s"] is not None
        assert errors == []
    finally:
        ctx.close()
        requests.post(f"{server.api}/exercises/{eid}/cancel", headers=server.h(TRAINER),
                      timeout=10)


def test_the_bar_shows_a_replay_folded_ahead(browser, tmp_path) -> None:
    """A replay folded ahead by its `replay.prepare` job (every replay is, on this server):
    the bar says how far the job is, then that seeks are quick."""
    from tests.conftest import stop_process
    from tests.e2e.conftest import start_server

    server = start_server(tmp_path, {"RESCUE_REPLAY_PREPARE_EVENTS": "0"})
    try:
        rp = requests.post(server.api + "/replays", json={"area": "3303"},
                           headers=server.h(TRAINER), timeout=10).json()
        assert rp["prepare_job"], rp
        ctx, page, errors = console(browser, f"{server.base}/?replay={rp['id']}",
                                    server.tokens[TRAINER])
        try:
            page.wait_for_selector('#replay-bar .rp-prep[data-state="done"]', timeout=60_000)
            assert page.locator("#replay-bar .rp-prep").text_content() == "quick seeks ready"
            job = requests.get(f"{server.api}/jobs/{rp['prepare_job']}",
                               headers=server.h(TRAINER), timeout=10).json()
            assert job["status"] == "done" and job["kind"] == "replay.prepare"
            assert errors == []
        finally:
            ctx.close()
    finally:
        stop_process(server.proc)
