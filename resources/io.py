"""Import and export of the registry as GeoJSON, CSV and GeoPackage (through geopandas).

Files are flat tables: one row per resource, the `resource` fields with the home base as
home_name/home_lat/home_lon and capabilities `;`-separated; the geometry (GeoJSON, GeoPackage)
is the effective position (last known position, else home) and stands in for the home base
when a file has no home_lat/home_lon. GeoJSON in the API's own shape (a nested `home` object,
`capabilities` as a list) is read too.

GeoJSON is read feature by feature with the json module (GDAL would give each column one type,
so a single bad cell would turn a whole column bad and be reported at the wrong row); a file
declaring another CRS goes through geopandas and is reprojected. `read_rows` only parses; `read_resources` also validates every row with resource_from_dict
before the caller writes anything: one bad row rejects the whole file, its error naming the
1-based data row and the field (``row 7: speed_kmh``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from resources.errors import ValidationError
from resources.model import Resource, Vocabulary, format_time, resource_from_dict

FORMATS = ("geojson", "csv", "gpkg")
_ALIASES = {"json": "geojson", "geopackage": "gpkg"}
MEDIA_TYPES = {"geojson": "application/geo+json", "csv": "text/csv",
               "gpkg": "application/geopackage+sqlite3"}
COLUMNS = ("id", "name", "call_sign", "kind", "tier", "agency", "capabilities", "crew",
           "capacity", "speed_kmh", "readiness_s", "range_km", "home_name", "home_lat",
           "home_lon", "lat", "lon", "position_time", "status", "status_time", "area",
           "exercise", "mmsi", "cot_uid")
_NUMERIC = {"crew", "capacity", "speed_kmh", "readiness_s", "range_km", "home_lat", "home_lon",
            "lat", "lon", "version"}
_INTEGER = {"crew", "capacity", "version"}
_IGNORED = {"fid", "geometry"}


def normalise_format(fmt: str) -> str:
    f = _ALIASES.get(str(fmt).lower().lstrip("."), str(fmt).lower().lstrip("."))
    if f not in FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(FORMATS)}")
    return f


# ----------------------------------------------------------------------------- export


def to_frame(resources: Iterable[Resource]):  # noqa: ANN201 - geopandas.GeoDataFrame
    """The flat table of resources as a GeoDataFrame (EPSG:4326, point = effective position)."""
    import geopandas as gpd
    from shapely.geometry import Point

    recs, geoms = [], []
    for r in resources:
        recs.append({
            "id": r.id, "name": r.name, "call_sign": r.call_sign, "kind": r.kind, "tier": r.tier,
            "agency": r.agency, "capabilities": ";".join(r.capabilities), "crew": r.crew,
            "capacity": r.capacity, "speed_kmh": r.speed_kmh, "readiness_s": r.readiness_s,
            "range_km": r.range_km, "home_name": r.home.name, "home_lat": r.home.lat,
            "home_lon": r.home.lon, "lat": r.lat, "lon": r.lon,
            "position_time": format_time(r.position_time), "status": r.status,
            "status_time": format_time(r.status_time), "area": r.area, "exercise": r.exercise,
            "mmsi": r.mmsi, "cot_uid": r.cot_uid,
        })
        lat, lon = (r.lat, r.lon) if r.has_position else (r.home.lat, r.home.lon)
        geoms.append(Point(lon, lat))
    import pandas as pd

    df = pd.DataFrame.from_records(recs, columns=list(COLUMNS))
    for col in ("range_km", "lat", "lon"):
        df[col] = df[col].astype("float64")
    for col in ("crew", "capacity"):
        df[col] = df[col].astype("int64")
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


def export(resources: Iterable[Resource], format: str) -> bytes:
    """The resources as a file of the given format (geojson, csv, gpkg)."""
    fmt = normalise_format(format)
    gdf = to_frame(resources)
    if fmt == "csv":
        return gdf.drop(columns="geometry").to_csv(index=False).encode("utf-8")
    suffix, driver = (".geojson", "GeoJSON") if fmt == "geojson" else (".gpkg", "GPKG")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "resources" + suffix)
        gdf.to_file(path, driver=driver, layer="resources" if fmt == "gpkg" else None,
                    engine="pyogrio")
        return Path(path).read_bytes()


# ----------------------------------------------------------------------------- import


def _cell(v: Any) -> Any:
    """A table cell as a plain Python value (numpy scalars, NaN/NaT -> None)."""
    if v is None:
        return None
    if hasattr(v, "tolist") and getattr(v, "ndim", 0) > 0:  # a JSON list read as an array
        return [_cell(x) for x in v.tolist()]
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "to_pydatetime"):
        v = v.to_pydatetime()
    if isinstance(v, datetime):
        # GeoPackage datetimes are UTC by specification
        return (v if v.tzinfo else v.replace(tzinfo=UTC)).isoformat()
    return v


def _csv_cell(col: str, v: str) -> Any:
    """CSV has no types: numbers are parsed here per cell, so a bad cell is reported at its
    own row (a non-number stays a string and the validator names it)."""
    v = v.strip()
    if v == "":
        return None
    if col in _NUMERIC:
        try:
            return int(v) if col in _INTEGER and v.lstrip("+-").isdigit() else float(v)
        except ValueError:
            return v
    return v


def _row_dict(rec: dict[str, Any], geom: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    home: dict[str, Any] = {}
    for k, v in rec.items():
        if k in _IGNORED or (k == "home" and v is None):
            continue
        if k in ("home_name", "home_lat", "home_lon"):
            if v is not None:
                home[k[5:]] = v
        elif k == "home" and isinstance(v, str):
            try:
                out["home"] = json.loads(v)
            except ValueError:
                out["home"] = v
        elif k == "capabilities" and isinstance(v, str):
            s = v.strip()
            if s.startswith("["):
                try:
                    out[k] = json.loads(s)
                    continue
                except ValueError:
                    pass
            out[k] = [c.strip() for c in s.split(";") if c.strip()]
        else:
            out[k] = v
    if "home" not in out:
        if geom is not None and "lat" not in home and "lon" not in home:
            home.update(lat=geom[0], lon=geom[1])
        if home:
            out["home"] = home
    return out


def _point(geom: Any, row: int) -> tuple[float, float] | None:
    """(lat, lon) of a shapely Point, None when absent; anything else is a bad row."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type != "Point":
        raise ValidationError(f"row {row}: geometry", f"must be a Point, not a {geom.geom_type}")
    return float(geom.y), float(geom.x)


