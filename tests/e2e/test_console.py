"""The operator's console in a real headless Chromium against a real `rescue serve --demo`.

A Wencheng operator logs in, sees an incident reported through the API appear without a
reload, opens it, reads the dispatcher's advice, assigns a unit and watches the unit's status
arrive by push; a position sent over /field moves the unit on the map; a Lucheng operator's
page, open the whole time, shows none of it; a dropped link shows "reconnecting" and catches
up without a reload; nothing is loaded from another host.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlparse

import pytest
import requests
import socketio

from tests.e2e.browser import log_in
from tests.e2e.sockets import field_token

WENCHENG = "operator 330328"
LUCHENG = "operator 330302"


def report(server, label: str, **body) -> dict:
    body = {"category": "flood", "severity": "III", "persons_at_risk": 3, **body}
    r = requests.post(server.api + "/incidents", json=body, headers=server.h(label), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def queue_ids(page) -> list[str]:
    return page.eval_on_selector_all("#queue li[data-id]", "els => els.map(e => e.dataset.id)")


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def field_client(server, unit: str) -> socketio.Client:
    token = field_token(server.log.parent, unit)
    sio = socketio.Client(reconnection=False)
    sio.connect(server.base, namespaces=["/field"], auth={"token": token},
                transports=["websocket"], wait_timeout=10)
    return sio


def marker_at_unit(page, unit: str) -> dict:
    """Where the unit is drawn: its container point, the unit the layer finds there, and
    whether the canvas has paint at that pixel."""
    return page.evaluate("""(id) => {
        const c = window.rescueConsole, u = c.units.get(id);
        if (!u) return null;
        const at = u.lat != null ? [u.lat, u.lon] : [u.home.lat, u.home.lon];
        const p = c.map.latLngToContainerPoint(at);
        const hit = c.layer.hit(p);
        const dpr = window.devicePixelRatio || 1;
        const px = c.layer.g.getImageData(Math.round(p.x * dpr), Math.round(p.y * dpr), 1, 1).data;
        return {lat: u.lat, lon: u.lon, status: u.status, x: p.x, y: p.y,
                hit: hit && hit.id, painted: px[3] > 0};
    }""", unit)


def test_incident_live_advice_assign_status_and_isolation(server, pages):
    wc = pages(WENCHENG)
    lc = pages(LUCHENG)
    who = wc.text_content("#who")
    assert "330328" in who or "文成" in who or "Wencheng" in who
    assert wc.get_attribute("#conn", "data-state") == "live"

    inc = report(server, WENCHENG, title=f"山洪 flash flood {uuid.uuid4().hex[:6]}",
                 lat=27.79, lon=120.09, severity="II", persons_at_risk=12)
    item = wc.wait_for_selector(f'#queue li[data-id="{inc["id"]}"]', timeout=10_000)
    assert inc["title"] in item.text_content()
    assert re.search(r"\d+:\d\d", item.query_selector(".clock").text_content())
    wc.wait_for_selector(f'.incident-marker[data-incident="{inc["id"]}"]', state="attached")

    item.click()
    wc.wait_for_selector("#panel .cand", timeout=15_000)
    assert inc["title"] in wc.text_content("#panel .inc-title")
    first = wc.query_selector("#panel .req .cand")
    why = first.query_selector(".why").text_content()
    assert re.search(r"\d+ (min|s|分钟|秒)", first.query_selector(".eta").text_content())
    assert "km" in why
    assert len(why.split("·")) >= 5  # ETA, distance, kind, mode, relation, reason: in words
    assert wc.query_selector("#panel .plan li") is not None

    button = wc.query_selector("#panel .cand button.assign:not([disabled])")
    unit = button.get_attribute("data-rid")
    button.click()
    row = f'#panel .assignments li[data-rid="{unit}"]'
    wc.wait_for_selector(f'{row} .unit-status[data-status="assigned"]', timeout=10_000)
    wc.wait_for_selector(f'#queue li[data-id="{inc["id"]}"][data-clock="done"]', timeout=5_000)

    # The crew reports en route from the field: the status arrives by push.
    sio = field_client(server, unit)
    try:
        ack = sio.call("status", {"id": uuid.uuid4().hex, "status": "en_route",
                                  "time": now_iso()}, namespace="/field", timeout=10)
        assert ack["ok"], ack
        wc.wait_for_selector(f'{row} .unit-status[data-status="en_route"]', timeout=10_000)
    finally:
        sio.disconnect()
    assert wc.eval_on_selector_all("#feed li", "els => els.length") >= 3

    # Lucheng is live (its own incident arrives) but saw nothing of Wencheng's.
    own = report(server, LUCHENG, title="Lucheng check", lat=28.02, lon=120.65)
    lc.wait_for_selector(f'#queue li[data-id="{own["id"]}"]', timeout=10_000)
    assert inc["id"] not in queue_ids(lc)
    assert lc.evaluate("(id) => window.rescueConsole.incidents.get(id) === undefined", inc["id"])
    assert lc.evaluate("(id) => window.rescueConsole.units.get(id) === undefined", unit)
    assert inc["title"] not in lc.text_content("#feed")
    assert wc.errors == [] and lc.errors == []


def test_field_position_moves_the_marker(server, pages):
    wc = pages(WENCHENG)
    lc = pages(LUCHENG)
    unit = "wc-drone"
    before = marker_at_unit(wc, unit)
    assert before is not None and before["hit"] == unit
    target = (27.70 + (time.time() % 100) / 10_000, 120.02)
    sio = field_client(server, unit)
    try:
        ack = sio.call("position", {"id": uuid.uuid4().hex, "lat": target[0], "lon": target[1],
                                    "time": now_iso(), "speed_kmh": 60}, namespace="/field",
                       timeout=10)
        assert ack["ok"], ack
    finally:
        sio.disconnect()
    wc.wait_for_function("([id, lat]) => window.rescueConsole.units.get(id)?.lat === lat",
                         arg=[unit, target[0]], timeout=10_000)
    wc.wait_for_timeout(200)  # one animation frame draws it
    after = marker_at_unit(wc, unit)
    assert (after["x"], after["y"]) != (before["x"], before["y"])
    assert after["hit"] == unit and after["painted"], after
    assert lc.evaluate("(id) => window.rescueConsole.units.get(id) === undefined", unit)


def test_dropped_link_reconnects_and_catches_up_without_reload(server, pages, browser):
    wc = pages(WENCHENG)
    wc.evaluate("window.__sameDocument = true")
    wc.context.set_offline(True)
    wc.wait_for_selector('#conn[data-state="reconnecting"]', timeout=10_000)
    missed = report(server, WENCHENG, title="reported while the link was down",
                    lat=27.80, lon=120.10)
    time.sleep(1.0)
    assert missed["id"] not in queue_ids(wc)
    wc.context.set_offline(False)
    wc.wait_for_selector(f'#queue li[data-id="{missed["id"]}"]', timeout=20_000)
    wc.wait_for_selector('#conn[data-state="live"]', timeout=10_000)
    assert int(wc.get_attribute("#conn", "data-caught")) >= 1
    assert wc.evaluate("window.__sameDocument === true")  # no reload happened


def test_new_incident_by_map_click_with_preview(server, pages):
    wc = pages(WENCHENG)
    wc.click("#new-incident")
    box = wc.query_selector("#map").bounding_box()
    wc.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wc.wait_for_function("document.querySelector('#panel input[name=lat]').value !== ''")
    wc.select_option("#panel select[name=category]", "landslide")
    wc.wait_for_selector("#panel .preview .req", timeout=15_000)
    assert wc.text_content("#panel .where")
    wc.fill("#panel input[name=title]", "滑坡 landslide from the map")
    wc.click("#panel form.new-incident button[type=submit]")
    wc.wait_for_selector("#panel .inc-title", timeout=10_000)
    assert "landslide from the map" in wc.text_content("#panel .inc-title")
    created = wc.evaluate("window.rescueConsole.panel.id")
    wc.wait_for_selector(f'#queue li[data-id="{created}"]', timeout=10_000)
    r = requests.get(f"{server.api}/incidents/{created}", headers=server.h(WENCHENG), timeout=10)
    assert r.status_code == 200 and r.json()["category"] == "landslide"

    # Typed coordinates outside the county: the server's answer is shown, nothing is created.
    wc.click("#new-incident")
    wc.fill("#panel input[name=lat]", "95")
    wc.fill("#panel input[name=lon]", "120")
    wc.click("#panel form.new-incident button[type=submit]")
    assert "lat" in wc.text_content("#panel .form-error")


def test_refused_token_stays_on_the_login_form(server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        page.goto(server.base + "/")
        page.fill("input[name=token]", "not-a-token")
        page.click("#login-form button[type=submit]")
        page.wait_for_function("document.querySelector('#login-error').textContent !== ''")
        assert page.is_visible("#login")
    finally:
        ctx.close()


def test_nothing_is_loaded_from_another_host(server, pages):
    wc = pages(WENCHENG)
    wc.wait_for_timeout(500)
    origin = urlparse(server.base).netloc
    foreign = [u for u in wc.requests if urlparse(u).netloc not in (origin, "")
               and not u.startswith("data:")]
    assert foreign == []
    assert any("/vendor/leaflet/dist/leaflet.js" in u for u in wc.requests)
    # The served page and the console's own scripts name no other host either.
    html = requests.get(server.base + "/", timeout=10).text
    scripts = re.findall(r'src="([^"]+)"', html) + re.findall(r'href="([^"]+)"', html)
    assert all(s.startswith(("/", "data:")) for s in scripts), scripts
    for name in ("app.js", "api.js", "live.js", "units.js", "basemap.js", "incidents.js",
                 "panel.js", "advice.js", "feed.js", "i18n.js", "style.css"):
        body = requests.get(f"{server.base}/console/{name}", timeout=10)
        assert body.status_code == 200, name
        assert not re.search(r"https?://", body.text), name
    assert requests.get(server.base + "/vendor/../pyproject.toml", timeout=10).status_code == 404
    assert requests.get(server.base + "/vendor/leaflet/package.json", timeout=10).status_code == 404


def test_names_are_shown_as_text_never_run(server, pages):
    wc = pages(WENCHENG)
    evil = '<img src=x onerror="window.__pwned=1">'
    inc = report(server, WENCHENG, title=evil, lat=27.78, lon=120.07)
    wc.wait_for_selector(f'#queue li[data-id="{inc["id"]}"]', timeout=10_000)
    wc.click(f'#queue li[data-id="{inc["id"]}"]')
    wc.wait_for_selector("#panel .inc-title", timeout=10_000)
    wc.wait_for_timeout(300)
    assert evil in wc.text_content("#panel .inc-title")
    assert evil in wc.text_content("#feed")
    assert wc.evaluate("window.__pwned === undefined")
    assert wc.query_selector("#queue img, #panel img, #feed img") is None


def test_the_map_moves_only_when_following(server, pages):
    wc = pages(WENCHENG)
    centre = wc.evaluate("(() => { const c = window.rescueConsole.map.getCenter(); "
                         "return [c.lat, c.lng]; })()")
    far = report(server, WENCHENG, title="far corner, not followed", lat=27.88, lon=119.95)
    wc.wait_for_selector(f'#queue li[data-id="{far["id"]}"]', timeout=10_000)
    wc.wait_for_timeout(300)
    now = wc.evaluate("(() => { const c = window.rescueConsole.map.getCenter(); "
                      "return [c.lat, c.lng]; })()")
    assert now == centre  # free pan: a new incident never moves the map

    wc.evaluate("window.rescueConsole.map.setView([28.3, 120.3], 12, {animate: false}) && null")
    wc.check("#follow")
    followed = report(server, WENCHENG, title="followed", lat=27.75, lon=120.05)
    wc.wait_for_selector(f'#queue li[data-id="{followed["id"]}"]', timeout=10_000)
    wc.wait_for_function("([lat, lon]) => window.rescueConsole.map.getBounds()"
                         ".contains([lat, lon])", arg=[27.75, 120.05], timeout=5_000)
    # The operator dragging the map is looking elsewhere: follow switches itself off.
    box = wc.query_selector("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    wc.mouse.move(cx, cy)
    wc.mouse.down()
    wc.mouse.move(cx + 120, cy + 60, steps=6)
    wc.mouse.up()
    assert not wc.is_checked("#follow")


@pytest.mark.parametrize("size", [(1366, 768), (3840, 2160)])
def test_layout_fits_a_laptop_and_a_wall_screen(server, browser, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = ctx.new_page()
    try:
        log_in(page, server.base, server.tokens[WENCHENG])
        box = page.evaluate("""() => {
            const r = (s) => document.querySelector(s).getBoundingClientRect();
            return {scroll: document.documentElement.scrollWidth, vh: innerHeight,
                    map: r('#map').width, left: r('#left').width, right: r('#right').width,
                    top: r('#top').height, conn: r('#conn').right, who: r('#who').width,
                    font: parseFloat(getComputedStyle(document.documentElement).fontSize)};
        }""")
        assert box["scroll"] <= size[0]  # no sideways scrolling
        assert box["map"] >= 0.45 * size[0]
        assert box["left"] >= 200 and box["right"] >= 260
        assert 0 < box["conn"] <= size[0] and box["who"] > 0
        assert box["font"] >= (12 if size[0] < 2000 else 16)  # readable across the room
    finally:
        ctx.close()


def test_chinese_and_english_labels(server, pages):
    wc = pages(WENCHENG)
    before = wc.text_content("#queue-box h2")
    wc.click("#lang")
    wc.wait_for_selector('body[data-ready="1"]', timeout=30_000)
    after = wc.text_content("#queue-box h2")
    assert {before, after} == {"事件", "Incidents"}


def test_clock_thresholds(server, pages):
    wc = pages(WENCHENG)
    states = wc.evaluate("""async () => {
        const {clockState} = await import('/console/incidents.js');
        const t0 = Date.parse('2026-01-01T00:00:00Z');
        const inc = {reported_at: '2026-01-01T00:00:00Z', assignments: []};
        const at = (s) => clockState(inc, t0 + s * 1000, 30, 60).colour;
        const sent = {reported_at: '2026-01-01T00:00:00Z',
                      assignments: [{assigned_at: '2026-01-01T00:00:45Z'}]};
        const done = clockState(sent, t0 + 300000, 30, 60);
        return [at(5), at(30), at(59), at(60), at(600), done.colour, done.dispatchS];
    }""")
    assert states == ["ok", "amber", "amber", "red", "red", "done", 45]


def test_server_killed_mid_stream_then_back(tmp_path, browser):
    """kill -9 of the server under an open console: it says so, and when a server is back on
    the same address it catches up from the log what happened meanwhile, without a reload."""
    from urllib.parse import urlparse as parse

    from tests.conftest import stop_process
    from tests.e2e.conftest import start_server

    data = tmp_path / "killed"
    s = start_server(data)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = ctx.new_page()
        log_in(page, s.base, s.tokens[WENCHENG])
        page.evaluate("window.__sameDocument = true")
        s.proc.kill()  # SIGKILL
        s.proc.wait()
        page.wait_for_selector('#conn[data-state="reconnecting"]', timeout=10_000)
        ctx.set_offline(True)  # the link is down too: what follows must come by catch-up
        s = start_server(data, port=parse(s.base).port)
        missed = report(s, WENCHENG, title="while the server was down", lat=27.8, lon=120.1)
        ctx.set_offline(False)
        page.wait_for_selector(f'#queue li[data-id="{missed["id"]}"]', timeout=30_000)
        page.wait_for_selector('#conn[data-state="live"]', timeout=10_000)
        assert page.evaluate("window.__sameDocument === true")
    finally:
        ctx.close()
        stop_process(s.proc)


def test_incident_chat_between_the_centre_and_the_unit_on_scene(server, pages):
    wc = pages(WENCHENG)
    inc = report(server, WENCHENG, title=f"chat {uuid.uuid4().hex[:6]}", lat=27.79, lon=120.09)
    advice = requests.get(f"{server.api}/incidents/{inc['id']}/suggestions?k=10",
                          headers=server.h(WENCHENG), timeout=10).json()
    # A Wencheng unit the county may send (earlier tests may have sent the nearest ones).
    mine = [c["resource_id"] for req in advice["requirements"] for c in req["candidates"]
            if c.get("assignable", True) and c["resource_id"] != ""]
    unit = None
    for rid in mine:
        r = requests.post(f"{server.api}/incidents/{inc['id']}/assignments",
                          json={"resource_id": rid}, headers=server.h(WENCHENG), timeout=10)
        if r.status_code in (200, 201):
            unit = rid
            break
    assert unit is not None, advice
    wc.click(f'#queue li[data-id="{inc["id"]}"]')
    wc.wait_for_selector("#panel .chat-form input")
    wc.fill("#panel .chat-form input", "请报告现场情况 (report the scene)")
    wc.click("#panel .chat-form button")
    wc.wait_for_selector('#panel .chat li:has-text("请报告现场情况")', timeout=10_000)
    token = field_token(server.log.parent, unit)
    r = requests.post(f"{server.api}/incidents/{inc['id']}/messages",
                      json={"text": "已到达，两人被困 (on scene, two trapped)"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 201, r.text
    line = wc.wait_for_selector('#panel .chat li:has-text("两人被困")', timeout=10_000)
    assert unit in line.text_content()


def test_units_on_one_spot_carry_their_number_and_a_click_lists_them(server, pages):
    """Dongtou's rescue and volunteer boats lie within a few hundred metres of each other:
    drawn on one spot, which carries their number; a click there lists each of them (not
    only the one drawn on top), and a line of the list opens that unit's own popup."""
    city = pages("operator 3303")
    city.evaluate("() => { window.rescueConsole.map.setView([27.8235, 121.155], 11, {animate: false}); }")
    city.wait_for_function("() => window.rescueConsole.layer.stats.stacks > 0", timeout=10_000)
    at = city.evaluate("""() => {
        const c = window.rescueConsole, u = c.units.get("vv-dt-2");
        const p = c.map.latLngToContainerPoint([u.home.lat, u.home.lon]);
        const box = c.map.getContainer().getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y,
                near: c.layer.hitAll(p).map((n) => n.id)};
    }""")
    assert {"vv-dt-1", "vv-dt-2", "vv-dt-3", "msa-dt-patrol"} <= set(at["near"]), at
    city.mouse.click(at["x"], at["y"])
    city.wait_for_selector(".unit-stack button.unit-pick", timeout=10_000)
    listed = city.eval_on_selector_all(".unit-stack button.unit-pick",
                                       "els => els.map((e) => e.dataset.rid)")
    assert set(listed) == set(at["near"]) and len(listed) >= 4
    assert str(len(listed)) in city.text_content(".unit-stack > strong")
    city.click('.unit-stack button.unit-pick[data-rid="vv-dt-2"]')
    city.wait_for_selector(".unit-pop", timeout=10_000)
    name = city.evaluate("() => window.rescueConsole.units.get('vv-dt-2').name")
    assert name.split(" (")[0] in city.text_content(".unit-pop") or \
        name.split("(")[-1].rstrip(")") in city.text_content(".unit-pop")
    city.wait_for_selector(".unit-stack", state="detached", timeout=5_000)  # (it fades out)
    assert not city.errors


