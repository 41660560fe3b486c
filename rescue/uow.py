"""Units of work: one transaction spanning resources, incidents and the event log.

A change and its event commit together or not at all; after a commit the new events are handed
to the `on_commit` hook (live push, index catch-up), never before.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, Insert, insert, select

from rescue import tables
from rescue.db import WRITER_OPTION
from rescue.directive_repo import (
    DirectiveRepository,
    InMemoryDirectiveRepository,
    SqlDirectiveRepository,
)
from rescue.events import Event, EventLog, InMemoryEventLog, SqlEventLog, with_fields
from rescue.incident_repo import (
    IncidentRepository,
    InMemoryIncidentRepository,
    SqlIncidentRepository,
)
from rescue.links import InMemoryLinkRepository, LinkRepository, SqlLinkRepository
from rescue.media_repo import InMemoryMediaRepository, MediaRepository, SqlMediaRepository
from rescue.messages import (
    InMemoryMessageRepository,
    MessageRepository,
    SqlMessageRepository,
)
from resources.repository import InMemoryResourceRepository, ResourceRepository
from resources.sql import SqlResourceRepository

CommitHook = Callable[[list[Event]], None]


@dataclass(frozen=True)
class Remembered:
    """A client message already handled: the seq it made (None if nothing was appended) and
    why it was not applied, if it was not ("older", "unchanged")."""

    seq: int | None
    outcome: str | None = None


class UnitOfWork(ABC):
    resources: ResourceRepository
    incidents: IncidentRepository
    events: EventLog
    links: LinkRepository
    messages: MessageRepository
    directives: DirectiveRepository
    media: MediaRepository

    def __init__(self, on_commit: CommitHook | None = None,
                 event_ids: Callable[[], str] | None = None) -> None:
        self._on_commit = on_commit
        self._pending: list[Event] = []
        # The runtime's ids: a simulation derives them from its exercise id and a counter, so
        # that two runs of one scenario and seed write the same log (DESIGN §11).
        self._event_ids = event_ids

    def record(self, event: Event) -> Event:
        if self._event_ids is not None:
            event = with_fields(event, id=self._event_ids())
        stored = self.events.append(event)
        self._pending.append(stored)
        return stored

    def record_many(self, events: list[Event], *, bound: list[tuple] | None = None
                    ) -> list[Event]:
        """`bound`: the events' rows made beforehand (rescue.events.sqlite_rows)."""
        ids = None
        if self._event_ids is not None:
            assert bound is None, "rows bound before this unit of work gave the events ids"
            ids = [self._event_ids() for _ in events]
        stored = self.events.append_many(events, bound=bound, ids=ids)
        self._pending.extend(stored)
        return stored

    def record_bulk(self, events: list[Event], *, bound: list[tuple] | None = None) -> int:
        """Events with their ids already, for a writer whose readers read them from the log
        (a simulation's flush): the commit hook hears only the last, with its seq (how far the
        log grew: the doorbell and the job's parent need no more). Returns that seq."""
        assert self._event_ids is None, "a runtime's ids are given by record_many"
        if not events:
            return self.events.last_seq()
        seq = self.events.append_bulk(events, bound=bound)
        self._pending.append(with_fields(events[-1], seq=seq))
        return seq

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
    def seen_pairs(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Remembered]:
        """How each of these (source, message id) pairs was handled, for those that were."""

    @abstractmethod
    def remember_messages(self, rows: list[tuple[str, str, int | None, str | None]],
                          now: datetime) -> None:
        """(source, message_id, seq, outcome) for each message handled in this transaction."""

    @abstractmethod
    def trainees(self, exercise: str) -> frozenset[str]:
        """Who joined this exercise as a trainee (principal labels): the operators who may act
        on its incidents and units (DESIGN §11, exercises are sealed)."""

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
        self.links = InMemoryLinkRepository()
        self.chat = InMemoryMessageRepository()
        self.directives = InMemoryDirectiveRepository()
        self.media = InMemoryMediaRepository()
        self.messages: dict[tuple[str, str], Remembered] = {}
        self.trainees: dict[str, frozenset[str]] = {}
        self.lock = threading.RLock()


