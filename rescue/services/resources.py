"""Handlers for the registry: create, change, delete, positions, status and imports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from geo.areas import AreaIndex
from rescue.auth import Forbidden, Principal
from rescue.events import Event
from rescue.services.common import (
    check_area_exists,
    readable_resource,
    require_resource_write,
    resource_event,
)
from rescue.uow import UnitOfWork
from resources.errors import Conflict, ValidationError
from resources.model import Resource, resource_from_dict
from resources.repository import ResourceFilter
from resources.vocabulary import Vocabulary


def _check_new(principal: Principal, r: Resource, areas: AreaIndex) -> None:
    check_area_exists(areas, r.area)
    principal.require("operator", "trainer")
    if principal.role == "trainer" and r.exercise is None:
        raise Forbidden("trainers create exercise resources only (set 'exercise')")
    if not principal.covers_area(r.area):
        raise Forbidden(f"area {r.area} is outside your scope")


def create_resource(uow: UnitOfWork, principal: Principal, data: dict[str, Any],
                    vocab: Vocabulary, areas: AreaIndex, now: datetime) -> Resource:
    r = resource_from_dict(data, vocab)
    _check_new(principal, r, areas)
    with uow:
        if uow.resources.get(r.id) is not None:
            raise Conflict(f"resource {r.id} already exists", field="id", code="exists")
        stored = uow.resources.add(r)
        uow.record(resource_event("resource.created", stored, now))
        uow.commit()
    return stored


def update_resource(uow: UnitOfWork, principal: Principal, resource_id: str,
                    data: dict[str, Any], vocab: Vocabulary, areas: AreaIndex,
                    now: datetime) -> Resource:
    with uow:
        current = readable_resource(principal, uow.resources.get(resource_id), resource_id)
        require_resource_write(principal, current, uow)
        changed = resource_from_dict(data, vocab, existing=current)
        if changed.area != current.area:
            check_area_exists(areas, changed.area)
            if not principal.covers_area(changed.area):
                raise Forbidden(f"area {changed.area} is outside your scope")
        stored = uow.resources.update(changed)
        uow.record(resource_event("resource.updated", stored, now,
                                  changed=sorted(k for k in data if k != "version")))
        uow.commit()
    return stored


def delete_resource(uow: UnitOfWork, principal: Principal, resource_id: str,
                    now: datetime) -> None:
    with uow:
        current = readable_resource(principal, uow.resources.get(resource_id), resource_id)
        require_resource_write(principal, current, uow)
        if current.status in ("assigned", "en_route", "on_scene"):
            raise Conflict(f"{resource_id} is {current.status}; release it before deleting",
                           field="status", code="busy")
        uow.resources.delete(resource_id)
        uow.record(Event(type="resource.deleted", area=current.area, exercise=current.exercise,
                         time=now, payload={"id": resource_id, "name": current.name}))
        uow.commit()


def list_resources(uow: UnitOfWork, principal: Principal, flt: ResourceFilter) -> list[Resource]:
    if principal.role == "field":
        with uow:
            r = uow.resources.get(principal.resource_id or "")
        return [r] if r is not None else []
    if principal.role != "admin":
        prefix = principal.area or "\x00"
        if flt.area_prefix is None or not flt.area_prefix.startswith(prefix):
            if flt.area_prefix is not None and not prefix.startswith(flt.area_prefix):
                return []  # asked for an area disjoint from the scope
            flt = replace(flt, area_prefix=prefix)
    with uow:
        return uow.resources.list(flt)


def get_resource(uow: UnitOfWork, principal: Principal, resource_id: str) -> Resource:
    with uow:
        return readable_resource(principal, uow.resources.get(resource_id), resource_id)


def import_resources(uow: UnitOfWork, principal: Principal, rows: Iterable[dict[str, Any]],
                     vocab: Vocabulary, areas: AreaIndex, now: datetime, *,
                     progress: Callable[[float, str], None] | None = None) -> dict[str, int]:
    """All rows validated first; one bad row rejects the whole file, naming row and field."""
    rows = list(rows)
    total = max(len(rows), 1)
    every = max(total // 20, 1)
    parsed: list[Resource] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        if progress and i % every == 0:
            progress(0.8 * i / total, f"validated {i} of {len(rows)} rows")
        try:
            r = resource_from_dict(row, vocab)
            _check_new(principal, r, areas)
        except ValidationError as e:
            raise e.prefixed(f"row {i}") from None
        except Forbidden as e:
            raise Forbidden(f"row {i}: {e}") from None
        if r.id in seen:
            raise ValidationError(f"row {i}: id", f"duplicate id {r.id!r} in the file")
        seen.add(r.id)
        parsed.append(r)
    created = updated = 0
    if progress:  # outside the transaction: progress rows are written by other connections
        progress(0.85, f"writing {len(parsed)} resources")
    with uow:  # in bulk: the write lock is held for the writing only, and briefly
        existing = uow.resources.get_many(r.id for r in parsed)
        new = [r for r in parsed if r.id not in existing]
        events = [resource_event("resource.created", stored, now, source="import")
                  for stored in uow.resources.add_many(new)]
        created = len(new)
        for r in parsed:
            old = existing.get(r.id)
            if old is None:
                continue
            require_resource_write(principal, old, uow)
            stored = uow.resources.update(replace(r, version=old.version, status=old.status,
                                                  status_time=old.status_time))
            updated += 1
            events.append(resource_event("resource.updated", stored, now, source="import"))
        uow.record_many(events)
        uow.commit()
    if progress:
        progress(1.0, f"imported {len(parsed)} resources")
    return {"created": created, "updated": updated, "total": len(parsed)}