def _geojson_rows(data: bytes) -> list[dict[str, Any]] | None:
    """GeoJSON read feature by feature, keeping each value's own JSON type (a driver would
    give a column one type, turning a single bad cell into a whole bad column). None when
    the file declares a CRS other than WGS84 (then geopandas reprojects it)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("file", f"not valid JSON: {exc}", "unreadable") from None
    if not isinstance(doc, dict):
        raise ValidationError("file", "not a GeoJSON object", "unreadable")
    crs = json.dumps(doc.get("crs") or "")
    if doc.get("crs") and not any(t in crs for t in ("CRS84", "4326")):
        return None
    feats = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if not isinstance(feats, list):
        raise ValidationError("file", "a FeatureCollection needs a features list", "unreadable")
    rows = []
    for i, f in enumerate(feats, start=1):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise ValidationError(f"row {i}", "not a GeoJSON Feature")
        props = f.get("properties") or {}
        if not isinstance(props, dict):
            raise ValidationError(f"row {i}: properties", "must be an object")
        g = f.get("geometry")
        geom = None
        if g is not None:
            c = g.get("coordinates") if isinstance(g, dict) else None
            if not (isinstance(g, dict) and g.get("type") == "Point" and isinstance(c, list)
                    and len(c) >= 2 and all(isinstance(v, int | float) for v in c[:2])):
                raise ValidationError(f"row {i}: geometry", "must be a Point [lon, lat]")
            geom = (float(c[1]), float(c[0]))
        rows.append(_row_dict(dict(props), geom))
    return rows


def _read_frame(data: bytes, fmt: str):  # noqa: ANN202
    import geopandas as gpd

    suffix = ".geojson" if fmt == "geojson" else ".gpkg"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "upload" + suffix)
        Path(path).write_bytes(data)
        # Times stay strings (GDAL would parse them to millisecond datetimes).
        opts = {"DATE_AS_STRING": "YES"} if fmt == "geojson" else {}
        gdf = gpd.read_file(path, engine="pyogrio", **opts)
    if gdf.crs is not None and gdf.crs.to_epsg() not in (4326, None):
        gdf = gdf.to_crs(4326)
    return gdf


def read_rows(data: bytes | str | os.PathLike, format: str) -> list[dict[str, Any]]:
    """Parse a file (bytes or a path) into resource-shaped dicts, one per data row; no
    validation beyond being readable."""
    fmt = normalise_format(format)
    if not isinstance(data, bytes | bytearray):
        data = Path(data).read_bytes()
    if not data:
        raise ValidationError("file", "is empty")
    try:
        if fmt == "csv":
            import pandas as pd

            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                             encoding="utf-8-sig")
            return [_row_dict({str(k): _csv_cell(str(k), v) for k, v in rec.items()}, None)
                    for rec in df.to_dict(orient="records")]
        if fmt == "geojson":
            rows = _geojson_rows(bytes(data))
            if rows is not None:
                return rows
        gdf = _read_frame(bytes(data), fmt)
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad upload
        raise ValidationError("file", f"cannot read it as {fmt}: {exc}", "unreadable") from None
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    geoms = list(gdf.geometry) if gdf.geometry is not None else [None] * len(gdf)
    out = []
    for i, (vals, geom) in enumerate(zip(gdf[cols].itertuples(index=False, name=None), geoms,
                                         strict=True), start=1):
        out.append(_row_dict({c: _cell(v) for c, v in zip(cols, vals, strict=True)},
                             _point(geom, i)))
    return out


read_table = read_rows  # the name in docs/INTERFACES.md


def read_resources(data: bytes | str | os.PathLike, format: str, vocab: Vocabulary) -> list[Resource]:
    """Parse and validate a whole file; nothing is returned unless every row is valid."""
    out: list[Resource] = []
    seen: set[str] = set()
    for i, row in enumerate(read_rows(data, format), start=1):
        try:
            r = resource_from_dict(row, vocab)
        except ValidationError as e:
            raise e.prefixed(f"row {i}") from None
        if r.id in seen:
            raise ValidationError(f"row {i}: id", f"duplicate id {r.id!r} in the file")
        seen.add(r.id)
        out.append(r)
    return out
