"""Resources: list (GeoJSON, filtered), CRUD, position and status reports, import and export."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from rescue.api.deps import (
    RateLimited,
    caller,
    ctx,
    float_arg,
    idempotency_key,
    int_arg,
    json_body,
    list_arg,
)
from rescue.api.geojson import collection, point_feature
from rescue.services import resources as svc
from rescue.services.field import FieldMessage, parse_position, parse_status
from resources.errors import ValidationError
from resources.model import Resource, effective_position, resource_to_dict
from resources.repository import ResourceFilter

EXPORT_TYPES = {"geojson": "application/geo+json", "csv": "text/csv",
                "gpkg": "application/geopackage+sqlite3"}
MAX_IMPORT_BYTES = 50 * 1024 * 1024


def resource_feature(r: Resource) -> dict:
    lat, lon = effective_position(r)
    return point_feature(lat, lon, resource_to_dict(r), feature_id=r.id)


def _filter() -> ResourceFilter:
    vocab = ctx().vocab
    kinds = list_arg("kind")
    statuses = list_arg("status")
    caps = list_arg("capability")
    for name, values, allowed in (("kind", kinds, vocab.kind_modes),
                                  ("status", statuses, vocab.statuses),
                                  ("capability", caps, vocab.capabilities)):
        for v in values or ():
            if v not in allowed:
                raise ValidationError(name, f"unknown {name} {v!r}", code="bad_request")
    bbox = None
    if request.args.get("bbox"):
        parts = request.args["bbox"].split(",")
        try:
            bbox = tuple(float(p) for p in parts)
        except ValueError:
            raise ValidationError("bbox", "must be min_lon,min_lat,max_lon,max_lat", code="bad_request") from None
        if len(bbox) != 4:
            raise ValidationError("bbox", "must be min_lon,min_lat,max_lon,max_lat", code="bad_request")
    near = None
    if request.args.get("near_lat") or request.args.get("near_lon"):
        near = (float_arg("near_lat", required=True, lo=-90, hi=90),
                float_arg("near_lon", required=True, lo=-180, hi=180),
                float_arg("radius_km", lo=0, hi=20000) or 50.0)
    return ResourceFilter(
        kinds=frozenset(kinds) if kinds else None,
        statuses=frozenset(statuses) if statuses else None,
        capabilities=frozenset(caps) if caps else None,
        area_prefix=request.args.get("area") or None,
        bbox=bbox, near=near,
        exercise=request.args.get("exercise") or None,
        limit=int_arg("limit", 5000, lo=1, hi=100000),
        offset=int_arg("offset", 0, lo=0, hi=10**9),
    )


def _report(rid: str, parse) -> Response:  # noqa: ANN001 - parse: data, now -> (body, id)
    """Position and status over HTTP: the same message, idempotency and group commit as
    /field; the client's message id comes in the Idempotency-Key header."""
    c = ctx()
    principal = caller()
    data = json_body()
    key = idempotency_key(data)
    body, _ = parse({k: v for k, v in data.items() if k != "client_id"}, c.clock())
    wait = c.field_limiter.check(rid)
    if wait > 0:
        raise RateLimited(wait)
    outcome = c.ingest.submit(FieldMessage(principal, body, rid, key))
    if not outcome.ok:
        raise outcome.error  # type: ignore[misc]
    return jsonify({"ok": True, "applied": outcome.seq is not None and not outcome.duplicate,
                    "duplicate": outcome.duplicate, "ignored": outcome.ignored,
                    "seq": outcome.seq,
                    "resource": resource_to_dict(outcome.resource) if outcome.resource else None})


def register(bp: Blueprint) -> None:
    @bp.get("/resources")
    def list_resources():  # noqa: ANN202
        items = svc.list_resources(ctx().uow(readonly=True), caller(), _filter())
        return jsonify(collection(resource_feature(r) for r in items))

    @bp.post("/resources")
    def create_resource():  # noqa: ANN202
        c = ctx()
        r = svc.create_resource(c.uow(), caller(), json_body(), c.vocab, c.geography.areas,
                                c.clock())
        return jsonify(resource_to_dict(r)), 201, {"Location": f"/api/v1/resources/{r.id}"}

    @bp.get("/resources/export")
    def export_resources():  # noqa: ANN202
        fmt = request.args.get("format", "geojson")
        if fmt not in EXPORT_TYPES:
            raise ValidationError("format", f"must be one of {', '.join(EXPORT_TYPES)}",
                                  code="bad_request")
        items = svc.list_resources(ctx().uow(readonly=True), caller(), _filter())
        from resources import io as rio  # geopandas: loaded on first use, not at start

        data = rio.export(items, fmt)
        return Response(data, mimetype=EXPORT_TYPES[fmt], headers={
            "Content-Disposition": f'attachment; filename="resources.{fmt}"'})

    @bp.post("/resources/import")
    def import_resources():  # noqa: ANN202
        c = ctx()
        principal = caller()
        fmt = request.args.get("format")
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
            job = c.jobs.create("resources.import", principal,
                                {"format": fmt, "role": principal.role, "area": principal.area},
                                data)
            c.runner.submit(job.id)
            return jsonify({"job": job.to_dict()}), 202, {"Location": f"/api/v1/jobs/{job.id}"}
        from resources import io as rio

        rows = rio.read_rows(data, fmt)
        summary = svc.import_resources(c.uow(), principal, rows, c.vocab, c.geography.areas,
                                       c.clock())
        return jsonify(summary), 201

    @bp.get("/resources/<rid>")
    def get_resource(rid: str):  # noqa: ANN202
        return jsonify(resource_to_dict(svc.get_resource(ctx().uow(readonly=True), caller(), rid)))

    @bp.patch("/resources/<rid>")
    def patch_resource(rid: str):  # noqa: ANN202
        c = ctx()
        r = svc.update_resource(c.uow(), caller(), rid, json_body(), c.vocab,
                                c.geography.areas, c.clock())
        return jsonify(resource_to_dict(r))

    @bp.delete("/resources/<rid>")
    def delete_resource(rid: str):  # noqa: ANN202
        c = ctx()
        svc.delete_resource(c.uow(), caller(), rid, c.clock())
        return "", 204

    @bp.post("/resources/<rid>/position")
    def post_position(rid: str):  # noqa: ANN202
        return _report(rid, lambda d, now: parse_position(d, now, time_required=False))

    @bp.post("/resources/<rid>/status")
    def post_status(rid: str):  # noqa: ANN202
        return _report(rid, lambda d, now: parse_status(d, now, time_required=False))

    @bp.get("/jobs/<job_id>")
    def get_job(job_id: str):  # noqa: ANN202
        return jsonify(ctx().jobs.readable(caller(), job_id).to_dict())
