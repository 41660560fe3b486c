"""Command in the console (issue 12 §4), in Chromium against `rescue serve --demo`: a Wencheng
operator directs the unit on an incident from the incident panel, sees its acceptance arrive
live on the board; an unaccepted directive turns overdue on the board, first and loud; the city
directs the county, whose board offers the answer; Lucheng's board shows none of it."""

from __future__ import annotations

import io
import time
import uuid

import requests
from PIL import Image

from tests.e2e.sockets import field_token
from tests.e2e.test_console import LUCHENG, WENCHENG, field_client, report
from tests.integration.conftest import team

CITY = "operator 3303"


def new_unit(server, prefix: str) -> str:
    rid = f"{prefix}-{uuid.uuid4().hex[:6]}"
    r = requests.post(f"{server.api}/resources", json=team(rid, area="330328"),
                      headers=server.h("admin"), timeout=10)
    assert r.status_code == 201, r.text
    return rid


def unit_on_new_incident(server, prefix: str) -> tuple[str, dict]:
    """A new Wencheng unit, assigned to a new Wencheng incident."""
    rid = new_unit(server, prefix)
    inc = report(server, WENCHENG, title=f"{prefix} {uuid.uuid4().hex[:6]}", lat=27.79,
                 lon=120.09)
    r = requests.post(f"{server.api}/incidents/{inc['id']}/assignments", json={"resource_id": rid},
                      headers=server.h(WENCHENG), timeout=10)
    assert r.status_code in (200, 201), r.text
    return rid, inc


def test_direct_from_the_incident_and_see_the_answer_live(server, pages):
    wc = pages(WENCHENG)
    lc = pages(LUCHENG)
    rid, inc = unit_on_new_incident(server, "cmd")
    unit = field_client(server, rid)
    got = []
    unit.on("events", lambda b: got.extend(b["events"]), namespace="/field")
    try:
        wc.click(f'#queue li[data-id="{inc["id"]}"]')
        wc.click("#panel .direct-incident")
        box = wc.wait_for_selector(f'#directives-box .composer input[value="{rid}"]')
        assert box.is_checked()
        wc.fill("#directives-box .composer textarea", "搜索东侧废墟 (search the east rubble)")
        wc.click("#directives-box .composer button.primary")
        item = wc.wait_for_selector('#directives-box li.directive:has-text("搜索东侧废墟")')
        assert item.get_attribute("data-state") == "open"
        did = item.get_attribute("data-id")
        deadline = time.monotonic() + 10
        while not any(e["type"] == "directive.issued" for e in got):
            assert time.monotonic() < deadline, "the unit never received it"
            unit.sleep(0.1)
        ack = unit.call("answer", {"id": "c-1", "directive": did, "state": "accepted"},
                        namespace="/field", timeout=10)
        assert ack["ok"], ack
        wc.wait_for_selector(f'#directives-box li[data-id="{did}"] .rcpt.ans-accepted',
                             timeout=10_000)
    finally:
        unit.disconnect()

    # Nobody accepts this one: overdue, on top, loud.
    other = new_unit(server, "cmd-late")
    late = requests.post(f"{server.api}/directives", headers=server.h(WENCHENG), timeout=10,
                         json={"to": {"resources": [other]}, "text": "report position",
                               "deadline_s": 1}).json()
    first = wc.wait_for_selector('#directives-box li.directive[data-state="overdue"]',
                                 timeout=10_000)
    assert first.get_attribute("data-id") == late["id"]
    assert wc.eval_on_selector("#directives-box li.directive", "e => e.dataset.state") == "overdue"
    assert lc.query_selector("#directives-box li.directive") is None


def test_the_city_directs_the_county_which_answers_on_its_board(server, pages):
    wc = pages(WENCHENG)
    d = requests.post(f"{server.api}/directives", headers=server.h(CITY), timeout=10, json={
        "to": {"area": "330328"}, "text": "组织第二梯队 (raise a second echelon)"}).json()
    item = wc.wait_for_selector(f'#directives-box li[data-id="{d["id"]}"]', timeout=10_000)
    item.query_selector('button.answer[data-state="accepted"]').click()
    wc.wait_for_selector(f'#directives-box li[data-id="{d["id"]}"] .rcpt.ans-accepted',
                         timeout=10_000)
    body = requests.get(f"{server.api}/directives/{d['id']}", headers=server.h(CITY),
                        timeout=10).json()
    assert body["recipients"][0]["state"] == "accepted"
    assert body["recipients"][0]["by"].startswith("operator:330328")


def _jpeg(n: int, size: tuple[int, int] = (320, 240)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (n * 20 % 256, 120, 60)).save(buf, "JPEG")
    return buf.getvalue()


def test_photos_and_frames_from_the_scene_on_the_panel_and_the_map(server, pages, tmp_path):
    wc = pages(WENCHENG)
    rid, inc = unit_on_new_incident(server, "cam")
    unit = {"Authorization": f"Bearer {field_token(server.log.parent, rid)}"}
    photo = requests.post(f"{server.api}/incidents/{inc['id']}/media", headers=unit, timeout=10,
                          files={"file": ("a.jpg", _jpeg(1, (1200, 900)), "image/jpeg")},
                          data={"caption": "东侧裂缝"}).json()
    wc.click(f'#queue li[data-id="{inc["id"]}"]')
    thumb = wc.wait_for_selector(f'#panel .gallery figure[data-id="{photo["id"]}"] img.thumb[src^="blob:"]',
                                 timeout=10_000)
    assert thumb.evaluate("i => i.naturalWidth") == 320
    # Frames arrive live: the latest on the panel and on the map.
    for n in range(3):
        last = requests.post(f"{server.api}/incidents/{inc['id']}/streams/drone-1/frames",
                             data=_jpeg(n), timeout=10,
                             headers={**unit, "Content-Type": "image/jpeg"}).json()
    wc.wait_for_selector('#panel figure.stream[data-stream="drone-1"] img.latest[src^="blob:"]',
                         timeout=10_000)
    assert wc.eval_on_selector_all('#panel figure.stream .strip img', "els => els.length") == 2
    wc.wait_for_selector(f'.frame-marker[data-frame="{last["id"]}"] img[src^="blob:"]',
                         timeout=10_000)
    # The operator uploads a voice note from the panel.
    note = tmp_path / "note.amr"
    note.write_bytes(b"#!AMR\n" + b"\x3c" * 300)
    wc.set_input_files("#panel .upload input[type=file]", str(note))
    wc.fill("#panel .upload input[name=caption]", "指挥部语音")
    wc.click("#panel .upload button")
    wc.wait_for_selector('#panel .gallery figure.audio:has-text("指挥部语音")', timeout=10_000)
    assert not wc.errors
