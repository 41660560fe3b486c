"""CoT in: a TCP stream split into events and read, whatever a client (or an attacker) sends;
CoT out: events ATAK reads back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from realtime.cot import (
    CotError,
    EventSplitter,
    build_event,
    delete_event,
    parse_event,
    pong,
)

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
POS = (b'<?xml version="1.0"?><event version="2.0" uid="ANDROID-1" type="a-f-G-U-C" '
       b'time="2026-07-01T07:59:58.000Z" start="2026-07-01T07:59:58Z" '
       b'stale="2026-07-01T08:05:00Z" how="m-g"><point lat="27.79" lon="120.09" hae="0" '
       b'ce="5" le="5"/><detail><contact callsign="WC-1"/><track speed="2.5" course="90"/>'
       b'</detail></event>')


def test_a_stream_in_any_chunks_gives_the_same_events() -> None:
    stream = POS + b"\n" + POS.replace(b"ANDROID-1", b"ANDROID-2") + POS[:40]
    for size in (1, 7, 64, len(stream)):
        s = EventSplitter()
        docs = [d for i in range(0, len(stream), size) for d in s.feed(stream[i:i + size])]
        assert [parse_event(d).uid for d in docs] == ["ANDROID-1", "ANDROID-2"]


def test_a_position_is_read() -> None:
    ev = parse_event(POS[POS.index(b"<event"):])
    assert ev.is_position and ev.lat == 27.79 and ev.callsign == "WC-1"
    assert ev.speed_kmh == pytest.approx(9.0) and ev.course == 90
    assert ev.time == datetime(2026, 7, 1, 7, 59, 58, tzinfo=UTC)


@pytest.mark.parametrize("doc", [
    b"<event", b"<event uid='x'></event>", b"<notevent/>",
    b'<event uid="x" type="a-f"><point lat="nan" lon="1"/></event>',
    b'<event uid="x" type="a-f"><point lat="95" lon="1"/></event>',
    b'<!DOCTYPE e [<!ENTITY a "aaaa">]><event uid="&a;" type="a"></event>',
])
def test_hostile_events_are_refused_or_harmless(doc) -> None:
    try:
        ev = parse_event(doc)
    except CotError:
        return
    assert not ev.is_position


def test_a_stream_without_events_or_with_a_huge_one_is_refused() -> None:
    with pytest.raises(CotError):
        EventSplitter(limit=1000).feed(b"x" * 2000)
    with pytest.raises(CotError):
        EventSplitter(limit=1000).feed(b"<event uid='x'>" + b"y" * 2000)


def test_events_out_read_back() -> None:
    ev = parse_event(build_event("rescue-unit-a", "a-f-A-C-H", NOW, 120, lat=27.9, lon=120.8,
                                 callsign='H"1<&', remarks="heli <hoist>", speed_kmh=180,
                                 course=45))
    assert ev.uid == "rescue-unit-a" and ev.callsign == 'H"1<&'
    assert ev.speed_kmh == pytest.approx(180) and ev.course == 45
    assert parse_event(pong(NOW)).type == "t-x-c-t-r"
    assert parse_event(delete_event("rescue-incident-1", NOW)).type == "t-x-d-d"
