"""A real pytak client against `rescue serve --demo` with its CoT listener (issue 10 §2, §5):
it connects, receives the units and incidents of the listener's scope (Wencheng) as CoT,
sends its position as a demo team's TAK uid (the team moves for every centre that sees it),
is answered when it pings, and a uid unknown to the registry is ignored, never created."""

from __future__ import annotations

import asyncio
import configparser
import warnings
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.conftest import free_port, stop_process
from tests.e2e.conftest import start_server
from tests.e2e.sockets import Listener, head

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pytak's optional aiohttp
    import pytak

TEAM, TEAM_UID = "wc-fire-mountain", "DEMO-TAK-wc-fire-mountain"
WENCHENG = (27.789, 120.09)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    port = free_port()
    s = start_server(tmp_path_factory.mktemp("tak"), {
        "RESCUE_COT_PORT": str(port), "RESCUE_COT_HOST": "127.0.0.1",
        "RESCUE_COT_SCOPE": "330328"})
    s.cot_port = port
    yield s
    stop_process(s.proc)


class TakClient:
    """pytak's own connection (protocol_factory) and CoT writer (gen_cot)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.events: list[ET.Element] = []

    async def connect(self) -> None:
        cfg = configparser.ConfigParser()
        cfg["tak"] = {"COT_URL": f"tcp://127.0.0.1:{self.port}"}
        self.reader, self.writer = await pytak.protocol_factory(cfg["tak"])

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def until(self, pred, timeout: float = 15.0) -> ET.Element:
        for e in self.events:
            if pred(e):
                return e
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no matching CoT; got {[e.get('uid') for e in self.events][-10:]}")
            raw = await asyncio.wait_for(self.reader.readuntil(b"</event>"), left)
            e = ET.fromstring(raw[raw.index(b"<event"):])
            self.events.append(e)
            if pred(e):
                return e


def test_a_pytak_client_round_trip(served) -> None:
    start = head(served.api, served.tokens["admin"])
    wencheng = Listener(served.base, served.tokens["operator 330328"], last_seq=start).connect()
    before = requests.get(f"{served.api}/resources?limit=1000", headers=served.h("admin"),
                          timeout=10).json()["features"]

    async def run() -> None:
        tak = TakClient(served.cot_port)
        await tak.connect()
        unit = await tak.until(lambda e: e.get("uid") == f"rescue-unit-{TEAM}")
        assert unit.get("type").startswith("a-f-G")
        assert unit.find("detail/contact").get("callsign") == "WC-FIRE-SY"
        assert not [e for e in tak.events if e.get("uid") == "rescue-unit-wz-usar"]  # Lucheng
        # A position as the team's TAK uid, a ping, and a stranger.
        await tak.send(pytak.gen_cot(lat=27.7912, lon=120.0871, uid=TEAM_UID,
                                     cot_type="a-f-G-U-C", stale=60))
        await tak.send(pytak.gen_cot(uid="ping", cot_type="t-x-c-t", stale=20, lat=0, lon=0))
        pong = await tak.until(lambda e: e.get("type") == "t-x-c-t-r")
        assert pong is not None
        await tak.send(pytak.gen_cot(lat=27.79, lon=120.09, uid="ANDROID-stranger",
                                     cot_type="a-f-G-U-C", stale=60))
        # An incident reported in Wencheng goes out; one in Lucheng does not.
        inc = requests.post(f"{served.api}/incidents", headers=served.h("operator 330328"),
                            timeout=10, json={"title": "山体滑坡 landslide", "category": "landslide",
                                              "severity": "III", "lat": WENCHENG[0],
                                              "lon": WENCHENG[1]}).json()
        requests.post(f"{served.api}/incidents", headers=served.h("operator 330302"),
                      timeout=10, json={"title": "Lucheng fire", "category": "fire",
                                        "severity": "IV", "lat": 28.0157, "lon": 120.6556})
        got = await tak.until(lambda e: e.get("uid") == f"rescue-incident-{inc['id']}")
        remarks = got.findtext("detail/remarks")
        assert "landslide" in remarks and "grade III" in remarks
        moved = await tak.until(lambda e: e.get("uid") == f"rescue-unit-{TEAM}"
                                and e.find("point").get("lat").startswith("27.7912"))
        assert moved is not None
        assert not [e for e in tak.events if "Lucheng" in (e.findtext("detail/remarks") or "")]
        tak.writer.close()

    try:
        asyncio.run(run())
        e = wencheng.wait_for(lambda e: e["type"] == "resource.position"
                              and e["payload"]["id"] == TEAM
                              and abs(e["payload"]["lat"] - 27.7912) < 1e-4)
        assert e["payload"]["lon"] == pytest.approx(120.0871)
    finally:
        wencheng.disconnect()
    after = requests.get(f"{served.api}/resources?limit=1000", headers=served.h("admin"),
                         timeout=10).json()["features"]
    assert len(after) == len(before)  # the stranger was not created


def test_a_stream_that_is_not_cot_is_closed(served) -> None:
    import socket

    s = socket.create_connection(("127.0.0.1", served.cot_port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\n" + b"x" * 70_000)
    s.settimeout(10)
    data = b""
    try:
        while chunk := s.recv(65_536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    s.close()
    # Still serving others.
    assert requests.get(f"{served.api}/health", timeout=10).status_code == 200
