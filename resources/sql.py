"""SQL store of the registry (SQLAlchemy Core), working inside the caller's transaction.

The caller (rescue's unit of work) begins and commits; this class never commits, so a status
change and the event recording it land together or not at all.
"""

from __future__ import annotations

import builtins
import functools
import json
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as sa_postgresql
from sqlalchemy.dialects import sqlite as sa_sqlite
from sqlalchemy.engine import Connection

from geo.distance import EARTH_RADIUS_KM
from resources.errors import Conflict, NotFound, ValidationError
from resources.model import Home, Resource
from resources.repository import ResourceFilter, ResourceRepository, order_and_page
from resources.tables import resources as T


def _row_values(r: Resource) -> dict[str, Any]:
    return {
        "id": r.id, "name": r.name, "call_sign": r.call_sign, "kind": r.kind, "tier": r.tier,
        "agency": r.agency, "capabilities": json.dumps(list(r.capabilities)), "crew": r.crew,
        "capacity": r.capacity, "speed_kmh": r.speed_kmh, "readiness_s": r.readiness_s,
        "range_km": r.range_km, "home_name": r.home.name, "home_lat": r.home.lat,
        "home_lon": r.home.lon, "lat": r.lat, "lon": r.lon, "position_time": r.position_time,
        "status": r.status, "status_time": r.status_time, "area": r.area,
        "exercise": r.exercise, "version": r.version, "mmsi": r.mmsi, "cot_uid": r.cot_uid,
    }


def _from_row(m: Any) -> Resource:
    return Resource(
        id=m.id, name=m.name, call_sign=m.call_sign, kind=m.kind, tier=m.tier, agency=m.agency,
        capabilities=tuple(orjson.loads(m.capabilities)), crew=m.crew, capacity=m.capacity,
        speed_kmh=m.speed_kmh, readiness_s=m.readiness_s, range_km=m.range_km,
        home=Home(m.home_name, m.home_lat, m.home_lon), lat=m.lat, lon=m.lon,
        position_time=m.position_time, status=m.status, area=m.area, exercise=m.exercise,
        version=m.version, status_time=m.status_time, mmsi=m.mmsi, cot_uid=m.cot_uid,
    )


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Statements of the field ingest's hot path, built once: building an expression costs more
# than running it on SQLite.
@functools.cache
def _get_many_statement() -> sa.Select:
    return sa.select(T).where(T.c.id.in_(sa.bindparam("ids", expanding=True)))


_MOVE_COLUMNS = ("id", "lat", "lon", "position_time", "version")


def _moved_only(old: Resource, new: Resource) -> bool:
    """Only the position (and version) changed: most of the field traffic."""
    return replace(old, lat=new.lat, lon=new.lon, position_time=new.position_time,
                   version=new.version) == new


@functools.cache
def _store_moves_statement() -> sa.Update:
    return (T.update().where(T.c.id == sa.bindparam("b_id"),
                             T.c.version == sa.bindparam("b_expected"))
            .values({k: sa.bindparam("b_" + k, type_=T.c[k].type)
                     for k in _MOVE_COLUMNS if k != "id"}))


@functools.cache
def _store_versions_statement() -> sa.Update:
    cols = [c.name for c in T.columns if c.name not in ("id", "exercise")]
    return (T.update().where(T.c.id == sa.bindparam("b_id"),
                             T.c.version == sa.bindparam("b_expected"))
            .values({k: sa.bindparam("b_" + k, type_=T.c[k].type) for k in cols}))


