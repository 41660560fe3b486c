"""Where resources are stored: the repository interface, its filter, and the in-memory store.

The SQL store (resources/sql.py) and this one pass the same contract suite
(tests/integration/test_resource_repository.py), so services and tests can use either.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from geo.distance import haversine_km
from resources.errors import Conflict, NotFound, ValidationError
from resources.model import Resource, effective_position


@dataclass(frozen=True)
class ResourceFilter:
    """Which resources a listing wants. Empty / None fields do not filter.

    - kinds, statuses: any of; capabilities: all of
    - area_prefix: owning area code starts with it (GB/T 2260 codes are prefix-hierarchical:
      33 contains 3303, 330305, 330305xxx and the sea sector 330305M)
    - bbox (min_lon, min_lat, max_lon, max_lat) and near (lat, lon, radius_km) apply to the
      effective position (last known position, else home); with `near`, results come nearest
      first, otherwise by id
    - exercise: None = live resources only, else that exercise's resources only
    """

    kinds: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    capabilities: frozenset[str] | None = None
    area_prefix: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float, float] | None = None
    exercise: str | None = None
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        for name in ("kinds", "statuses", "capabilities"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, frozenset):
                if isinstance(v, str):
                    v = (v,)
                object.__setattr__(self, name, frozenset(v))
        if self.bbox is not None:
            if len(self.bbox) != 4:
                raise ValidationError("bbox", "needs min_lon, min_lat, max_lon, max_lat")
            x0, y0, x1, y1 = (float(v) for v in self.bbox)
            if not (x0 <= x1 and y0 <= y1):
                raise ValidationError("bbox", "min must not exceed max")
            object.__setattr__(self, "bbox", (x0, y0, x1, y1))
        if self.near is not None:
            if len(self.near) != 3:
                raise ValidationError("near", "needs lat, lon, radius_km")
            lat, lon, radius = (float(v) for v in self.near)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not radius >= 0:
                raise ValidationError("near", "lat/lon out of range or negative radius")
            object.__setattr__(self, "near", (lat, lon, radius))
        if self.limit is not None and (isinstance(self.limit, bool) or self.limit < 0):
            raise ValidationError("limit", "must be a non-negative integer")
        if isinstance(self.offset, bool) or self.offset < 0:
            raise ValidationError("offset", "must be a non-negative integer")

    def matches(self, r: Resource) -> bool:
        """Every condition except paging (near checks the radius only)."""
        if r.exercise != self.exercise:
            return False
        if self.kinds is not None and r.kind not in self.kinds:
            return False
        if self.statuses is not None and r.status not in self.statuses:
            return False
        if self.capabilities and not self.capabilities.issubset(r.capabilities):
            return False
        if self.area_prefix and not r.area.startswith(self.area_prefix):
            return False
        lat, lon = effective_position(r)
        if self.bbox is not None:
            x0, y0, x1, y1 = self.bbox
            if not (x0 <= lon <= x1 and y0 <= lat <= y1):
                return False
        if self.near is not None:
            qlat, qlon, radius = self.near
            if haversine_km(qlat, qlon, lat, lon) > radius:
                return False
        return True


def order_and_page(items: Iterable[Resource], flt: ResourceFilter) -> list[Resource]:
    """Sort (nearest first with `near`, else by id) and apply offset/limit."""
    items = list(items)
    if flt.near is not None and items:
        qlat, qlon, _ = flt.near
        pos = np.array([effective_position(r) for r in items], dtype=float)
        km = np.atleast_1d(haversine_km(qlat, qlon, pos[:, 0], pos[:, 1]))
        order = sorted(range(len(items)), key=lambda i: (km[i], items[i].id))
        items = [items[i] for i in order]
    else:
        items.sort(key=lambda r: r.id)
    end = None if flt.limit is None else flt.offset + flt.limit
    return items[flt.offset:end]


class ResourceRepository(abc.ABC):
    """Storage of resources. Every stored change bumps `version` by one."""

    @abc.abstractmethod
    def add(self, r: Resource) -> Resource:
        """Store a new resource (version 1). Conflict when the id exists."""

    @abc.abstractmethod
    def get(self, id: str) -> Resource | None:
        """The resource, or None."""

    @abc.abstractmethod
    def list(self, flt: ResourceFilter | None = None) -> list[Resource]:
        """Resources matching the filter (live only by default)."""

    @abc.abstractmethod
    def count(self, flt: ResourceFilter | None = None) -> int:
        """How many match (ignoring limit/offset)."""

    @abc.abstractmethod
    def update(self, r: Resource) -> Resource:
        """Replace the stored resource with `r`, whose version must be the stored one
        (optimistic concurrency: Conflict otherwise; NotFound when gone). Returns it stored,
        with version + 1."""

    @abc.abstractmethod
    def delete(self, id: str) -> None:
        """Remove it; NotFound when absent."""

    @abc.abstractmethod
    def compare_and_set_status(self, id: str, expected: set[str] | frozenset[str],
                               new_status: str, *, time: datetime | None = None
                               ) -> Resource | None:
        """Atomically: if its status is one of `expected`, set `new_status` (and status_time
        when given), bump version and return the stored resource; else None. NotFound when
        the id does not exist. Two callers racing for one unit: exactly one wins."""

    def get_or_raise(self, id: str) -> Resource:
        r = self.get(id)
        if r is None:
            raise NotFound(f"no resource {id!r}", field="id")
        return r

    def add_many(self, items: Iterable[Resource]) -> list[Resource]:
        return [self.add(r) for r in items]

    def get_many(self, ids: Iterable[str]) -> dict[str, Resource]:
        """The resources among these ids that exist, by id."""
        out = {}
        for i in ids:
            r = self.get(i)
            if r is not None:
                out[i] = r
        return out

    def ids_by_identity(self, column: str, values: Iterable[str]) -> dict[str, str]:
        """Live units by what their equipment calls them (`mmsi` or `cot_uid`): value -> id."""
        wanted = set(values)
        return {getattr(r, column): r.id for r in self.list(ResourceFilter(limit=10**9))
                if r.exercise is None and getattr(r, column) in wanted}

    def store_versions(self, changes: Sequence[tuple[Resource, Resource]]) -> None:
        """(as read, as it is to be) pairs: write each new state (its `version` included)
        where the stored version is still the one read, so that several changes of one unit
        in one batch become one write. Conflict when any stored version moved meanwhile."""
        for old, r in changes:
            cur = self.get(r.id)
            if cur is None or cur.version != old.version:
                raise Conflict(f"resource {r.id} changed meanwhile", field="version",
                               code="stale_version")
            self._put(r)

    def _put(self, r: Resource) -> None:  # pragma: no cover - overridden where used
        raise NotImplementedError


class InMemoryResourceRepository(ResourceRepository):
    """A dict behind a lock: for tests, the embedded demo and simulations."""

    def __init__(self, items: Iterable[Resource] = ()) -> None:
        self._items: dict[str, Resource] = {}
        self._lock = threading.RLock()
        for r in items:
            self.add(r)

    def add(self, r: Resource) -> Resource:
        with self._lock:
            if r.id in self._items:
                raise Conflict(f"resource {r.id!r} already exists", field="id", code="duplicate")
            stored = replace(r, version=1)
            self._items[r.id] = stored
            return stored

    def get(self, id: str) -> Resource | None:
        with self._lock:
            return self._items.get(id)

    def list(self, flt: ResourceFilter | None = None) -> list[Resource]:
        flt = flt or ResourceFilter()
        with self._lock:
            items = [r for r in self._items.values() if flt.matches(r)]
        return order_and_page(items, flt)

    def count(self, flt: ResourceFilter | None = None) -> int:
        flt = flt or ResourceFilter()
        with self._lock:
            return sum(1 for r in self._items.values() if flt.matches(r))

    def update(self, r: Resource) -> Resource:
        with self._lock:
            cur = self._items.get(r.id)
            if cur is None:
                raise NotFound(f"no resource {r.id!r}", field="id")
            if cur.version != r.version:
                raise Conflict(f"resource {r.id} is at version {cur.version}, not {r.version}",
                               field="version", code="stale_version")
            if cur.exercise != r.exercise:
                raise ValidationError("exercise", "cannot be changed", "immutable")
            stored = replace(r, version=cur.version + 1)
            self._items[r.id] = stored
            return stored

    def _put(self, r: Resource) -> None:
        with self._lock:
            self._items[r.id] = r

    def get_many(self, ids: Iterable[str]) -> dict[str, Resource]:
        """(Under one hold of the lock: a simulation's tick reads hundreds.)"""
        with self._lock:
            items = self._items
            return {i: r for i in ids if (r := items.get(i)) is not None}

    def store_versions(self, changes: Sequence[tuple[Resource, Resource]]) -> None:
        """(Under one hold of the lock, all or nothing: checked before any is written.)"""
        with self._lock:
            items = self._items
            for old, r in changes:
                cur = items.get(r.id)
                if cur is None or cur.version != old.version:
                    raise Conflict(f"resource {r.id} changed meanwhile", field="version",
                                   code="stale_version")
            for _, r in changes:
                items[r.id] = r

    def delete(self, id: str) -> None:
        with self._lock:
            if self._items.pop(id, None) is None:
                raise NotFound(f"no resource {id!r}", field="id")

    def compare_and_set_status(self, id: str, expected: set[str] | frozenset[str],
                               new_status: str, *, time: datetime | None = None
                               ) -> Resource | None:
        with self._lock:
            cur = self._items.get(id)
            if cur is None:
                raise NotFound(f"no resource {id!r}", field="id")
            if cur.status not in expected:
                return None
            stored = replace(cur, status=new_status, version=cur.version + 1,
                             status_time=time if time is not None else cur.status_time)
            self._items[id] = stored
            return stored
