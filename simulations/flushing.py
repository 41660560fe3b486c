"""How a simulation's changes land in the shared database: what changed since the last flush
(its events, and the current rows of the units, incidents and assignments they touched) in
one transaction, the rows first.

On SQLite the values are bound on the engine's thread (`prepare`) and written on a writer
thread (`write`), by statements that read thousands of rows from one JSON array: SQLite then
works without the GIL, beside the engine, instead of taking the GIL back at every row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Table, delete, insert

from rescue import tables
from rescue.db import bound_rows, sqlite_delete_json, sqlite_insert_json
from rescue.events import Event, sqlite_rows
from rescue.incident_repo import _row as incident_row
from rescue.incidents import Incident
from rescue.uow import SqlUnitOfWork, UnitOfWork
from resources import tables as resource_tables
from resources.model import Resource
from resources.sql import _row_values as resource_row


@dataclass(frozen=True)
class Replace:
    """The rows of `table` whose `key` is one of `keys`, replaced by `rows` (dicts), or by
    `bound` (their values bound for SQLite, in `cols` order) when made."""

    table: Table
    key: str
    keys: list[str]
    rows: list[dict[str, Any]]
    cols: list[str] | None = None
    bound: list[tuple] | None = None


@dataclass(frozen=True)
class Flush:
    events: list[Event]
    replaces: list[Replace]
    bound_events: list[tuple] | None = None  # rescue.events.sqlite_rows


def touched(events: Iterable[Event]) -> tuple[set[str], set[str]]:
    """The units and incidents these events are about."""
    units: set[str] = set()
    incidents: set[str] = set()
    for ev in events:
        units.update(ev.units)
        p = ev.payload
        if "resource" in p:
            units.add(p["resource"]["id"])
        elif ev.type == "resource.position":
            units.add(p["id"])
        if "incident" in p:
            incidents.add(p["incident"]["id"])
        elif "incident_id" in p:
            incidents.add(p["incident_id"])
    return units, incidents


def prepare(events: list[Event], resources: list[Resource], incidents: list[Incident],
            links: dict[str, Any], units: set[str], dialect: Any) -> Flush:
    """A flush of these events and rows (current states, as the exercise owns them)."""
    replaces = [
        Replace(resource_tables.resources, "id", [r.id for r in resources],
                [resource_row(r) for r in resources]),
        Replace(tables.incidents, "id", [x.id for x in incidents],
                [incident_row(x) for x in incidents]),
        Replace(tables.unit_assignments, "resource_id", sorted(units),
                [{"resource_id": k, "incident_id": v.incident_id,
                  "incident_area": v.incident_area, "category": v.category,
                  "exercise": v.exercise} for k, v in sorted(links.items())]),
    ]
    if getattr(dialect, "name", "") != "sqlite":
        return Flush(events, replaces)
    made = []
    for r in replaces:
        cols, bound = bound_rows(r.table, r.rows, dialect)
        made.append(replace(r, cols=cols, bound=bound))
    return Flush(events, made, sqlite_rows(events, dialect))


def write(uow: UnitOfWork, flush: Flush) -> None:
    """One flush in one transaction (the database gives the events its own seqs)."""
    assert isinstance(uow, SqlUnitOfWork)
    with uow:
        conn = uow.db
        for r in flush.replaces:
            if r.bound is not None and r.cols is not None:
                sqlite_delete_json(conn, r.table.name, r.key, r.keys)
                sqlite_insert_json(conn, r.table.name, r.cols, r.bound)
                continue
            col = r.table.c[r.key]
            for i in range(0, len(r.keys), 500):
                conn.execute(delete(r.table).where(col.in_(r.keys[i:i + 500])))
            for i in range(0, len(r.rows), 1000):
                conn.execute(insert(r.table), r.rows[i:i + 1000])
        events, bound = flush.events, flush.bound_events
        for i in range(0, len(events), 5000):
            uow.record_bulk(events[i:i + 5000],
                            bound=None if bound is None else bound[i:i + 5000])
        uow.commit()
