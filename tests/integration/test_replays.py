"""Replays over HTTP and their playback: the recorded sequence, complete and in order, paced by
the shared clock; seeks that rebuild the picture from the log; forks that start from it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from realtime.visibility import Viewer
from rescue import tables
from rescue.auth import Principal
from rescue.events import EventQuery
from simulations.checkpoints import SqlCheckpoints
from simulations.exercises import ExerciseStore
from simulations.playback import Playback
from simulations.replays import ClockCache, ReplayStore
from simulations.resume import origin_of
from simulations.runner import execute, exercise_events
from simulations.scenario import load
from simulations.state import Picture, fold, from_dict
from tests.integration.test_exercises import wait_state

TRAINER = Principal(role="trainer", area="3303")


def recorded(ctx, scenario: str = "dongtou_person_in_water", seed: int = 5) -> str:
    """An exercise run to its end in this process (the job path is tested elsewhere)."""
    sc = load(scenario, tuple(ctx.plans.categories), ctx.vocab, seed=seed)
    ex = ExerciseStore(ctx.engine, ctx.clock).create(TRAINER, sc)
    assert execute(ctx, ex.id)["state"] == "done"
    return ex.id


class Viewer_:
    """A sink standing in for one socket client: the fake clock moves when the loop sleeps,
    `hooks` act when a frame arrives, the picture is folded as a console would."""

    def __init__(self, clock, hooks=None) -> None:
        self.clock = clock
        self.hooks = hooks or []
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.events: list[dict[str, Any]] = []
        self.pictures: list[dict[str, Any]] = []
        self.picture: Picture | None = None
        self.done = False
        self.slept = 0.0

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.messages.append((event, data))
        if event == "replay_progress":  # a long fold's news: nothing to fold
            return
        if event == "replay":
            if "picture" in data:
                self.pictures.append(data["picture"])
                self.picture = from_dict(data["picture"])
            self.done = data["replay"]["state"] in ("ended", "gone")
        else:
            assert self.picture is not None, "events before the picture"
            self.events.extend(data["events"])
            self.picture.fold(data["events"])
        for hook in list(self.hooks):
            if hook(self, event, data):
                self.hooks.remove(hook)

    def connected(self) -> bool:
        return not self.done

    def drain(self) -> None:
        self.clock.t += timedelta(milliseconds=1)

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.clock.t += timedelta(seconds=seconds)


def play(ctx, rid: str, viewer: Viewer, sink: Viewer_) -> Viewer_:
    store = ReplayStore(ctx.engine, ctx.clock)

    def read(q: EventQuery) -> list[dict]:
        with ctx.uow(readonly=True) as uow:
            return uow.events.read_dicts(q)

    Playback(rid, viewer, read, ClockCache(store), ctx.clock,
             checkpoints=SqlCheckpoints(ctx.engine, ctx.clock, every=40, per_entry=0)).serve(sink)
    return sink


def head(ctx) -> int:
    with ctx.uow(readonly=True) as uow:
        return uow.events.last_seq()


def test_replay_routes_check_input_scope_and_owner(ctx, client, tokens, clock) -> None:
    eid = recorded(ctx)
    trainer = tokens.header("trainer", area="3303")
    r = client.post("/api/v1/replays", json={"exercise": eid, "speed": 100}, headers=trainer)
    assert r.status_code == 201, r.json
    rp = r.json
    assert rp["state"] == "paused" and rp["time"] == rp["from"] and rp["speed"] == 100
    assert rp["join"] == {"namespace": "/centre", "auth": {"exercise": rp["id"]}}
    assert rp["from"].startswith("2026-11-21T13:05") and rp["to"].startswith("2026-11-21T16:05")
    rid = rp["id"]
    for bad, field in [({}, "exercise"), ({"exercise": eid, "area": "3303"}, "exercise"),
                       ({"exercise": eid, "speed": 0}, "speed"),
                       ({"exercise": eid, "speed": "fast"}, "speed"),
                       ({"exercise": eid, "from": "yesterday"}, "from"),
                       ({"exercise": "ex\ud800"}, "exercise"),
                       ({"exercise": "a\x00b"}, "exercise"),
                       ({"area": "3303", "from": "2026-07-01T09:00:00Z",
                         "to": "2026-07-01T08:00:00Z"}, "to"),
                       ({"area": "9999"}, "area"), ({"exercise": eid, "extra": 1}, "extra")]:
        r = client.post("/api/v1/replays", json=bad, headers=trainer)
        assert r.status_code == 400 and r.json["error"]["field"] == field, (bad, r.json)
    assert client.post("/api/v1/replays", json={"exercise": "ex-nope"},
                       headers=trainer).status_code == 404
    field_unit = tokens.header("field", resource_id="x")
    assert client.post("/api/v1/replays", json={"exercise": eid},
                       headers=field_unit).status_code == 403
    # Who sees it: its area's centres; who moves it: its owner (or an admin).
    elsewhere = tokens.header("operator", area="3302")
    assert client.get(f"/api/v1/replays/{rid}", headers=elsewhere).status_code == 404
    assert rid not in [x["id"] for x in client.get("/api/v1/replays", headers=elsewhere).json[
        "replays"]]
    watcher = tokens.header("operator", area="3303")
    assert client.get(f"/api/v1/replays/{rid}", headers=watcher).status_code == 200
    assert client.post(f"/api/v1/replays/{rid}/resume", headers=watcher).status_code == 403
    # The clock: resumed, 10 s of wall time at 100x is 1,000 s of the recording.
    start = datetime.fromisoformat(rp["from"])
    assert client.post(f"/api/v1/replays/{rid}/resume", headers=trainer).json["state"] == "playing"
    clock.t += timedelta(seconds=10)
    now = client.get(f"/api/v1/replays/{rid}", headers=trainer).json
    assert datetime.fromisoformat(now["time"]) == start + timedelta(seconds=1000)
    paused = client.post(f"/api/v1/replays/{rid}/pause", headers=trainer).json
    clock.t += timedelta(seconds=10)
    assert paused["state"] == "paused" and paused["time"] == now["time"]
    assert client.get(f"/api/v1/replays/{rid}", headers=trainer).json["time"] == now["time"]
    for path, bad, field in [("seek", {"time": 5}, "time"), ("seek", {}, "time"),
                             ("seek", {"time": "2026-11-21T13:05:00"}, "time"),
                             ("speed", {"speed": 1001}, "speed"), ("speed", {}, "speed")]:
        r = client.post(f"/api/v1/replays/{rid}/{path}", json=bad, headers=trainer)
        assert r.status_code == 400 and r.json["error"]["field"] == field, (path, bad, r.json)
    far = client.post(f"/api/v1/replays/{rid}/seek", json={"time": "2030-01-01T00:00:00Z"},
                      headers=trainer).json
    assert far["time"] == rp["to"] and far["generation"] == 1
    fast = client.post(f"/api/v1/replays/{rid}/speed", json={"speed": None}, headers=trainer)
    assert fast.status_code == 200 and fast.json["speed"] is None
    assert client.get(f"/api/v1/replays/{rid}",
                      headers=tokens.header("admin")).status_code == 200


def test_playback_sends_exactly_the_recorded_events_paced_by_the_clock(ctx, clock) -> None:
    eid = recorded(ctx)
    store = ReplayStore(ctx.engine, ctx.clock)
    first, last = store.bounds(eid)
    r = store.create(TRAINER, {"exercise": eid}, eid, "330305", first, last, 100.0)
    store.resume(r)
    before = head(ctx)
    wall0 = clock.t
    sink = play(ctx, r.id, Viewer(exercise=eid), Viewer_(clock))
    logged = exercise_events(ctx, eid)
    assert [e["seq"] for e in sink.events] == [e["seq"] for e in logged]
    assert sink.events == logged
    assert head(ctx) == before  # nothing appended
    # 3 hours at 100x: 108 s of wall time (the loop's steps are at most 0.1 s).
    took = (clock.t - wall0).total_seconds()
    assert 107 < took < 110, took
    states = [d["replay"]["state"] for e, d in sink.messages if e == "replay"]
    assert states[0] == "playing" and states[-1] == "ended"
    assert sink.picture is not None and sink.picture.to_dict() == fold(logged).to_dict()


def test_a_viewer_sees_only_its_scope_of_the_replay(ctx, clock) -> None:
    eid = recorded(ctx)
    store = ReplayStore(ctx.engine, ctx.clock)
    first, last = store.bounds(eid)
    r = store.resume(store.create(TRAINER, {"exercise": eid}, eid, "330305", first, last, None))
    sink = play(ctx, r.id, Viewer(scope="330302", exercise=eid), Viewer_(clock))
    logged = exercise_events(ctx, eid)
    mine = [e for e in logged if any(a.startswith("330302") for a in e["areas"])]
    assert len(mine) < len(logged) and sink.events == mine


def test_seek_back_then_forward_gives_the_same_picture(ctx, clock) -> None:
    eid = recorded(ctx)
    store = ReplayStore(ctx.engine, ctx.clock)
    first, last = store.bounds(eid)
    r = store.resume(store.create(TRAINER, {"exercise": eid}, eid, "330305", first, last,
                                  200.0))
    t20, t60, t120 = (first + timedelta(minutes=m) for m in (20, 60, 120))

    def at(t):
        def hook(sink, event, data) -> bool:
            return event == "events" and datetime.fromisoformat(data["time"]) > t
        return hook

    def seek_back(sink, event, data) -> bool:
        if at(t60)(sink, event, data):
            store.seek(store.get(r.id), t20)
            sink.hooks.append(seek_forward)
            return True
        return False

    def seek_forward(sink, event, data) -> bool:
        if len(sink.pictures) == 2 and event == "events":
            store.seek(store.get(r.id), t120)
            return True
        return False

    sink = play(ctx, r.id, Viewer(exercise=eid), Viewer_(clock, hooks=[seek_back]))
    logged = exercise_events(ctx, eid)
    with ctx.engine.connect() as conn:  # the folds to minutes 60 and 120 left them behind
        saved = conn.execute(select(func.count()).select_from(tables.picture_checkpoints)
                             ).scalar()
    assert saved and saved >= 2
    assert len(sink.pictures) == 3, "a picture on joining and one after each seek"
    assert sink.pictures[1] == fold(e for e in logged
                                    if datetime.fromisoformat(e["time"]) < t20).to_dict()
    assert sink.pictures[2] == fold(e for e in logged
                                    if datetime.fromisoformat(e["time"]) < t120).to_dict()
    assert sink.picture is not None and sink.picture.to_dict() == fold(logged).to_dict()
    # After the last seek, the recorded events after minute 120, in order.
    tail = [e for e in logged if datetime.fromisoformat(e["time"]) >= t120]
    assert sink.events[-len(tail):] == tail


def comparable(pic: Picture, exercise: str) -> tuple[dict, list]:
    units = {origin_of(u["id"], exercise): (u["status"], u["lat"], u["lon"])
             for u in pic.units.values()}
    incidents = sorted((i["category"], i["severity"], i["status"], i["lat"], i["lon"],
                        tuple(sorted(origin_of(a["resource_id"], exercise)
                                     for a in i["assignments"] if a.get("active", True))))
                       for i in pic.open_incidents())
    return units, incidents


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_fork_starts_from_the_recorded_picture(ctx, client, tokens, clock) -> None:
    eid = recorded(ctx)
    trainer = tokens.header("trainer", area="3303")
    rp = client.post("/api/v1/replays", json={"exercise": eid}, headers=trainer).json
    t30 = datetime.fromisoformat(rp["from"]) + timedelta(minutes=30)
    client.post(f"/api/v1/replays/{rp['id']}/seek", json={"time": t30.isoformat()},
                headers=trainer)
    r = client.post(f"/api/v1/replays/{rp['id']}/fork", json={"duration_s": 3600},
                    headers=trainer)
    assert r.status_code == 201, r.json
    fid = r.json["exercise"]
    assert r.json["fork"]["time"].startswith(t30.isoformat()[:19])
    done = wait_state(client, trainer, fid, {"done", "failed"})
    assert done["state"] == "done", done
    src = exercise_events(ctx, eid)
    forked = exercise_events(ctx, fid)
    recorded_pic = fold(e for e in src if datetime.fromisoformat(e["time"]) <= t30)
    start_pic = fold(e for e in forked if datetime.fromisoformat(e["time"]) <= t30)
    assert comparable(start_pic, fid) == comparable(recorded_pic, eid)
    busy = [u for u in recorded_pic.units.values() if u["status"] != "available"]
    assert busy, "minute 30 of the rescue has units at work"
    # The fork went on: the person in the water was reached and the units came home.
    assert forked[-1]["type"] == "exercise.ended"
    assert datetime.fromisoformat(forked[-1]["time"]) == t30 + timedelta(hours=1)
    assert any(e["type"] == "incident.status" and e["payload"]["incident"]["status"] == "closed"
               for e in forked)


def test_a_live_incident_replays_its_own_events_and_its_units(ctx, client, tokens,
                                                              clock) -> None:
    from tests.integration.conftest import team

    op = tokens.header("operator", area="330328")
    for rid in ("wc-1", "wc-2", "wc-3"):
        assert client.post("/api/v1/resources", json=team(rid), headers=op).status_code == 201
    clock.t += timedelta(minutes=5)
    inc = client.post("/api/v1/incidents", json={
        "title": "house collapse", "category": "building_collapse", "severity": "IV",
        "persons_at_risk": 3, "lat": 27.78, "lon": 120.08}, headers=op).json
    other = client.post("/api/v1/incidents", json={
        "title": "flood", "category": "flood", "severity": "IV", "persons_at_risk": 1,
        "lat": 27.79, "lon": 120.07}, headers=op).json
    steps = [("wc-1", inc["id"]), ("wc-2", other["id"])]
    for rid, iid in steps:
        clock.t += timedelta(minutes=1)
        r = client.post(f"/api/v1/incidents/{iid}/assignments", json={"resource_id": rid},
                        headers=op)
        assert r.status_code in (200, 201), r.json
    for i in range(3):
        clock.t += timedelta(minutes=2)
        for rid in ("wc-1", "wc-2", "wc-3"):
            client.post(f"/api/v1/resources/{rid}/position", headers=op,
                        json={"lat": 27.79 - 0.001 * i, "lon": 120.09, "time": clock.t.isoformat()})
    clock.t += timedelta(minutes=3)
    assert client.patch(f"/api/v1/incidents/{inc['id']}", json={"status": "closed",
                                                                "release_all": True},
                        headers=op).status_code == 200
    clock.t += timedelta(minutes=10)
    rp = client.post("/api/v1/replays", json={"incident": inc["id"]}, headers=op)
    assert rp.status_code == 201, rp.json
    assert rp.json["source"] == {"incident": inc["id"], "units": ["wc-1"]}
    assert rp.json["from"] == inc["reported_at"] and rp.json["area"].startswith("330328")
    store = ReplayStore(ctx.engine, ctx.clock)
    store.resume(store.set_speed(store.get(rp.json["id"]), None))
    sink = play(ctx, rp.json["id"], Viewer(scope="330328"), Viewer_(clock))
    with ctx.uow(readonly=True) as uow:
        live = uow.events.read_dicts(EventQuery(limit=10_000))
    t0 = datetime.fromisoformat(inc["reported_at"])
    mine = [e for e in live if datetime.fromisoformat(e["time"]) >= t0 and (
        "wc-1" in e["units"] or (e["payload"].get("incident") or {}).get("id") == inc["id"])]
    assert sink.events == mine
    assert {e["type"] for e in mine} >= {"incident.reported", "resource.position",
                                         "incident.status"}
    assert not any("wc-2" in e["units"] or "wc-3" in e["units"] for e in sink.events)
    # The picture at its start has the units registered before it (they are the scene's).
    assert {u["id"] for u in sink.pictures[0]["units"]} == {"wc-1"}
    # An area replay of the same hour: everything in Wencheng, for Wencheng's eyes only.
    area = client.post("/api/v1/replays", json={"area": "330328", "from": t0.isoformat()},
                       headers=op).json
    assert area["source"] == {"area": "330328"}
    store.resume(store.set_speed(store.get(area["id"]), None))
    seen = play(ctx, area["id"], Viewer(scope="330328"), Viewer_(clock))
    assert seen.events == [e for e in live if datetime.fromisoformat(e["time"]) >= t0]
    assert client.post("/api/v1/replays", json={"area": "330302"},
                       headers=op).status_code == 403
    # The after-action report of that window, built as a job (not in the request).
    r = client.post("/api/v1/reports", json={"area": "330328", "from": t0.isoformat(),
                                             "to": clock.t.isoformat()}, headers=op)
    assert r.status_code == 202, r.json
    rid = r.json["id"]
    for bad, field, code in [({"area": "330328", "exercise": "ex-1"}, "exercise", 400),
                             ({}, "exercise", 400), ({"area": "9999"}, "area", 400),
                             ({"area": "330328", "from": clock.t.isoformat(),
                               "to": t0.isoformat()}, "to", 400),
                             ({"area": "330302"}, None, 403)]:
        bad_r = client.post("/api/v1/reports", json=bad, headers=op)
        assert bad_r.status_code == code and bad_r.json["error"]["field"] == field, bad_r.json

    def built() -> dict | None:
        got = client.get(f"/api/v1/reports/{rid}", headers=op).json
        return got if got["state"] in ("done", "failed") else None

    import time as _time

    deadline = _time.monotonic() + 60
    while (rep := built()) is None and _time.monotonic() < deadline:
        _time.sleep(0.3)
    assert rep is not None and rep["state"] == "done", rep
    assert rep["report"]["incidents"] == 2
    timeline = {t["id"]: t for t in rep["report"]["timeline"]}
    assert timeline[inc["id"]]["first_dispatch_s"] == 60.0
    assert client.get(rep["html"], headers=op).status_code == 200
    png = client.get(rep["plots"][0], headers=op)
    assert png.status_code == 200 and png.data[:4] == b"\x89PNG"
    assert client.get(f"/api/v1/reports/{rid}",
                      headers=tokens.header("operator", area="330302")).status_code == 404


def test_a_long_replay_is_folded_ahead_by_a_job(ctx, client, tokens) -> None:
    """`replay.prepare`: created with a replay whose fold is long (here: any, the threshold at
    0), run as a job (a child process here; the Celery worker in test_exercises), it leaves
    checkpoints for its maker's sight and the whole slice's, so the first seek and a fork
    start from a saved picture equal to the fold from the log's start. A short replay gets
    no job."""
    from dataclasses import replace

    from simulations.checkpoints import key_of
    from simulations.playback import Slice, log_reader
    from tests.integration.test_jobs import wait_for_job

    eid = recorded(ctx, "taishun_mountain_search", 2)  # ~2,600 events: one checkpoint each
    trainer = tokens.header("trainer", area="3303")
    r = client.post("/api/v1/replays", json={"exercise": eid}, headers=trainer)
    assert r.status_code == 201 and r.json["prepare_job"] is None  # 20,000 by default
    ctx.config = replace(ctx.config, replay_prepare_events=0)
    r = client.post("/api/v1/replays", json={"exercise": eid}, headers=trainer)
    assert r.status_code == 201 and r.json["prepare_job"], r.json
    rp = ReplayStore(ctx.engine, ctx.clock).get(r.json["id"])
    assert client.get(f"/api/v1/replays/{rp.id}", headers=trainer).json["prepare_job"] == \
        rp.prepare_job
    job = wait_for_job(client, trainer, rp.prepare_job)
    assert job["status"] == "done" and job["kind"] == "replay.prepare", job
    assert job["result"]["sights"] == 2 and job["result"]["picture_entries"] > 0
    other = tokens.header("operator", area="3302")  # the job is the maker's business
    assert client.get(f"/api/v1/jobs/{rp.prepare_job}", headers=other).status_code == 404
    store = SqlCheckpoints(ctx.engine, ctx.clock)
    for viewer in (Viewer(scope="3303", exercise=eid), Viewer(exercise=eid)):
        mark = store.nearest(key_of(viewer, rp.source), seq_from=rp.seq_from,
                             seq_to=rp.seq_to, at=rp.time_to, inclusive=False)
        assert mark is not None and mark.seq > rp.seq_from, viewer
        cold = Slice(rp, viewer, log_reader(ctx)).picture(rp.time_to)[0]
        warm = Slice(rp, viewer, log_reader(ctx), checkpoints=store).picture(rp.time_to)[0]
        assert warm.to_dict() == cold.to_dict()
