"""OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

_ERR = {"$ref": "#/components/schemas/Error"}


def _op(summary: str, *, params: list[str] = (), body: str | None = None,
        ok: str = "200", tags: tuple[str, ...] = ()) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": list(tags),
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params],
        "responses": {
            ok: {"description": "success"},
            "400": {"description": "bad input: the message names the field",
                    "content": {"application/json": {"schema": _ERR}}},
            "401": {"description": "no or invalid token"},
            "403": {"description": "outside the caller's role or scope"},
            "404": {"description": "not found in the caller's scope"},
        },
    }
    if body:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    return op


def _q(name: str, schema: dict[str, Any], desc: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": desc}


def spec() -> dict[str, Any]:
    num = {"type": "number"}
    s = {"type": "string"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Rescue coordination API", "version": "1.0.0",
                 "description": "Land-sea-air rescue coordination (see DESIGN.md §7). "
                                "Coordinates WGS84; km, seconds, km/h; ISO 8601 UTC."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/health": {"get": {**_op("Liveness and backing services", tags=("system",)),
                                "security": []}},
            "/areas": {"get": _op("Areas as GeoJSON", params=["level", "parent"], tags=("geo",))},
            "/areas/{code}": {"get": _op("One area with ancestors, children, neighbours",
                                         params=["code"], tags=("geo",))},
            "/locate": {"get": _op("Area chain and surface of a point", params=["lat", "lon"],
                                   tags=("geo",))},
            "/layers": {"get": _op("Layer names", tags=("geo",))},
            "/layers/{name}": {"get": _op("One layer (GeoJSON)", params=["name"], tags=("geo",))},
            "/resources": {
                "get": _op("Resources in scope (GeoJSON)", tags=("resources",), params=[
                    "kind", "status", "capability", "area", "bbox", "near_lat", "near_lon",
                    "radius_km", "exercise", "limit", "offset"]),
                "post": _op("Create a resource", body="Resource", ok="201", tags=("resources",)),
            },
            "/resources/{id}": {
                "get": _op("One resource", params=["id"], tags=("resources",)),
                "patch": _op("Change fields", params=["id"], body="Resource", tags=("resources",)),
                "delete": _op("Delete", params=["id"], ok="204", tags=("resources",)),
            },
            "/resources/{id}/position": {"post": _op(
                "Position report (older than stored: ignored)", params=["id"], body="Position",
                tags=("resources",))},
            "/resources/{id}/status": {"post": _op("Status report", params=["id"],
                                                   body="Status", tags=("resources",))},
            "/resources/import": {"post": _op(
                "Import GeoJSON, CSV or GeoPackage; all or nothing (async=true: 202 and a job)",
                params=["format", "async"], ok="201", tags=("resources",))},
            "/jobs/{id}": {"get": _op("A background job: status, progress, result or error",
                                      params=["id"], tags=("jobs",))},
            "/resources/export": {"get": _op("Export", params=["format"], tags=("resources",))},
            "/incidents": {
                "get": _op("Incidents in scope (GeoJSON)", tags=("incidents",),
                           params=["status", "category", "area", "exercise", "limit", "offset"]),
                "post": _op("Report an incident", body="IncidentReport", ok="201",
                            tags=("incidents",)),
            },
            "/incidents/{id}": {
                "get": _op("One incident", params=["id"], tags=("incidents",)),
                "patch": _op("Change, escalate, change status", params=["id"],
                             body="IncidentPatch", tags=("incidents",)),
            },
            "/incidents/{id}/sitreps": {"post": _op("Add a situation report", params=["id"],
                                                    body="Sitrep", ok="201", tags=("incidents",))},
            "/incidents/{id}/assignments": {"post": {
                **_op("Assign a unit (409 when taken)", params=["id"], body="Assignment",
                      ok="201", tags=("dispatch",)),
            }},
            "/incidents/{id}/assignments/{resource_id}": {"delete": _op(
                "Release a unit", params=["id", "resource_id"], tags=("dispatch",))},
            "/incidents/{id}/suggestions": {"get": _op("Suggestions by ETA", params=["id", "k"],
                                                       tags=("dispatch",))},
            "/dispatch/suggest": {"post": _op("Ad hoc suggestions", body="SuggestRequest",
                                              tags=("dispatch",))},
            "/events": {"get": _op("Scoped event log", params=["after", "limit", "area",
                                                                "exercise", "type"],
                                   tags=("events",))},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                **{n: {"name": n, "in": "path", "required": True, "schema": s}
                   for n in ("code", "name", "id", "resource_id")},
                "lat": _q("lat", num, "latitude, WGS84", True),
                "lon": _q("lon", num, "longitude, WGS84", True),
                "level": _q("level", {"type": "integer", "minimum": 1, "maximum": 4}, "area level"),
                "parent": _q("parent", s, "parent area code"),
                "kind": _q("kind", s, "comma-separated kinds"),
                "status": _q("status", s, "comma-separated statuses"),
                "capability": _q("capability", s, "comma-separated; all required"),
                "area": _q("area", s, "area code prefix (within your scope)"),
                "bbox": _q("bbox", s, "min_lon,min_lat,max_lon,max_lat"),
                "near_lat": _q("near_lat", num, "nearest-first around this point"),
                "near_lon": _q("near_lon", num, "nearest-first around this point"),
                "radius_km": _q("radius_km", num, "radius for near (default 50)"),
                "exercise": _q("exercise", s, "exercise id (default: live)"),
                "limit": _q("limit", {"type": "integer"}, "page size"),
                "offset": _q("offset", {"type": "integer"}, "page offset"),
                "format": _q("format", {"enum": ["geojson", "csv", "gpkg"]}, "file format"),
                "async": _q("async", {"type": "boolean"}, "run as a background job"),
                "category": _q("category", s, "incident category"),
                "k": _q("k", {"type": "integer", "minimum": 1, "maximum": 50}, "candidates each"),
                "after": _q("after", {"type": "integer"}, "events after this seq"),
                "type": _q("type", s, "event type prefix"),
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": s, "message": s, "field": {"type": ["string", "null"]}}}}},
                "Resource": {"type": "object", "additionalProperties": False, "properties": {
                    k: {} for k in ("id", "name", "call_sign", "kind", "tier", "agency",
                                    "capabilities", "crew", "capacity", "speed_kmh",
                                    "readiness_s", "range_km", "home", "lat", "lon",
                                    "position_time", "status", "area", "exercise", "version")}},
                "Position": {"type": "object", "required": ["lat", "lon"], "properties": {
                    "lat": num, "lon": num, "time": s, "client_id": s}},
                "Status": {"type": "object", "required": ["status"], "properties": {
                    "status": s, "time": s, "client_id": s, "note": s}},
                "IncidentReport": {"type": "object", "required": ["category", "severity", "lat", "lon"],
                                   "properties": {"title": s, "category": s,
                                                  "severity": {"enum": ["I", "II", "III", "IV"]},
                                                  "lat": num, "lon": num,
                                                  "persons_at_risk": {"type": "integer"},
                                                  "weather": {"type": "object"}, "exercise": s}},
                "IncidentPatch": {"type": "object", "properties": {
                    "title": s, "severity": s, "status": s, "persons_at_risk": {"type": "integer"},
                    "weather": {"type": "object"}, "release_all": {"type": "boolean"}}},
                "Sitrep": {"type": "object", "required": ["text"], "properties": {
                    "text": s, "casualties": {"type": "integer"},
                    "persons_rescued": {"type": "integer"},
                    "needs": {"type": "array", "items": s}}},
                "Assignment": {"type": "object", "required": ["resource_id"], "properties": {
                    "resource_id": s, "requirement": s, "eta_s": {"type": "integer"}}},
                "SuggestRequest": {"type": "object", "required": ["lat", "lon", "category", "severity"],
                                   "properties": {"lat": num, "lon": num, "category": s,
                                                  "severity": s, "k": {"type": "integer"},
                                                  "weather": {"type": "object"}, "exercise": s}},
            },
        },
    }


def register(bp: Blueprint) -> None:
    @bp.get("/openapi.json")
    def openapi():  # noqa: ANN202
        return jsonify(spec())
