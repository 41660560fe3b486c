"""Units of work: one transaction spanning resources, incidents and the event log.

A change and its event commit together or not at all; after a commit the new events are handed
to the `on_commit` hook (live push, index catch-up), never before.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection, Engine, insert, select

from rescue import tables
from rescue.db import WRITER_OPTION
from rescue.events import Event, EventLog, InMemoryEventLog, SqlEventLog
from rescue.incident_repo import (
    IncidentRepository,
    InMemoryIncidentRepository,
    SqlIncidentRepository,
)
from resources.repository import InMemoryResourceRepository, ResourceRepository
from resources.sql import SqlResourceRepository

CommitHook = Callable[[list[Event]], None]


class UnitOfWork(ABC):
    resources: ResourceRepository
    incidents: IncidentRepository
    events: EventLog

    def __init__(self, on_commit: CommitHook | None = None) -> None:
        self._on_commit = on_commit
        self._pending: list[Event] = []

    def record(self, event: Event) -> Event:
        stored = self.events.append(event)
        self._pending.append(stored)
        return stored

    def commit(self) -> list[Event]:
        self._commit()
        published, self._pending = self._pending, []
        if self._on_commit and published:
            self._on_commit(published)
        return published

    def rollback(self) -> None:
        self._pending = []
        self._rollback()

    def __enter__(self) -> UnitOfWork:
        self._begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.rollback()  # a no-op after commit
        finally:
            self._end()

    @abstractmethod
    def seen_message(self, source: str, message_id: str) -> int | None:
        """The seq recorded for a client message already applied, else None."""

    @abstractmethod
    def remember_message(self, source: str, message_id: str, seq: int | None, now: datetime) -> None: ...

    @abstractmethod
    def _begin(self) -> None:
        """Start a transaction."""

    @abstractmethod
    def _end(self) -> None:
        """Release connections."""

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...


class InMemoryStore:
    """State shared by in-memory units of work (unit tests and the service-layer fakes)."""

    def __init__(self) -> None:
        self.resources = InMemoryResourceRepository()
        self.incidents = InMemoryIncidentRepository()
        self.events = InMemoryEventLog()
        self.messages: dict[tuple[str, str], int | None] = {}
        self.lock = threading.RLock()


class InMemoryUnitOfWork(UnitOfWork):
    """No real rollback: for unit tests of handlers, where a failed handler writes nothing."""

    def __init__(self, store: InMemoryStore, on_commit: CommitHook | None = None) -> None:
        super().__init__(on_commit)
        self.store = store
        self.resources = store.resources
        self.incidents = store.incidents
        self.events = store.events
        self.committed = False

    def _begin(self) -> None:
        self.store.lock.acquire()

    def _end(self) -> None:
        self.store.lock.release()

    def _commit(self) -> None:
        self.committed = True

    def _rollback(self) -> None:
        pass

    def seen_message(self, source: str, message_id: str) -> int | None:
        key = (source, message_id)
        if key not in self.store.messages:
            return None
        return self.store.messages[key] or 0

    def remember_message(self, source: str, message_id: str, seq: int | None, now: datetime) -> None:
        self.store.messages[(source, message_id)] = seq


class SqlUnitOfWork(UnitOfWork):
    """`readonly` units never take SQLite's write lock, so reads do not queue behind writers."""

    def __init__(self, engine: Engine, on_commit: CommitHook | None = None, *,
                 readonly: bool = False) -> None:
        super().__init__(on_commit)
        self.engine = engine
        self.readonly = readonly
        self.conn: Connection | None = None

    def _begin(self) -> None:
        conn = self.engine.connect()
        self.conn = conn if self.readonly else conn.execution_options(**{WRITER_OPTION: True})
        self.conn.begin()
        self.resources = SqlResourceRepository(self.conn)
        self.incidents = SqlIncidentRepository(self.conn)
        self.events = SqlEventLog(self.conn)

    def _end(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _commit(self) -> None:
        assert self.conn is not None
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.conn.commit()

    def _rollback(self) -> None:
        if self.conn is not None and self.conn.in_transaction():
            self.conn.rollback()

    def seen_message(self, source: str, message_id: str) -> int | None:
        t = tables.client_messages
        row = self.conn.execute(
            select(t.c.seq).where(t.c.source == source, t.c.message_id == message_id)
        ).first()
        return None if row is None else (row.seq if row.seq is not None else 0)

    def remember_message(self, source: str, message_id: str, seq: int | None, now: datetime) -> None:
        self.conn.execute(insert(tables.client_messages).values(
            source=source, message_id=message_id, seq=seq, time=now))
