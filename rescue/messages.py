"""Incident chat messages (DESIGN §13): one thread per incident, kept beside the event log.

A message is an event (`message.posted`: ordered, resumable, replayable, seen by whoever sees
the incident); this repository keeps each incident's thread by the message's event seq, so
reading a thread never scans the log.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from sqlalchemy import Connection, insert, select

from rescue import tables


class MessageRepository(ABC):
    @abstractmethod
    def add(self, incident_id: str, seq: int, message: dict[str, Any]) -> None: ...

    @abstractmethod
    def thread(self, incident_id: str, after: int = 0, limit: int = 200
               ) -> list[dict[str, Any]]:
        """The incident's messages after a seq, oldest first (each with its `seq`)."""

    @abstractmethod
    def by_seq(self, seq: int) -> dict[str, Any] | None: ...


class InMemoryMessageRepository(MessageRepository):
    def __init__(self) -> None:
        self._by_seq: dict[int, tuple[str, dict[str, Any]]] = {}

    def add(self, incident_id: str, seq: int, message: dict[str, Any]) -> None:
        self._by_seq[seq] = (incident_id, {**message, "seq": seq})

    def thread(self, incident_id: str, after: int = 0, limit: int = 200
               ) -> list[dict[str, Any]]:
        return [m for s, (i, m) in sorted(self._by_seq.items())
                if i == incident_id and s > after][:limit]

    def by_seq(self, seq: int) -> dict[str, Any] | None:
        hit = self._by_seq.get(seq)
        return hit[1] if hit else None


class SqlMessageRepository(MessageRepository):
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, incident_id: str, seq: int, message: dict[str, Any]) -> None:
        self.conn.execute(insert(tables.incident_messages).values(
            seq=seq, incident_id=incident_id, id=message["id"], data=message))

    def thread(self, incident_id: str, after: int = 0, limit: int = 200
               ) -> list[dict[str, Any]]:
        t = tables.incident_messages
        rows = self.conn.execute(select(t.c.seq, t.c.data).where(
            t.c.incident_id == incident_id, t.c.seq > after).order_by(t.c.seq).limit(limit))
        return [{**r.data, "seq": r.seq} for r in rows]

    def by_seq(self, seq: int) -> dict[str, Any] | None:
        t = tables.incident_messages
        row = self.conn.execute(select(t.c.seq, t.c.data).where(t.c.seq == seq)).first()
        return {**row.data, "seq": row.seq} if row is not None else None
