"""Resources: list (GeoJSON, filtered), CRUD, position and status reports, import and export."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from rescue.api import contract as m
from rescue.api.contract import Contract
from rescue.api.deps import RateLimited, body, caller, ctx, idempotency_key, no_body, query
from rescue.api.geojson import collection, point_feature
from rescue.services import resources as svc
from rescue.services.field import FieldMessage, parse_position, parse_status
from resources.errors import ValidationError
from resources.model import Resource, effective_position, resource_to_dict
from resources.repository import ResourceFilter

EXPORT_TYPES = {"geojson": "application/geo+json", "csv": "text/csv",
                "gpkg": "application/geopackage+sqlite3"}
MAX_IMPORT_BYTES = 50 * 1024 * 1024
JSON_ERRORS = m.JSON_ERRORS + (404, 409)
# /resources/export and /resources/import are routes of their own: as a resource id they
# answer 405 for the methods those routes lack
RID_ERRORS = (400, 401, 403, 404, 405)


def resource_feature(r: Resource) -> dict:
    lat, lon = effective_position(r)
    return point_feature(lat, lon, resource_to_dict(r), feature_id=r.id)


def _filter(q: Any) -> ResourceFilter:
    """The listing's filter from its validated query (ResourcesQuery)."""
    def items(value: str | None) -> frozenset[str] | None:
        vals = [v for v in (value or "").split(",") if v]
        return frozenset(vals) if vals else None

    bbox = tuple(float(p) for p in q.bbox.split(",")) if q.bbox else None
    near = None
    if q.near_lat is not None or q.near_lon is not None:
        if q.near_lat is None or q.near_lon is None:
            raise ValidationError("near_lon" if q.near_lat is not None else "near_lat",
                                  "near_lat and near_lon go together", code="bad_request")
        near = (q.near_lat, q.near_lon, q.radius_km or 50.0)
    return ResourceFilter(
        kinds=items(q.kind), statuses=items(q.status), capabilities=items(q.capability),
        area_prefix=q.area or None, bbox=bbox, near=near,  # type: ignore[arg-type]
        exercise=q.exercise or None, limit=q.limit, offset=q.offset)


def _report(rid: str, model: type, parse) -> Response:  # noqa: ANN001 - parse: (data, now)
    """Position and status over HTTP: the same message, idempotency and group commit as
    /field; the client's message id comes in the Idempotency-Key header."""
    x = ctx()
    principal = caller()
    data = body(model)
    key = idempotency_key(data)
    report, _ = parse({k: v for k, v in data.items() if k != "client_id"}, x.clock())
    wait = x.field_limiter.check(rid)
    if wait > 0:
        raise RateLimited(wait)
    outcome = x.ingest.submit(FieldMessage(principal, report, rid, key))
    if not outcome.ok:
        raise outcome.error  # type: ignore[misc]
    return jsonify({"ok": True, "applied": outcome.seq is not None and not outcome.duplicate,
                    "duplicate": outcome.duplicate, "ignored": outcome.ignored,
                    "seq": outcome.seq,
                    "resource": resource_to_dict(outcome.resource) if outcome.resource else None})


