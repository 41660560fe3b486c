"""Which incident each unit works on now: a projection kept by assign and release in the same
transaction, read in bulk by the field ingest, so that the position of a unit on mutual aid
also concerns the area of the incident it serves (and that incident's centre sees it move)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Connection, Select, bindparam, delete, insert, select

from rescue import tables


@dataclass(frozen=True)
class Link:
    resource_id: str
    incident_id: str
    incident_area: str
    category: str
    exercise: str | None = None


class LinkRepository(ABC):
    @abstractmethod
    def get_many(self, resource_ids: Iterable[str]) -> dict[str, Link]: ...

    @abstractmethod
    def set(self, link: Link) -> None: ...

    @abstractmethod
    def clear(self, resource_id: str) -> None: ...

    def get(self, resource_id: str) -> Link | None:
        return self.get_many([resource_id]).get(resource_id)


class InMemoryLinkRepository(LinkRepository):
    def __init__(self) -> None:
        self._links: dict[str, Link] = {}

    def get_many(self, resource_ids: Iterable[str]) -> dict[str, Link]:
        return {i: self._links[i] for i in resource_ids if i in self._links}

    def set(self, link: Link) -> None:
        self._links[link.resource_id] = link

    def clear(self, resource_id: str) -> None:
        self._links.pop(resource_id, None)


@cache
def _get_many_statement() -> Select:
    t = tables.unit_assignments
    return select(t).where(t.c.resource_id.in_(bindparam("ids", expanding=True)))


class SqlLinkRepository(LinkRepository):
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def get_many(self, resource_ids: Iterable[str]) -> dict[str, Link]:
        ids = sorted(set(resource_ids))
        if not ids:
            return {}
        out: dict[str, Link] = {}
        for i in range(0, len(ids), 500):
            for r in self.conn.execute(_get_many_statement(), {"ids": ids[i:i + 500]}):
                out[r.resource_id] = Link(r.resource_id, r.incident_id, r.incident_area,
                                          r.category, r.exercise)
        return out

    def set(self, link: Link) -> None:
        self.clear(link.resource_id)
        self.conn.execute(insert(tables.unit_assignments).values(
            resource_id=link.resource_id, incident_id=link.incident_id,
            incident_area=link.incident_area, category=link.category, exercise=link.exercise))

    def clear(self, resource_id: str) -> None:
        t = tables.unit_assignments
        self.conn.execute(delete(t).where(t.c.resource_id == resource_id))
