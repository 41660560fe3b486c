"""Revoked tokens: the set every token check consults, kept in step with the log.

A revocation is a row (so a restarted server still refuses the token) and a `token.revoked`
event (so every running server learns it from its log follower within about a second, and
drops the sockets opened with that token)."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Engine, select

from rescue import tables


class Revocations:
    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()
        self._listeners: list = []

    def __contains__(self, token_id: object) -> bool:
        return token_id in self._ids

    def load(self, engine: Engine, now: datetime) -> None:
        t = tables.revoked_tokens
        with engine.connect() as conn:
            ids = {r.token_id for r in conn.execute(
                select(t.c.token_id).where(t.c.expires_at > now))}
        with self._lock:
            self._ids |= ids

    def add(self, token_id: str) -> None:
        with self._lock:
            new = token_id not in self._ids
            self._ids.add(token_id)
        if new:
            for fn in self._listeners:
                fn(token_id)

    def on_revoked(self, fn) -> None:  # noqa: ANN001 - fn(token_id)
        """`fn` runs for each token revoked after this call (say, to close its sockets)."""
        self._listeners.append(fn)

    def apply(self, events: list[dict]) -> None:
        """The log follower's subscriber."""
        for ev in events:
            if ev["type"] == "token.revoked":
                self.add(ev["payload"]["token_id"])
