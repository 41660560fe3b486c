"""AIS in (issue 10 §1) on SQLite and PostgreSQL: a recorded NMEA log moves a registered boat
through the field path (once, however often it is replayed); unknown vessels are traffic;
an active AIS-SART raises one person_overboard incident with the dispatcher's plan, its test
mode and points outside the region none; bad sentences are counted, never raised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyais.encode import encode_dict

from realtime.ais import AisDecoder
from rescue.aisfeed import ais_service, import_file, import_lines
from tests.integration.conftest import team

BOAT_MMSI = 413990017
NANJI = (27.43, 121.12)  # the sea south-east of Nanji island


def sentences(msg: dict, channel: str = "A") -> list[str]:
    return encode_dict(msg, radio_channel=channel, talker_id="AIVDM")


def tagged(line: str, at: datetime) -> str:
    """A tag block with the receiver's time (as an AIS network feed stamps each sentence)."""
    body = f"c:{int(at.timestamp())}"
    check = 0
    for ch in body.encode():
        check ^= ch
    return f"\\{body}*{check:02X}\\{line}"


@pytest.fixture
def boat(client, tokens):
    admin = tokens.header("admin")
    body = team("vv-test-1", area="330326", lat=27.472, lon=121.064, kind="volunteer_vessel",
                caps=["water_rescue", "search"], mmsi=str(BOAT_MMSI), speed_kmh=30,
                tier="volunteer")
    r = client.post("/api/v1/resources", json=body, headers=admin)
    assert r.status_code == 201, r.json
    assert r.json["mmsi"] == str(BOAT_MMSI)
    for i in range(2):  # rescue vessels the dispatcher can plan with
        body = team(f"rb-{i}", area="3303", lat=27.47, lon=121.06, kind="vessel",
                    caps=["water_rescue", "search", "medical"], speed_kmh=40)
        assert client.post("/api/v1/resources", json=body, headers=admin).status_code == 201
    return "vv-test-1"


def test_a_recorded_log_moves_the_registered_boat_once(ctx, client, tokens, boat, clock,
                                                       tmp_path) -> None:
    t0 = clock.t - timedelta(minutes=2)
    log = []
    for i in range(5):
        at = t0 + timedelta(seconds=20 * i)
        fix = {"type": 1, "mmsi": BOAT_MMSI, "lat": 27.47 + i * 0.002, "lon": 121.07,
               "speed": 8.5, "course": 45.0, "heading": 44, "status": 0}
        log += [tagged(s, at) for s in sentences(fix)]
    log += sentences({"type": 5, "mmsi": BOAT_MMSI, "shipname": "ZHE DONG YU 123"})
    log += ["garbage", "!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5D",  # bad checksum
            "!AIVDM,2,1,7,A,55O0W7`00001L@gCWGA2uItLth@DqtL5@F22220j1h742t0Ht0000000,0*0B"]
    log += sentences({"type": 18, "mmsi": 412345678, "lat": 27.9, "lon": 121.2, "speed": 3.1})
    path = tmp_path / "ais.nmea"
    path.write_text("\n".join(log) + "\n")
    seen = []
    stats, done = import_file(ctx, path, lambda f, d: seen.append(f))
    assert done["unit_applied"] == 5 and done["traffic"] == 1, done
    assert stats["garbage"] == 1 and stats["bad_checksum"] == 1, stats
    assert seen[-1] == 1.0
    r = client.get(f"/api/v1/resources/{boat}", headers=tokens.header("admin")).json
    assert r["lat"] == pytest.approx(27.478, abs=1e-4)
    assert r["position_time"].startswith((t0 + timedelta(seconds=80)).strftime("%Y-%m-%dT%H:%M"))
    evs = client.get("/api/v1/events?limit=1000",
                     headers=tokens.header("operator", area="330326")).json["events"]
    assert len([e for e in evs if e["type"] == "resource.position"
                and e["payload"]["id"] == boat]) == 5
    # The same log again (a second receiver, a replayed file): nothing applied twice.
    _, again = import_file(ctx, path)
    assert again["unit_applied"] == 0 and again["unit_duplicate"] == 5, again
    traffic = ais_service(ctx).traffic.latest
    assert "412345678" in traffic and boat not in traffic


def test_an_active_sart_raises_one_incident_with_a_plan(ctx, client, tokens, boat) -> None:
    at = datetime.now(UTC)
    sart = {"type": 1, "mmsi": 970012345, "lat": NANJI[0], "lon": NANJI[1], "status": 14}
    lines = [tagged(s, at + timedelta(seconds=i)).encode() for i in range(8)
             for s in sentences(sart)]
    _, done = import_lines(ctx, lines)
    assert done["alarm_raised"] == 1 and done["alarm_known"] == 7, done
    incs = client.get("/api/v1/incidents?limit=100", headers=tokens.header("admin")).json
    raised = [f["properties"] for f in incs["features"]
              if f["properties"]["id"].startswith("ais-970012345-")]
    assert len(raised) == 1
    inc = raised[0]
    assert inc["category"] == "person_overboard" and inc["surface"] == "sea"
    full = client.get(f"/api/v1/incidents/{inc['id']}", headers=tokens.header("admin")).json
    assert full["sitreps"] and "ETA" in full["sitreps"][0]["text"]
    # The centres of the sea off Nanji see it; Wencheng does not.
    assert client.get(f"/api/v1/incidents/{inc['id']}",
                      headers=tokens.header("operator", area="3303")).status_code == 200
    assert client.get(f"/api/v1/incidents/{inc['id']}",
                      headers=tokens.header("operator", area="330328")).status_code == 404


def test_sart_tests_and_beacons_outside_the_region_raise_nothing(ctx, client, tokens) -> None:
    lines = [s.encode() for s in sentences({"type": 1, "mmsi": 970099999, "lat": NANJI[0],
                                            "lon": NANJI[1], "status": 15})]  # test mode
    lines += [s.encode() for s in sentences({"type": 1, "mmsi": 972000001, "lat": 10.0,
                                             "lon": 10.0, "status": 14})]  # far away
    _, done = import_lines(ctx, lines)
    assert done["alarm_outside"] == 1 and "alarm_raised" not in done, done
    incs = client.get("/api/v1/incidents", headers=tokens.header("admin")).json["features"]
    assert not [f for f in incs if f["properties"]["id"].startswith("ais-")]


def test_a_live_flood_from_one_vessel_is_rate_limited_a_log_is_not(ctx) -> None:
    lines = [s.encode() for i in range(50) for s in sentences(
        {"type": 18, "mmsi": 412000111, "lat": 27.9 + i * 1e-4, "lon": 121.2})]
    decoder = AisDecoder()
    live = ais_service(ctx).apply([r for line in lines for r in decoder.feed(line)])
    assert live["rate_limited"] > 30 and live["traffic"] < 20, live
    _, done = import_lines(ctx, lines)  # a recorded log, read as fast as it goes
    assert done["traffic"] == 50 and "rate_limited" not in done, done


def test_the_decoder_survives_anything() -> None:
    d = AisDecoder()
    junk = [b"", b"\x00\xff" * 40, b"!AIVDM", b"!AIVDM,1,1,,A,,0*00", b"\\s:x*ZZ\\!AIVDM",
            b"!AIVDM,9,9,9,A,zzzz,0*00", "\ud800".encode("utf-8", "surrogatepass"),
            b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
            b"!AIVDM,2,2,3,A,000000000000000,2*20"]
    for chunk in junk:
        assert d.feed(chunk) == []
    assert d.stats["sentences"] >= 7
