"""Scene media with real clients (issue 12 §5) against `rescue serve --demo`.

A photo posted by a field unit reaches, with its thumbnail, every centre that sees the incident
(Wencheng, the city, the province) and is refused (404) to Lucheng; a file named `.jpg` that
is not an image is refused; a stream of 60 frames shows its latest frame live, and a replay of
the incident shows all 60 at their recorded times.
"""

from __future__ import annotations

import io
import uuid

import pytest
import requests
from PIL import Image

from tests.e2e.sockets import Listener, field_token, head
from tests.e2e.test_replay_live import ReplayClient, ended
from tests.integration.conftest import team

WENCHENG, LUCHENG, CITY, PROVINCE = "330328", "330302", "3303", "33"


def jpeg(n: int, size: tuple[int, int] = (320, 240)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (n * 4 % 256, 90, 200 - n)).save(buf, "JPEG", quality=70)
    return buf.getvalue()


@pytest.fixture(scope="module")
def scene(server):
    rid = f"media-{uuid.uuid4().hex[:6]}"
    r = requests.post(f"{server.api}/resources", json=team(rid, area=WENCHENG),
                      headers=server.h("admin"), timeout=10)
    assert r.status_code == 201, r.text
    inc = requests.post(f"{server.api}/incidents", headers=server.h(f"operator {WENCHENG}"),
                        timeout=10, json={"title": "house collapse", "severity": "IV",
                                          "category": "building_collapse", "lat": 27.78,
                                          "lon": 120.08}).json()
    r = requests.post(f"{server.api}/incidents/{inc['id']}/assignments",
                      json={"resource_id": rid}, headers=server.h(f"operator {WENCHENG}"),
                      timeout=10)
    assert r.status_code in (200, 201), r.text
    unit = {"Authorization": f"Bearer {field_token(server.log.parent, rid)}"}
    start = head(server.api, server.tokens["admin"])
    centres = {a: Listener(server.base, server.tokens[f"operator {a}"], last_seq=start).connect()
               for a in (WENCHENG, LUCHENG, CITY, PROVINCE)}
    yield server, inc["id"], unit, centres
    for c in centres.values():
        c.disconnect()


def test_a_units_photo_reaches_the_centres_above_with_its_thumbnail(scene) -> None:
    server, iid, unit, centres = scene
    photo = jpeg(1, (1200, 900))
    r = requests.post(f"{server.api}/incidents/{iid}/media", headers=unit, timeout=10,
                      files={"file": ("scene.jpg", photo, "image/jpeg")},
                      data={"caption": "东侧墙体裂缝 (crack in the east wall)"})
    assert r.status_code == 201, r.text
    m = r.json()
    for area in (WENCHENG, CITY, PROVINCE):
        e = centres[area].wait_for(lambda e: e["type"] == "media.added"
                                   and e["payload"]["media"]["id"] == m["id"])
        got = e["payload"]["media"]
        assert got["thumbnail_url"] == m["thumbnail_url"] and "data" not in got
        h = server.h(f"operator {area}")
        thumb = requests.get(server.base + got["thumbnail_url"], headers=h, timeout=10)
        assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(thumb.content)).size) == 320
        assert requests.get(server.base + got["url"], headers=h, timeout=10).content == photo
    assert centres[LUCHENG].wait_seq(centres[WENCHENG].last_seq)
    assert not [e for e in centres[LUCHENG].events if e["type"] == "media.added"]
    lucheng = server.h(f"operator {LUCHENG}")
    for url in (m["url"], m["thumbnail_url"]):
        assert requests.get(server.base + url, headers=lucheng, timeout=10).status_code == 404
    # A file named .jpg that is not an image.
    r = requests.post(f"{server.api}/incidents/{iid}/media", headers=unit, timeout=10,
                      files={"file": ("photo.jpg", b"MZ\x90\x00 not a photo" * 50,
                                      "image/jpeg")})
    assert r.status_code == 415 and r.json()["error"]["field"] == "file"


def test_sixty_frames_live_then_all_in_a_replay(scene) -> None:
    server, iid, unit, centres = scene
    url = f"{server.api}/incidents/{iid}/streams/drone-1/frames"
    frames = {}
    for n in range(60):
        data = jpeg(n)
        r = requests.post(url, data=data, timeout=10, headers={
            **unit, "Content-Type": "image/jpeg", "Idempotency-Key": f"drone-1-{n}"})
        assert r.status_code == 201, r.text
        frames[r.json()["id"]] = data
    last = r.json()
    wc = centres[WENCHENG]
    wc.wait_for(lambda e: e["type"] == "stream.frame" and e["payload"]["frame"]["id"] == last["id"])
    live = [e["payload"]["frame"]["id"] for e in wc.events if e["type"] == "stream.frame"
            and e["payload"]["frame"]["incident_id"] == iid]
    assert live == list(frames)  # every frame, in order
    latest = requests.get(f"{server.api}/incidents/{iid}/streams/drone-1/latest",
                          headers=server.h(f"operator {CITY}"), timeout=10)
    assert latest.status_code == 200 and latest.content == frames[last["id"]]

    op = server.h(f"operator {WENCHENG}")
    rp = requests.post(f"{server.api}/replays", json={"incident": iid, "speed": 20},
                       headers=op, timeout=10)
    assert rp.status_code == 201, rp.text
    viewer = ReplayClient(server.base, server.tokens[f"operator {WENCHENG}"], rp.json()["id"])
    try:
        r = requests.post(f"{server.api}/replays/{rp.json()['id']}/resume", headers=op,
                          timeout=10)
        assert r.status_code == 200, r.text
        viewer.wait(ended, timeout=120)
        replayed = [e for e in viewer.events if e["type"] == "stream.frame"]
        assert [e["payload"]["frame"]["id"] for e in replayed] == list(frames)
        times = [e["time"] for e in replayed]
        assert times == sorted(times)  # at their recorded times, in order
        some = replayed[17]["payload"]["frame"]
        got = requests.get(server.base + some["url"], headers=op, timeout=10).content
        assert got == frames[some["id"]]
    finally:
        viewer.sio.disconnect()