def painted_at(page, unit: str, east_km: float) -> bool:
    """Whether the unit layer has paint within a pixel of the point `east_km` east (west,
    negative) of the unit's fix."""
    return page.evaluate("""([id, km]) => {
        const c = window.rescueConsole, u = c.units.get(id);
        const lon = u.lon + km / (111.32 * Math.cos(u.lat * Math.PI / 180));
        const p = c.map.latLngToContainerPoint([u.lat, lon]);
        const dpr = window.devicePixelRatio || 1;
        const d = c.layer.g.getImageData(Math.round(p.x * dpr) - 1, Math.round(p.y * dpr) - 1,
                                         3, 3).data;
        return [3, 7, 11, 15, 19, 23, 27, 31, 35].some((i) => d[i] > 0);
    }""", [unit, east_km])


def test_a_moving_unit_shows_its_course_and_speed_ahead(server, pages):
    """A fix with a course and a speed draws a vector to where the unit would be six minutes
    on (60 km/h east: 6 km east), none behind it; the next fix without them drops it."""
    wc = pages(WENCHENG)
    unit = "wc-drone"
    spot = (27.74 + (time.time() % 100) / 10_000, 119.93)
    sio = field_client(server, unit)
    try:
        for extra in ({"speed_kmh": 60, "heading": 90}, {}):
            ack = sio.call("position", {"id": uuid.uuid4().hex, "lat": spot[0], "lon": spot[1],
                                        "time": now_iso(), **extra}, namespace="/field",
                           timeout=10)
            assert ack["ok"], ack
            wc.wait_for_function("([id, h]) => window.rescueConsole.units.get(id)?.course === h",
                                 arg=[unit, extra.get("heading")], timeout=10_000)
            frames = wc.evaluate("([la, lo]) => { const c = window.rescueConsole; "
                                 "c.map.setView([la, lo], 11, {animate: false}); c.layer.redraw(); "
                                 "return c.layer.stats.frames; }", list(spot))
            # A frame drawn after the view was set and the fix applied.
            wc.wait_for_function("(n) => window.rescueConsole.layer.stats.frames > n",
                                 arg=frames, timeout=10_000)
            if extra:
                # A console opened now learns the course from the log's last stretch, and
                # nothing else of that fix (the unit's status changed since).
                ack = sio.call("status", {"id": uuid.uuid4().hex, "status": "out_of_service",
                                          "time": now_iso()}, namespace="/field", timeout=10)
                assert ack["ok"], ack
                fresh = pages(WENCHENG)
                assert fresh.evaluate("(id) => { const u = window.rescueConsole.units.get(id);"
                                      " return [u.course, u.status]; }", unit) == [
                    90, "out_of_service"]
                ack = sio.call("status", {"id": uuid.uuid4().hex, "status": "available",
                                          "time": now_iso()}, namespace="/field", timeout=10)
                assert ack["ok"], ack
                assert painted_at(wc, unit, 4.5) and painted_at(wc, unit, 5.8)
                assert not painted_at(wc, unit, -4.5)
                assert "090°" in wc.evaluate(
                    "(id) => window.rescueConsole.layer.popupHtml("
                    "window.rescueConsole.units.get(id))", unit)
            else:
                assert not painted_at(wc, unit, 4.5) and not painted_at(wc, unit, 5.8)
    finally:
        sio.disconnect()


