"""Replay routes (DESIGN §11): record a slice, then play, pause, seek, change speed, fork.

Anyone who may act in an area (operators, trainers, admins) may replay what happened in it:
an exercise they may follow, a live incident they may read, or an area inside their scope
over a time window. Viewers join on `/centre` with `exercise` = the replay's id; only who
made the replay (or an admin) moves its clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from rescue.api.contract import JSON_ERRORS, ActionIn, Time, whole
from rescue.api.deps import body, caller, ctx, no_body
from rescue.auth import Forbidden, Principal
from rescue.incidents import INCIDENT_ID_BODY
from rescue.services.incidents import readable_incident
from resources.errors import ValidationError
from resources.model import AREA_BODY, ID_BODY, parse_time
from simulations.exercises import ExerciseStore
from simulations.replays import Replay, ReplayStore

TIME = Field(None, max_length=40, description="ISO 8601 with a zone",
             json_schema_extra={"format": "date-time"})
SPEED = Field(None, gt=0, le=1000, description="times real time; null: as fast as possible")
LIVE_WINDOW = timedelta(hours=1)


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    exercise: str | None = Field(None, pattern=f"^{ID_BODY}$", max_length=64)
    incident: str | None = Field(None, pattern=f"^{INCIDENT_ID_BODY}$", max_length=40)
    area: str | None = Field(None, pattern=f"^{AREA_BODY}$", max_length=32)
    from_: str | None = Field(None, alias="from", max_length=40,
                              description="ISO 8601 with a zone",
                              json_schema_extra={"format": "date-time"})
    to: str | None = TIME
    speed: float | None = SPEED


class SeekIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    time: Time


class SpeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    speed: float | None = Field(gt=0, le=1000, description="times real time; null: as fast "
                                "as possible")


class ForkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    mode: Literal["auto"] = "auto"
    speed: float | None = SPEED
    duration_s: whole(1, 7 * 86400) | None = Field(  # type: ignore[valid-type]
        None, description="how long the fork runs (default: the rest of the exercise, or 6 h "
        "after a live slice)")


class ReplayOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    state: Literal["paused", "playing", "ended"]
    speed: float | None
    time: str


class ReplayList(BaseModel):
    replays: list[ReplayOut]


class ForkOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    exercise: str
    state: str


def _store() -> ReplayStore:
    x = ctx()
    return ReplayStore(x.engine, x.clock)


def _out(r: Replay) -> dict[str, Any]:
    return r.to_dict(ctx().clock())


def _controlled(principal: Principal, rid: str) -> Replay:
    r = _store().readable(principal, rid)
    if principal.role != "admin" and r.owner != principal.label:
        raise Forbidden("only who made the replay (or an admin) moves its clock")
    return r


def _time(data: dict[str, Any], key: str) -> datetime | None:
    return parse_time(data[key], key) if data.get(key) is not None else None


def window(data: dict[str, Any], now: datetime, span: timedelta) -> tuple[datetime, datetime]:
    """A window of live history from the body's `from` and `to`: up to now, `span` long, by
    default."""
    t1 = _time(data, "to") or now
    t0 = _time(data, "from") or t1 - span
    if t1 < t0:
        raise ValidationError("to", "is before from")
    return t0, t1


def create_replay(principal: Principal, data: dict[str, Any]) -> Replay:
    """Resolve what to replay into an exercise (or the live log), an area and a window."""
    x = ctx()
    chosen = [k for k in ("exercise", "incident", "area") if data.get(k) is not None]
    if len(chosen) != 1:
        raise ValidationError("exercise", "give exactly one of exercise, incident or area")
    kind = chosen[0]
    t0, t1 = _time(data, "from"), _time(data, "to")
    store = _store()
    if kind == "exercise":
        ex = ExerciseStore(x.engine, x.clock).readable(principal, data["exercise"])
        first, last = store.bounds(ex.id)
        source: dict[str, Any] = {"exercise": ex.id}
        exercise: str | None = ex.id
        area = ex.area or ""
        t0, t1 = t0 or first, t1 or last
    elif kind == "incident":
        with x.uow(readonly=True) as uow:
            inc = readable_incident(principal, uow.incidents.get(data["incident"]),
                                    data["incident"])
        units = sorted({a.resource_id for a in inc.assignments})
        source = {"incident": inc.id, "units": units}
        exercise, area = inc.exercise, inc.area
        t0 = t0 or inc.reported_at
        t1 = t1 or (inc.updated_at if inc.status == "closed" else x.clock())
    else:
        area = data["area"]
        if x.geography.areas.get(area) is None:
            raise ValidationError("area", f"unknown area code {area!r}")
        if not principal.covers_area(area):
            raise Forbidden(f"area {area} is outside your scope")
        source, exercise = {"area": area}, None
        t0, t1 = window(data, x.clock(), LIVE_WINDOW)
    if t0 is None or t1 is None:
        raise ValidationError("exercise", "the exercise has recorded nothing yet")
    return store.create(principal, source, exercise, area, t0, t1, data.get("speed"))


def register(bp: Blueprint, c: Any) -> None:
    doc = c.spec.validate

    @bp.post("/replays")
    @doc(json=ReplayIn, resp=c.resp(201, ReplayOut, errors=JSON_ERRORS + (404, 409)),
         tags=["training"], skip_validation=True)
    def make_replay():  # noqa: ANN202
        """Replay an exercise, a live incident or an area over a window; created paused at
        its start so viewers can join (on /centre, `exercise` = its id) before it plays. A
        long slice is folded ahead by a job (`prepare_job`, progress on `GET /jobs/{id}`), so
        that seeks start from a saved picture."""
        from simulations.prepare import queue_prepare

        principal = caller()
        principal.require("operator", "trainer")
        r = queue_prepare(ctx(), principal, create_replay(principal, body(ReplayIn)))
        return jsonify(_out(r)), 201, {"Location": f"/api/v1/replays/{r.id}"}

    @bp.get("/replays")
    @doc(resp=c.resp(200, ReplayList, errors=(401, 403)), tags=["training"],
         skip_validation=True)
    def list_replays():  # noqa: ANN202
        """Replays you may watch, newest first."""
        return jsonify({"replays": [_out(r) for r in _store().list(caller())]})

    @bp.get("/replays/<name:rid>")
    @doc(resp=c.resp(200, ReplayOut), tags=["training"], skip_validation=True)
    def get_replay(rid: str):  # noqa: ANN202
        """Where the replay stands: its state, speed and replayed moment."""
        return jsonify(_out(_store().readable(caller(), rid)))

    @bp.post("/replays/<name:rid>/pause")
    @doc(json=ActionIn, resp=c.resp(200, ReplayOut, errors=JSON_ERRORS + (404, 409)),
         tags=["training"], skip_validation=True)
    def pause_replay(rid: str):  # noqa: ANN202
        """Stop the clock where it is (every viewer stops there); no body needed."""
        principal = caller()
        no_body()
        return jsonify(_out(_store().pause(_controlled(principal, rid))))

    @bp.post("/replays/<name:rid>/resume")
    @doc(json=ActionIn, resp=c.resp(200, ReplayOut, errors=JSON_ERRORS + (404, 409)),
         tags=["training"], skip_validation=True)
    def resume_replay(rid: str):  # noqa: ANN202
        """Play from where it stands (from the start again once it has ended); no body
        needed."""
        principal = caller()
        no_body()
        return jsonify(_out(_store().resume(_controlled(principal, rid))))

    @bp.post("/replays/<name:rid>/seek")
    @doc(json=SeekIn, resp=c.resp(200, ReplayOut, errors=JSON_ERRORS + (404, 409)),
         tags=["training"], skip_validation=True)
    def seek_replay(rid: str):  # noqa: ANN202
        """Jump to a moment of the slice (clamped to it); viewers get the picture at that
        moment rebuilt from the log, then the events after it."""
        principal = caller()
        data = body(SeekIn)
        at = parse_time(data["time"], "time")
        return jsonify(_out(_store().seek(_controlled(principal, rid), at)))

    @bp.post("/replays/<name:rid>/speed")
    @doc(json=SpeedIn, resp=c.resp(200, ReplayOut, errors=JSON_ERRORS + (404, 409)),
         tags=["training"], skip_validation=True)
    def speed_replay(rid: str):  # noqa: ANN202
        """Change the speed (1 to 1000 times real time, null: as fast as possible)."""
        principal = caller()
        data = body(SpeedIn)
        if "speed" not in data:
            raise ValidationError("speed", "is required (a number, or null)")
        return jsonify(_out(_store().set_speed(_controlled(principal, rid), data["speed"])))

    @bp.post("/replays/<name:rid>/fork")
    @doc(json=ForkIn, resp=c.resp(201, ForkOut, errors=JSON_ERRORS + (404, 409)),
         tags=["training"], skip_validation=True)
    def fork_replay(rid: str):  # noqa: ANN202
        """What if: a new exercise starting from the picture at the replay's moment."""
        from simulations.forks import fork

        principal = caller()
        principal.require("trainer")
        data = body(ForkIn) if request.content_length else {}
        r = _store().readable(principal, rid)
        ex = fork(ctx(), principal, r, mode=data.get("mode", "auto"), speed=data.get("speed"),
                  duration_s=data.get("duration_s"))
        return jsonify({**ex.to_dict(), "exercise": ex.id}), 201, {
            "Location": f"/api/v1/exercises/{ex.id}"}
