"""AIS with a real server (issue 10 §5): `rescue serve --demo` with RESCUE_AIS_PORT set.

NMEA datagrams with a demo volunteer boat's MMSI move that boat on a `/centre` client; a
recorded log imported with `rescue ais import` does the same through the shared database; an
AIS-SART off Nanji raises exactly one person_overboard incident, with suggestions, however
many times it is heard.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from pyais.encode import encode_dict

from tests.conftest import free_port, stop_process
from tests.e2e.conftest import start_server
from tests.e2e.sockets import Listener, field_token, head

BOAT, BOAT_MMSI = "vv-nj-1", 413990027  # a Nanji volunteer boat in the demo registry
SEA_OFF_NANJI = (27.43, 121.12)


def nmea(msg: dict) -> list[str]:
    return encode_dict(msg, radio_channel="B", talker_id="AIVDM")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    port = free_port()
    s = start_server(tmp_path_factory.mktemp("ais"), {"RESCUE_AIS_PORT": str(port),
                                                      "RESCUE_AIS_HOST": "127.0.0.1"})
    s.ais_port = port
    yield s
    stop_process(s.proc)


def test_udp_sentences_move_the_demo_boat_live(served) -> None:
    units = requests.get(f"{served.api}/resources/{BOAT}", headers=served.h("admin"),
                         timeout=10).json()
    assert units["mmsi"] == str(BOAT_MMSI)
    start = head(served.api, served.tokens["admin"])
    pingyang = Listener(served.base, served.tokens["operator 330326"], last_seq=start).connect()
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(3):
            lines = nmea({"type": 1, "mmsi": BOAT_MMSI, "lat": 27.46 - i * 0.003,
                          "lon": 121.08, "speed": 9.0, "course": 180.0, "status": 0})
            lines += ["garbage\n", "!AIVDM,1,1,,B,bad,0*00"]
            sock.sendto("\r\n".join(lines).encode(), ("127.0.0.1", served.ais_port))
        e = pingyang.wait_for(lambda e: e["type"] == "resource.position"
                              and e["payload"]["id"] == BOAT
                              and abs(e["payload"]["lat"] - 27.454) < 1e-4, timeout=15)
        assert e["payload"]["speed_kmh"] == pytest.approx(9.0 * 1.852, abs=0.05)
    finally:
        pingyang.disconnect()


def test_an_imported_log_with_a_sart_raises_one_incident(served) -> None:
    lines = []
    for _ in range(6):  # the SART is heard six times; a test transmission too
        for s in nmea({"type": 1, "mmsi": 970001234, "lat": SEA_OFF_NANJI[0],
                       "lon": SEA_OFF_NANJI[1], "status": 14}):
            lines.append(s)
    lines += nmea({"type": 1, "mmsi": 970009999, "lat": SEA_OFF_NANJI[0],
                   "lon": SEA_OFF_NANJI[1], "status": 15})
    lines += nmea({"type": 1, "mmsi": BOAT_MMSI, "lat": 27.44, "lon": 121.10, "speed": 12.0,
                   "status": 0})
    path = served.log.parent / "recorded.nmea"
    path.write_text("\n".join(lines) + "\n")
    start = head(served.api, served.tokens["admin"])
    city = Listener(served.base, served.tokens["operator 3303"], last_seq=start).connect()
    try:
        rescue = Path(sys.executable).with_name("rescue")
        out = subprocess.run([str(rescue), "ais", "import", str(path)], capture_output=True,
                             text=True, timeout=120, check=True,
                             env={"RESCUE_DATA_DIR": str(served.log.parent), "PATH": "/usr/bin:/bin"})
        summary = json.loads(out.stdout.strip().splitlines()[-1])
        assert summary["applied"]["alarm_raised"] == 1, summary
        assert "100%" in out.stderr  # progress
        e = city.wait_for(lambda e: e["type"] == "incident.reported"
                          and e["payload"]["incident"]["id"].startswith("ais-970001234-"))
        inc = e["payload"]["incident"]
        assert inc["category"] == "person_overboard" and inc["surface"] == "sea"
        city.wait_for(lambda e: e["type"] == "sitrep.added"
                      and e["payload"]["incident_id"] == inc["id"])
        city.wait_for(lambda e: e["type"] == "resource.position"
                      and e["payload"]["id"] == BOAT and abs(e["payload"]["lat"] - 27.44) < 1e-4)
        incs = requests.get(f"{served.api}/incidents?limit=1000", headers=served.h("admin"),
                            timeout=10).json()["features"]
        assert len([f for f in incs if f["properties"]["id"].startswith("ais-")]) == 1
        advice = requests.get(f"{served.api}/incidents/{inc['id']}", headers=served.h("admin"),
                              timeout=10).json()["sitreps"][0]["text"]
        assert "ETA" in advice
    finally:
        city.disconnect()


def test_vessels_that_are_not_units_are_the_traffic_layer(served) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lines = nmea({"type": 18, "mmsi": 412777001, "lat": 27.9, "lon": 121.3, "speed": 7.0})
    lines += nmea({"type": 5, "mmsi": 412777001, "shipname": "ZHE YU 777"})
    sock.sendto("\n".join(lines).encode(), ("127.0.0.1", served.ais_port))
    deadline = time.monotonic() + 10
    while True:
        fc = requests.get(f"{served.api}/ais/traffic", headers=served.h("operator 3303"),
                          timeout=10).json()
        found = [f for f in fc["features"] if f["properties"]["mmsi"] == "412777001"]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert found and found[0]["geometry"]["coordinates"] == [121.3, 27.9]
    assert found[0]["properties"]["name"] == "ZHE YU 777"
    boat = requests.get(f"{served.api}/ais/traffic", headers=served.h("operator 3303"),
                        timeout=10).json()["features"]
    assert not [f for f in boat if f["properties"]["mmsi"] == str(BOAT_MMSI)]
    unit = {"Authorization": f"Bearer {field_token(served.log.parent, BOAT)}"}
    assert requests.get(f"{served.api}/ais/traffic", headers=unit, timeout=10).status_code == 403
