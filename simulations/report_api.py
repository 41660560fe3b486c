"""Report routes (DESIGN §11): an after-action report of an exercise, or of a window of live
history in an area, built as a job; read it as JSON, as a page, or its plots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, ConfigDict, Field

from rescue.api.contract import JSON_ERRORS
from rescue.api.deps import body, caller, ctx
from rescue.auth import Forbidden, Principal
from rescue.events import iso
from rescue.jobs import Job
from resources.errors import NotFound, ValidationError
from resources.model import AREA_BODY, ID_BODY
from simulations.exercises import ExerciseStore
from simulations.replay_api import window

KIND = "report.build"
LIVE_WINDOW = timedelta(hours=24)
PLOTS = ("response_times", "utilisation")


class ReportJobIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    exercise: str | None = Field(None, pattern=f"^{ID_BODY}$", max_length=64)
    area: str | None = Field(None, pattern=f"^{AREA_BODY}$", max_length=32)
    from_: str | None = Field(None, alias="from", max_length=40,
                              description="ISO 8601 with a zone (live window)",
                              json_schema_extra={"format": "date-time"})
    to: str | None = Field(None, max_length=40, description="ISO 8601 with a zone",
                           json_schema_extra={"format": "date-time"})


class ReportJobOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    state: str
    report: dict[str, Any] | None


def _params(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    x = ctx()
    if (data.get("exercise") is None) == (data.get("area") is None):
        raise ValidationError("exercise", "give exactly one of exercise or area")
    if data.get("exercise") is not None:
        ex = ExerciseStore(x.engine, x.clock).readable(principal, data["exercise"])
        return {"exercise": ex.id, "area": ex.area}
    area = data["area"]
    if x.geography.areas.get(area) is None:
        raise ValidationError("area", f"unknown area code {area!r}")
    if not principal.covers_area(area):
        raise Forbidden(f"area {area} is outside your scope")
    t0, t1 = window(data, x.clock(), LIVE_WINDOW)
    return {"area": area, "from": iso(t0), "to": iso(t1)}


def _job(rid: str) -> Job:
    job = ctx().jobs.readable(caller(), rid)
    if job.kind != KIND:
        raise NotFound(f"no report {rid!r}", field="id")
    return job


def _file(job: Job, name: str) -> bytes | None:
    from simulations.runner import reports_dir

    path = reports_dir(ctx(), job.id) / name
    return path.read_bytes() if job.status == "done" and path.exists() else None


def register(bp: Blueprint, c: Any) -> None:
    doc = c.spec.validate

    @bp.post("/reports")
    @doc(json=ReportJobIn, resp=c.resp(202, ReportJobOut, errors=JSON_ERRORS + (404,)),
         tags=["training"], skip_validation=True)
    def make_report():  # noqa: ANN202
        """Build an after-action report (a job): of an exercise, or of live history in an
        area between two moments (default: the last 24 h). Follow it at its id."""
        x = ctx()
        principal = caller()
        principal.require("operator", "trainer")
        job = x.jobs.create(KIND, principal, _params(principal, body(ReportJobIn)))
        x.runner.submit(job.id)
        return jsonify(_out(job)), 202, {"Location": f"/api/v1/reports/{job.id}"}

    @bp.get("/reports/<name:rid>")
    @doc(resp=c.resp(200, ReportJobOut), tags=["training"], skip_validation=True)
    def get_report(rid: str):  # noqa: ANN202
        """The report's state, and the report itself once it is built."""
        return jsonify(_out(_job(rid)))

    @bp.get("/reports/<name:rid>.html")
    def report_page(rid: str):  # noqa: ANN202
        """The report as a page, its plots inside."""
        page = _file(_job(rid), "report.html")
        if page is None:
            raise NotFound(f"report {rid} is not built yet", field="id")
        return Response(page, mimetype="text/html")

    @bp.get("/reports/<name:rid>/<name:plot>.png")
    def report_plot(rid: str, plot: str):  # noqa: ANN202
        """One plot of the report (response_times, utilisation)."""
        png = _file(_job(rid), f"{plot}.png") if plot in PLOTS else None
        if png is None:
            raise NotFound(f"no plot {plot!r} for {rid} (yet)", field="plot")
        return Response(png, mimetype="image/png")


def _out(job: Job) -> dict[str, Any]:
    import json

    raw = _file(job, "report.json")
    state = {"queued": "queued", "running": "running", "done": "done"}.get(job.status,
                                                                           "failed")
    return {"id": job.id, "state": state, "progress": job.progress, "message": job.message,
            "params": job.params, "error": job.error,
            "report": json.loads(raw) if raw is not None else None,
            "html": f"/api/v1/reports/{job.id}.html",
            "plots": [f"/api/v1/reports/{job.id}/{p}.png" for p in PLOTS]}