class InMemoryUnitOfWork(UnitOfWork):
    """No real rollback: for unit tests of handlers, where a failed handler writes nothing."""

    def __init__(self, store: InMemoryStore, on_commit: CommitHook | None = None,
                 event_ids: Callable[[], str] | None = None) -> None:
        super().__init__(on_commit, event_ids)
        self.store = store
        self.resources = store.resources
        self.incidents = store.incidents
        self.events = store.events
        self.links = store.links
        self.messages = store.chat
        self.directives = store.directives
        self.media = store.media
        self.committed = False

    def _begin(self) -> None:
        self.store.lock.acquire()

    def _end(self) -> None:
        self.store.lock.release()

    def _commit(self) -> None:
        self.committed = True

    def _rollback(self) -> None:
        pass

    def trainees(self, exercise: str) -> frozenset[str]:
        return self.store.trainees.get(exercise, frozenset())

    def seen_pairs(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Remembered]:
        return {p: self.store.messages[p] for p in pairs if p in self.store.messages}

    def remember_messages(self, rows: list[tuple[str, str, int | None, str | None]],
                          now: datetime) -> None:
        for source, message_id, seq, outcome in rows:
            self.store.messages[(source, message_id)] = Remembered(seq, outcome)


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
        self.links = SqlLinkRepository(self.conn)
        self.messages = SqlMessageRepository(self.conn)
        self.directives = SqlDirectiveRepository(self.conn)
        self.media = SqlMediaRepository(self.conn)

    def _end(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @property
    def db(self) -> Connection:
        """The open transaction's connection (inside `with uow:` only)."""
        if self.conn is None:
            raise RuntimeError("the unit of work is not open")
        return self.conn

    def _commit(self) -> None:
        assert self.conn is not None
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.conn.commit()

    def _rollback(self) -> None:
        if self.conn is not None and self.conn.in_transaction():
            self.conn.rollback()

    def trainees(self, exercise: str) -> frozenset[str]:
        t = tables.exercises
        joined = self.db.execute(select(t.c.trainees).where(t.c.id == exercise)).scalar()
        return frozenset(joined or ())

    def seen_pairs(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Remembered]:
        # Plain SQL: this runs for every batch of field messages, and building the
        # expression cost more than running it. Each pair is found through the primary key.
        pairs = sorted(set(pairs))
        rows: list[Any] = []
        if pairs and self.db.dialect.name == "postgresql":
            rows = list(self.db.exec_driver_sql(
                "SELECT c.source, c.message_id, c.seq, c.outcome FROM client_messages c "
                "JOIN unnest(%s::text[], %s::text[]) AS v(s, m) ON c.source = v.s AND "
                "c.message_id = v.m", tuple(map(list, zip(*pairs, strict=True)))))
        else:  # SQLite (qmark)
            for i in range(0, len(pairs), 200):
                chunk = pairs[i:i + 200]
                where = " OR ".join(["(source = ? AND message_id = ?)"] * len(chunk))
                rows.extend(self.db.exec_driver_sql(
                    "SELECT source, message_id, seq, outcome FROM client_messages WHERE "
                    + where, tuple(v for pair in chunk for v in pair)))
        return {(s, m): Remembered(seq, outcome) for s, m, seq, outcome in rows}

    def remember_messages(self, rows: list[tuple[str, str, int | None, str | None]],
                          now: datetime) -> None:
        if rows and self.db.dialect.name == "postgresql":
            self.db.exec_driver_sql(
                "INSERT INTO client_messages (source, message_id, seq, outcome, time) SELECT "
                "s, m, q, o, %s FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[]) "
                "AS v(s, m, q, o)", (now, *map(list, zip(*rows, strict=True))))
        elif rows:
            self.db.execute(_remember_statement(), [
                {"source": s, "message_id": m, "seq": q, "outcome": o, "time": now}
                for s, m, q, o in rows])


@cache
def _remember_statement() -> Insert:
    return insert(tables.client_messages)
