"""The pieces a replay is made of: the picture folded from events, and the shared clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from simulations.replays import Replay
from simulations.state import Picture, fold

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def unit(uid: str, status: str = "available", lat: float | None = None) -> dict:
    return {"id": uid, "status": status, "lat": lat, "lon": None if lat is None else 120.0,
            "position_time": None, "version": 1, "kind": "boat"}


def incident(iid: str, status: str, units: tuple[str, ...] = ()) -> dict:
    return {"id": iid, "status": status, "category": "flood",
            "assignments": [{"resource_id": u, "active": True} for u in units]}


def log(n: int, seed: int) -> list[dict]:
    """A plausible log: units created, incidents reported and worked, positions between."""
    rnd = random.Random(seed)
    out: list[dict] = []

    def ev(kind: str, payload: dict) -> None:
        out.append({"seq": len(out) + 1, "type": kind, "payload": payload,
                    "time": (T0 + timedelta(seconds=len(out))).isoformat()})

    units = [f"u{i}" for i in range(5)]
    for u in units:
        ev("resource.created", {"resource": unit(u)})
    for i in range(n):
        roll = rnd.random()
        u = rnd.choice(units)
        if roll < 0.5:
            ev("resource.position", {"id": u, "lat": 27 + rnd.random(), "lon": 120.5,
                                     "time": "2026-07-01T08:00:00Z", "version": i + 2,
                                     "status": "en_route"})
        elif roll < 0.7:
            ev("resource.status", {"resource": unit(u, rnd.choice(["available", "on_scene"]))})
        elif roll < 0.95:
            ev(rnd.choice(["incident.reported", "incident.assignment", "incident.status"]),
               {"incident": incident(f"i{rnd.randrange(6)}",
                                     rnd.choice(["reported", "on_scene", "closed"]), (u,))})
        else:
            ev("exercise.decision", {"incident": incident("i0", "reported")})
    return out


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 120), cut=st.integers(0, 200), seed=st.integers(0, 10_000))
def test_a_snapshot_then_the_rest_is_the_whole_fold(n: int, cut: int, seed: int) -> None:
    events = log(n, seed)
    cut = min(cut, len(events))
    whole = fold(events)
    resumed = fold(events[:cut]).copy().fold(events[cut:])
    assert resumed.to_dict() == whole.to_dict()
    assert whole.seq == (events[-1]["seq"] if events else 0)


def test_positions_move_known_units_and_closed_incidents_leave_the_picture() -> None:
    pic = Picture().fold([
        {"seq": 1, "type": "resource.created", "payload": {"resource": unit("a")}, "time": "t"},
        {"seq": 2, "type": "resource.position", "payload": {"id": "a", "lat": 27.5, "lon": 121,
                                                            "time": "x", "status": "en_route"},
         "time": "t"},
        {"seq": 3, "type": "resource.position", "payload": {"id": "ghost", "lat": 1, "lon": 2},
         "time": "t"},
        {"seq": 4, "type": "incident.reported", "payload": {"incident": incident("i", "reported")},
         "time": "t"},
        {"seq": 5, "type": "incident.reported", "payload": {"incident": incident("j", "reported")},
         "time": "t"},
        {"seq": 6, "type": "incident.status", "payload": {"incident": incident("j", "closed")},
         "time": "t"},
    ])
    d = pic.to_dict()
    assert d["units"] == [{**unit("a"), "lat": 27.5, "lon": 121, "position_time": "x",
                           "status": "en_route"}]
    assert [i["id"] for i in d["incidents"]] == ["i"] and d["seq"] == 6


def replay(**kw) -> Replay:
    base = dict(id="rp-1", owner="o", source={"exercise": "ex"}, exercise="ex", area="3303",
                seq_from=0, seq_to=100, time_from=T0, time_to=T0 + timedelta(hours=1),
                state="paused", speed=10.0, anchor_wall=T0, anchor_time=T0, generation=0,
                reached_time=None, created=T0, updated=T0)
    base.update(kw)
    return Replay(**base)


def test_the_clock_is_an_anchor_scaled_by_the_speed_and_clamped_to_the_slice() -> None:
    wall = T0 + timedelta(days=3)
    paused = replay(anchor_time=T0 + timedelta(minutes=5), anchor_wall=wall)
    assert paused.position(wall + timedelta(hours=5)) == T0 + timedelta(minutes=5)
    playing = replay(state="playing", anchor_wall=wall, speed=100.0)
    assert playing.position(wall + timedelta(seconds=6)) == T0 + timedelta(minutes=10)
    assert playing.effective_state(wall + timedelta(seconds=6)) == "playing"
    assert playing.position(wall + timedelta(seconds=60)) == T0 + timedelta(hours=1)
    assert playing.effective_state(wall + timedelta(seconds=60)) == "ended"
    fast = replay(state="playing", speed=None, reached_time=T0 + timedelta(minutes=7))
    assert fast.position(wall) == T0 + timedelta(minutes=7)


def test_an_incident_slice_keeps_its_incident_and_its_units_only() -> None:
    r = replay(source={"incident": "inc-1", "units": ["boat"]}, exercise=None)
    keep = [{"payload": {"incident": {"id": "inc-1"}}, "units": []},
            {"payload": {"incident_id": "inc-1", "resource": {"id": "x"}}, "units": []},
            {"payload": {"id": "boat"}, "units": ["boat"]}]
    drop = [{"payload": {"incident": {"id": "inc-2"}}, "units": ["heli"]},
            {"payload": {"id": "heli"}, "units": ["heli"]}]
    assert all(r.keeps(e) for e in keep) and not any(r.keeps(e) for e in drop)