def test_a_stacks_list_shows_names_as_text(server, pages):
    from tests.integration.conftest import team

    evil = '<img src=x onerror="window.__pwned=1">'
    spot = (27.61, 119.81)  # a Wencheng hillside no other unit shares
    for i in range(2):
        rid = f"evil-{i}-{uuid.uuid4().hex[:6]}"
        r = requests.post(f"{server.api}/resources", json=team(
            rid, area="330328", lat=spot[0], lon=spot[1], name=f"{evil} {i}",
            call_sign=f'"><b id=x{i}>'), headers=server.h("admin"), timeout=10)
        assert r.status_code == 201, r.text
    wc = pages(WENCHENG)
    wc.evaluate("([la, lo]) => { window.rescueConsole.map.setView([la, lo], 12, "
                "{animate: false}); }", list(spot))
    at = wc.evaluate("""([la, lo]) => { const c = window.rescueConsole;
        const p = c.map.latLngToContainerPoint([la, lo]);
        const box = c.map.getContainer().getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y}; }""", list(spot))
    wc.wait_for_function("() => window.rescueConsole.layer.stats.stacks > 0", timeout=10_000)
    wc.mouse.click(at["x"], at["y"])
    wc.wait_for_selector(".unit-stack button.unit-pick", timeout=10_000)
    text = wc.text_content(".unit-stack")
    assert f"{evil} 0" in text and f"{evil} 1" in text and '"><b id=x0>' in text
    assert wc.query_selector(".unit-stack img, .unit-stack b") is None
    assert wc.evaluate("window.__pwned === undefined")