def register(bp: Blueprint, c: Contract) -> None:
    doc = c.spec.validate

    @bp.get("/resources")
    @doc(query=c.ResourcesQuery, resp=c.resp(200, m.ResourceCollection, errors=(400, 401, 403, 404)),
         tags=["resources"], skip_validation=True)
    def list_resources():  # noqa: ANN202
        """Resources in scope as GeoJSON (nearest first with near_lat/near_lon, else by id)."""
        items = svc.list_resources(ctx().uow(readonly=True), caller(),
                                   _filter(query(c.ResourcesQuery)))
        return jsonify(collection(resource_feature(r) for r in items))

    @bp.post("/resources")
    @doc(json=c.ResourceIn, resp=c.resp(201, m.ResourceOut, errors=JSON_ERRORS),
         tags=["resources"], skip_validation=True)
    def create_resource():  # noqa: ANN202
        """Add a resource to the registry (409 when the id exists)."""
        x = ctx()
        r = svc.create_resource(x.uow(), caller(), body(c.ResourceIn), x.vocab,
                                x.geography.areas, x.clock())
        return jsonify(resource_to_dict(r)), 201, {"Location": f"/api/v1/resources/{r.id}"}

    @bp.get("/resources/export")
    @doc(query=c.ExportQuery, resp=c.resp(200, None, errors=(400, 401, 403, 404)),
         tags=["resources"], skip_validation=True)
    def export_resources():  # noqa: ANN202
        """The resources in scope as a GeoJSON, CSV or GeoPackage file."""
        q = query(c.ExportQuery)
        fmt = q.format
        items = svc.list_resources(ctx().uow(readonly=True), caller(), _filter(q))
        from resources import io as rio  # geopandas: loaded on first use, not at start

        data = rio.export(items, fmt)
        return Response(data, mimetype=EXPORT_TYPES[fmt], headers={
            "Content-Disposition": f'attachment; filename="resources.{fmt}"'})

    @bp.post("/resources/import")
    @doc(query=c.ImportQuery,
         resp=m.Response(HTTP_201=m.ImportSummary, HTTP_202=m.JobAccepted,
                         **{f"HTTP_{s}": m.ErrorOut for s in (400, 401, 403, 409, 413)}),
         tags=["resources"], skip_validation=True)
    def import_resources():  # noqa: ANN202
        """Import GeoJSON, CSV or GeoPackage, all or nothing, naming the row and field of a
        problem; with async=true a background job answers 202 at once."""
        x = ctx()
        principal = caller()
        q = query(c.ImportQuery)
        fmt = q.format
        upload = request.files.get("file")
        if upload is not None:
            data = upload.read(MAX_IMPORT_BYTES + 1)
            fmt = fmt or (upload.filename or "").rsplit(".", 1)[-1].lower()
        else:
            data = request.get_data(cache=False)
            ctype = (request.content_type or "").split(";")[0]
            fmt = fmt or {"text/csv": "csv", "application/geo+json": "geojson",
                          "application/json": "geojson",
                          "application/geopackage+sqlite3": "gpkg"}.get(ctype)
        if fmt == "json":
            fmt = "geojson"
        if fmt not in EXPORT_TYPES:
            raise ValidationError("format", "give ?format=geojson|csv|gpkg or a file with that "
                                  "extension", code="bad_request")
        if not data:
            raise ValidationError("file", "the upload is empty", code="bad_request")
        if len(data) > MAX_IMPORT_BYTES:
            raise ValidationError("file", "larger than 50 MB", code="too_large")
        if request.args.get("async", "").lower() in ("1", "true", "yes"):
            principal.require("operator", "trainer")
            job = x.jobs.create("resources.import", principal,
                                {"format": fmt, "role": principal.role, "area": principal.area},
                                data)
            x.runner.submit(job.id)
            return jsonify({"job": job.to_dict()}), 202, {"Location": f"/api/v1/jobs/{job.id}"}
        from resources import io as rio

        rows = rio.read_rows(data, fmt)
        summary = svc.import_resources(x.uow(), principal, rows, x.vocab, x.geography.areas,
                                       x.clock())
        return jsonify(summary), 201

    @bp.get("/resources/<rid:rid>")
    @doc(resp=c.resp(200, m.ResourceOut, errors=RID_ERRORS), tags=["resources"],
         skip_validation=True)
    def get_resource(rid: str):  # noqa: ANN202
        """One resource (404 outside your scope)."""
        return jsonify(resource_to_dict(svc.get_resource(ctx().uow(readonly=True), caller(), rid)))

    @bp.patch("/resources/<rid:rid>")
    @doc(json=c.ResourcePatch, resp=c.resp(200, m.ResourceOut, errors=JSON_ERRORS + (405,)),
         tags=["resources"], skip_validation=True)
    def patch_resource(rid: str):  # noqa: ANN202
        """Change fields (with `version`, only if nobody changed it meanwhile: 409)."""
        x = ctx()
        r = svc.update_resource(x.uow(), caller(), rid, body(c.ResourcePatch), x.vocab,
                                x.geography.areas, x.clock())
        return jsonify(resource_to_dict(r))

    @bp.delete("/resources/<rid:rid>")
    @doc(resp=c.resp(204, None, errors=RID_ERRORS + (409,)), tags=["resources"],
         skip_validation=True)
    def delete_resource(rid: str):  # noqa: ANN202
        """Remove a resource (409 while it works on an incident)."""
        x = ctx()
        svc.delete_resource(x.uow(), caller(), rid, x.clock())
        return "", 204

    @bp.post("/resources/<rid:rid>/position")
    @doc(json=m.PositionIn, resp=c.resp(200, m.ReportOut, errors=JSON_ERRORS + (429, 503)),
         tags=["resources"], skip_validation=True)
    def post_position(rid: str):  # noqa: ANN202
        """A position fix (older than the stored one: acknowledged and ignored)."""
        return _report(rid, m.PositionIn,
                       lambda d, now: parse_position(d, now, time_required=False))

    @bp.post("/resources/<rid:rid>/status")
    @doc(json=c.StatusIn, resp=c.resp(200, m.ReportOut, errors=JSON_ERRORS + (429, 503)),
         tags=["resources"], skip_validation=True)
    def post_status(rid: str):  # noqa: ANN202
        """A status report (illegal transitions: 409)."""
        return _report(rid, c.StatusIn,
                       lambda d, now: parse_status(d, now, time_required=False))

    @bp.get("/jobs/<name:job_id>")
    @doc(resp=c.resp(200, m.JobOut), tags=["jobs"], skip_validation=True)
    def get_job(job_id: str):  # noqa: ANN202
        """A background job: status, progress, result or error."""
        return jsonify(ctx().jobs.readable(caller(), job_id).to_dict())

    @bp.post("/jobs/<name:job_id>/cancel")
    @doc(json=m.ActionIn, resp=c.resp(200, m.JobOut, errors=JSON_ERRORS), tags=["jobs"],
         skip_validation=True)
    def cancel_job(job_id: str):  # noqa: ANN202
        """Stop a queued or running job (an import, a report, a replay's fold ahead): it stops
        at its next progress step. Only who started it, or an admin; an exercise's run is
        cancelled as the exercise (409). No body needed."""
        principal = caller()
        no_body()
        return jsonify(ctx().jobs.cancel(principal, job_id).to_dict())
