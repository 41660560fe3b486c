"""Exercise routes (DESIGN §11): start a scenario run, follow it, cancel it, read its report.

Training staff (trainer) and admins start exercises inside their own area; anyone whose scope
covers the exercise's area may follow it and read its report.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from rescue.api.contract import JSON_ERRORS, ActionIn, Plain
from rescue.api.deps import body, caller, ctx
from rescue.auth import Forbidden
from resources.errors import Conflict, NotFound, ValidationError
from simulations.exercises import ACTIVE, Exercise, ExerciseStore
from simulations.jobs import queue_run
from simulations.scenario import MAX_CHARACTERS, ScenarioError, load

PLOTS = ("response_times", "utilisation")


class ExerciseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scenario: str = Field(min_length=1, max_length=MAX_CHARACTERS,
                          description="a built-in name (typhoon, wencheng_collapse, "
                          "nanji_capsize, dongtou_person_in_water, taishun_mountain_search) "
                          "or a YAML document")
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    scale: float = Field(1.0, gt=0, le=100,
                         description="multiplies every incident generator's rate")
    mode: Literal["auto", "trainees"] = Field(
        "auto", description="auto: the dispatcher's plan is accepted; trainees: incidents wait "
        "for assignments made by operators who joined (POST .../join), in (scaled) real time")
    speed: float | None = Field(None, gt=0, le=1000,
                                description="times real time; null: as fast as possible "
                                "(trainees: real time)")


class ExerciseCancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reason: Plain | None = Field(None, max_length=200)


class ExerciseOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float
    sim_time: str | None


class ExerciseList(BaseModel):
    exercises: list[ExerciseOut]


class ExerciseReportOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    incidents: int
    response: dict[str, Any]


def _store() -> ExerciseStore:
    x = ctx()
    return ExerciseStore(x.engine, x.clock)


def register(bp: Blueprint, c: Any) -> None:
    doc = c.spec.validate

    @bp.post("/exercises")
    @doc(json=ExerciseIn, resp=c.resp(201, ExerciseOut, errors=JSON_ERRORS + (409,)),
         tags=["training"], skip_validation=True)
    def start_exercise():  # noqa: ANN202
        """Start a scenario run; it runs in the background (a job), follow it by its id."""
        x = ctx()
        principal = caller()
        principal.require("trainer")
        data = body(ExerciseIn)
        try:
            scenario = load(data["scenario"], tuple(x.plans.categories), x.vocab,
                            seed=data.get("seed"))
        except ScenarioError as e:
            raise ValidationError(f"scenario.{e.field}" if e.field else "scenario",
                                  str(e)) from None
        if not principal.covers_area(scenario.area):
            raise Forbidden(f"the scenario's area {scenario.area} is outside your scope")
        store = _store()
        ex = store.create(principal, scenario, mode=data.get("mode", "auto"),
                          speed=data.get("speed"), scale=float(data.get("scale", 1.0)))
        ex = queue_run(x, principal, ex.id)
        return jsonify(ex.to_dict()), 201, {
            "Location": f"/api/v1/exercises/{ex.id}"}

    @bp.get("/exercises")
    @doc(resp=c.resp(200, ExerciseList, errors=(401, 403)), tags=["training"],
         skip_validation=True)
    def list_exercises():  # noqa: ANN202
        """Exercises you may follow, newest first."""
        return jsonify({"exercises": [e.to_dict() for e in _store().list(caller())]})

    @bp.get("/exercises/<name:eid>")
    @doc(resp=c.resp(200, ExerciseOut), tags=["training"], skip_validation=True)
    def get_exercise(eid: str):  # noqa: ANN202
        """State, progress and simulated time of one exercise."""
        return jsonify(_store().readable(caller(), eid).to_dict())

    @bp.post("/exercises/<name:eid>/join")
    @doc(json=ActionIn, resp=c.resp(200, ExerciseOut, errors=JSON_ERRORS + (404, 409)),
         tags=["training"], skip_validation=True)
    def join_exercise(eid: str):  # noqa: ANN202
        """Join an exercise with trainees in the loop: your token may then assign its units
        to its incidents (open the console at `join.console`); no body needed."""
        from rescue.api.deps import no_body

        principal = caller()
        principal.require("operator", "trainer")
        no_body()
        return jsonify(_store().join(principal, eid).to_dict())

    @bp.post("/exercises/<name:eid>/cancel")
    @doc(json=ExerciseCancelIn, resp=c.resp(200, ExerciseOut, errors=JSON_ERRORS + (404, 409)),
         tags=["training"], skip_validation=True)
    def cancel_exercise(eid: str):  # noqa: ANN202
        """Stop a queued or running exercise (what it recorded so far stays); the body
        (a reason) is optional."""
        principal = caller()
        data = body(ExerciseCancelIn) if request.content_length else {}
        store = _store()
        ex = store.readable(principal, eid)
        _require_owner(principal, ex)
        message = f"cancelled: {data['reason']}" if data.get("reason") else "cancelled"
        if not store.set(eid, only_if=ACTIVE, state="cancelled", message=message):
            raise Conflict(f"exercise {eid} is {store.get(eid).state}", field="state",
                           code="not_active")
        return jsonify(store.get(eid).to_dict())

    @bp.get("/exercises/<name:eid>/report")
    @doc(resp=c.resp(200, ExerciseReportOut), tags=["training"], skip_validation=True)
    def exercise_report(eid: str):  # noqa: ANN202
        """The after-action report from the exercise's log (so far, while it runs)."""
        ex = _store().readable(caller(), eid)
        stored = _stored(ex, "report.json")
        return (Response(stored, mimetype="application/json") if stored is not None
                else jsonify(_report(ex)))

    # The page and its plots are not JSON: served beside the contract, not in it.
    @bp.get("/exercises/<name:eid>/report.html")
    def exercise_report_page(eid: str):  # noqa: ANN202
        """The report as a page with its plots."""
        from simulations.reportfiles import page, plots

        ex = _store().readable(caller(), eid)
        stored = _stored(ex, "report.html")
        if stored is not None:
            return Response(stored, mimetype="text/html")
        report = _report(ex)
        return Response(page(report, plots(report)), mimetype="text/html")

    @bp.get("/exercises/<name:eid>/report/<name:plot>.png")
    def exercise_plot(eid: str, plot: str):  # noqa: ANN202
        """One plot of the report (response_times, utilisation)."""
        ex = _store().readable(caller(), eid)
        stored = _stored(ex, f"{plot}.png") if plot in PLOTS else None
        if stored is None:
            raise NotFound(f"no plot {plot!r} for {eid} (plots are drawn when it is done)",
                           field="plot")
        return Response(stored, mimetype="image/png")


def _require_owner(principal: Any, ex: Exercise) -> None:
    if principal.role != "admin" and ex.owner != principal.label:
        raise Forbidden("only who started the exercise (or an admin) may stop it")


def _stored(ex: Exercise, name: str) -> bytes | None:
    """A report file written when the exercise ended (its log no longer changes)."""
    from simulations.runner import reports_dir

    path = reports_dir(ctx(), ex.id) / name
    return path.read_bytes() if ex.state == "done" and path.exists() else None


def _report(ex: Exercise) -> dict[str, Any]:
    """The report of a run still going (or stopped): read from its log now, a page at a time
    with a pause between pages, so the server's other clients are served meanwhile."""
    import time

    from simulations.report import Builder
    from simulations.runner import exercise_pages

    x = ctx()
    builder = Builder(x.plans, x.vocab)
    for page in exercise_pages(x, ex.id, limit=2000):
        builder.feed(page)
        time.sleep(0.001)
    return builder.report()