class SqlResourceRepository(ResourceRepository):
    """Resources in the `resources` table, through the caller's connection and transaction."""

    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    # --------------------------------------------------------------- queries

    def _where(self, flt: ResourceFilter) -> list[Any]:
        c = T.c
        cond: list[Any] = [c.exercise.is_(None) if flt.exercise is None
                           else c.exercise == flt.exercise]
        if flt.kinds is not None:
            cond.append(c.kind.in_(sorted(flt.kinds)))
        if flt.statuses is not None:
            cond.append(c.status.in_(sorted(flt.statuses)))
        for cap in sorted(flt.capabilities or ()):
            cond.append(c.capabilities.like(f'%"{_like_escape(cap)}"%', escape="\\"))
        if flt.area_prefix:
            cond.append(c.area.like(_like_escape(flt.area_prefix) + "%", escape="\\"))
        eff_lat = sa.func.coalesce(c.lat, c.home_lat)
        eff_lon = sa.func.coalesce(c.lon, c.home_lon)
        if flt.bbox is not None:
            x0, y0, x1, y1 = flt.bbox
            cond += [eff_lon >= x0, eff_lon <= x1, eff_lat >= y0, eff_lat <= y1]
        if flt.near is not None:
            # A box that surely contains the circle; the exact test runs in Python.
            lat, lon, radius = flt.near
            dlat = math.degrees(radius / EARTH_RADIUS_KM) + 1e-9
            cond += [eff_lat >= lat - dlat, eff_lat <= lat + dlat]
            coslat = math.cos(math.radians(min(89.999, abs(lat) + dlat)))
            dlon = 1.01 * math.degrees(radius / (EARTH_RADIUS_KM * max(coslat, 1e-12))) + 1e-9
            if abs(lat) + dlat < 89.0 and dlon < 179.0 and lon - dlon >= -180 and lon + dlon <= 180:
                cond += [eff_lon >= lon - dlon, eff_lon <= lon + dlon]
        return cond

    def list(self, flt: ResourceFilter | None = None) -> list[Resource]:
        flt = flt or ResourceFilter()
        q = sa.select(T).where(*self._where(flt))
        if flt.near is not None:
            items = [r for r in map(_from_row, self.conn.execute(q)) if flt.matches(r)]
            return order_and_page(items, flt)
        q = q.order_by(T.c.id).offset(flt.offset)
        if flt.limit is not None:
            q = q.limit(flt.limit)
        return [_from_row(m) for m in self.conn.execute(q)]

    def count(self, flt: ResourceFilter | None = None) -> int:
        flt = flt or ResourceFilter()
        if flt.near is not None:
            q = sa.select(T).where(*self._where(flt))
            return sum(1 for r in map(_from_row, self.conn.execute(q)) if flt.matches(r))
        q = sa.select(sa.func.count()).select_from(T).where(*self._where(flt))
        return int(self.conn.execute(q).scalar_one())

    def get(self, id: str) -> Resource | None:
        m = self.conn.execute(sa.select(T).where(T.c.id == id)).first()
        return None if m is None else _from_row(m)

    def get_many(self, ids: Any) -> dict[str, Resource]:
        ids = sorted(set(ids))
        out: dict[str, Resource] = {}
        for i in range(0, len(ids), 500):
            for m in self.conn.execute(_get_many_statement(), {"ids": ids[i:i + 500]}):
                out[m.id] = _from_row(m)
        return out

    def ids_by_identity(self, column: str, values: Any) -> dict[str, str]:
        if column not in ("mmsi", "cot_uid"):
            raise ValueError(column)
        col = T.c[column]
        values = sorted(set(values))
        out: dict[str, str] = {}
        for i in range(0, len(values), 500):
            rows = self.conn.execute(sa.select(col, T.c.id).where(
                col.in_(values[i:i + 500]), T.c.exercise.is_(None)))
            out.update({r[0]: r[1] for r in rows})
        return out

    def store_versions(self, changes: Sequence[tuple[Resource, Resource]]) -> None:
        moves: builtins.list[tuple[int, Resource]] = []
        others: builtins.list[tuple[int, Resource]] = []
        for old, new in changes:
            (moves if _moved_only(old, new) else others).append((old.version, new))
        if moves and self.conn.dialect.name == "postgresql":
            self._store_moves_pg(moves)
            moves = []
        # Moves bind their five columns straight from the unit (no whole row built).
        batches = ((_store_moves_statement(), [
            {"b_id": r.id, "b_lat": r.lat, "b_lon": r.lon, "b_position_time": r.position_time,
             "b_version": r.version, "b_expected": expected} for expected, r in moves]),
                   (_store_versions_statement(), [
            {"b_" + k: v for k, v in _row_values(r).items() if k != "exercise"}
            | {"b_expected": expected} for expected, r in others]))
        for statement, params in batches:
            if not params:
                continue
            res = self.conn.execute(statement, params)
            if res.rowcount != len(params):
                raise Conflict("a resource changed meanwhile", field="version",
                               code="stale_version")

    # --------------------------------------------------------------- changes

    def add(self, r: Resource) -> Resource:
        stored = Resource(**{f: getattr(r, f) for f in Resource.__dataclass_fields__
                             if f != "version"}, version=1)
        # INSERT .. ON CONFLICT DO NOTHING keeps the caller's transaction usable after a
        # duplicate id (no savepoint: pysqlite's RELEASE of an outer savepoint would commit).
        values = _row_values(stored)
        dialect = self.conn.dialect.name
        if dialect in ("postgresql", "sqlite"):
            mod = sa_postgresql if dialect == "postgresql" else sa_sqlite
            stmt = (mod.insert(T).values(**values)
                    .on_conflict_do_nothing(index_elements=["id"]).returning(T.c.id))
            inserted = self.conn.execute(stmt).first() is not None
        else:  # pragma: no cover - other databases: check, then insert
            inserted = self.get(r.id) is None
            if inserted:
                self.conn.execute(T.insert().values(**values))
        if not inserted:
            raise Conflict(f"resource {r.id!r} already exists", field="id", code="duplicate")
        return stored

    def add_many(self, items: Any) -> builtins.list[Resource]:
        """New resources in one statement per 1,000 (an import); Conflict if an id exists."""
        stored = [Resource(**{f: getattr(r, f) for f in Resource.__dataclass_fields__
                              if f != "version"}, version=1) for r in items]
        for i in range(0, len(stored), 1000):
            chunk = stored[i:i + 1000]
            try:
                self.conn.execute(T.insert(), [_row_values(r) for r in chunk])
            except sa.exc.IntegrityError:
                raise Conflict("a resource of the import already exists (added meanwhile)",
                               field="id", code="duplicate") from None
        return stored

    def update(self, r: Resource) -> Resource:
        values = _row_values(r)
        values.pop("id")
        values.pop("exercise")
        values["version"] = r.version + 1
        res = self.conn.execute(
            T.update().where(T.c.id == r.id, T.c.version == r.version,
                             (T.c.exercise.is_(None) if r.exercise is None
                              else T.c.exercise == r.exercise)).values(**values))
        if res.rowcount != 1:
            cur = self.get(r.id)
            if cur is None:
                raise NotFound(f"no resource {r.id!r}", field="id")
            if cur.exercise != r.exercise:
                raise ValidationError("exercise", "cannot be changed", "immutable")
            raise Conflict(f"resource {r.id} is at version {cur.version}, not {r.version}",
                           field="version", code="stale_version")
        return self.get_or_raise(r.id)

    def _store_moves_pg(self, moves: Sequence[tuple[int, Resource]]) -> None:
        """Moves in one statement over arrays (PostgreSQL): see rescue.events."""
        res = self.conn.exec_driver_sql(
            "UPDATE resources AS r SET lat = v.lat, lon = v.lon, position_time = v.t, "
            "version = v.version FROM unnest(%s::text[], %s::float8[], %s::float8[], "
            "%s::timestamptz[], %s::int[], %s::int[]) AS v(id, lat, lon, t, version, expected) "
            "WHERE r.id = v.id AND r.version = v.expected",
            ([r.id for _, r in moves], [r.lat for _, r in moves], [r.lon for _, r in moves],
             [r.position_time for _, r in moves], [r.version for _, r in moves],
             [e for e, _ in moves]))
        if res.rowcount != len(moves):
            raise Conflict("a resource changed meanwhile", field="version", code="stale_version")

    def delete(self, id: str) -> None:
        if self.conn.execute(T.delete().where(T.c.id == id)).rowcount != 1:
            raise NotFound(f"no resource {id!r}", field="id")

    def compare_and_set_status(self, id: str, expected: set[str] | frozenset[str],
                               new_status: str, *, time: datetime | None = None
                               ) -> Resource | None:
        # One conditional UPDATE: the database serialises racing writers on the row, and the
        # loser's WHERE no longer matches (PostgreSQL re-checks it after the winner commits).
        values: dict[str, Any] = {"status": new_status, "version": T.c.version + 1}
        if time is not None:
            values["status_time"] = time
        if not expected:
            return None if self.get(id) is not None else self._missing(id)
        res = self.conn.execute(
            T.update().where(T.c.id == id, T.c.status.in_(sorted(expected))).values(**values))
        if res.rowcount == 1:
            return self.get_or_raise(id)
        if self.get(id) is None:
            self._missing(id)
        return None

    @staticmethod
    def _missing(id: str) -> None:
        raise NotFound(f"no resource {id!r}", field="id")
