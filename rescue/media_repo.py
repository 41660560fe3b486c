"""Where scene media metadata is kept: by incident for the gallery, by stream for the latest
frame and the strip of recent ones (the bytes are in rescue.blobs)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from sqlalchemy import Connection, func, insert, select

from rescue import tables
from rescue.media import MediaItem

MAX_PAGE = 500


class MediaRepository(ABC):
    @abstractmethod
    def add(self, item: MediaItem) -> None: ...

    @abstractmethod
    def get(self, media_id: str) -> MediaItem | None: ...

    @abstractmethod
    def by_seq(self, seq: int) -> MediaItem | None: ...

    @abstractmethod
    def gallery(self, incident_id: str, after: int = 0, limit: int = 200) -> list[MediaItem]:
        """Photos, voice notes and clips of an incident after a seq, oldest first."""

    @abstractmethod
    def frames(self, incident_id: str, stream: str, *, before: int | None = None,
               limit: int = 20) -> list[MediaItem]:
        """A stream's frames, newest first (before a seq, to page back)."""

    @abstractmethod
    def streams(self, incident_id: str) -> list[tuple[str, int, MediaItem]]:
        """Each stream of an incident: (name, frames so far, its latest frame)."""


class InMemoryMediaRepository(MediaRepository):
    def __init__(self) -> None:
        self._items: dict[str, MediaItem] = {}

    def add(self, item: MediaItem) -> None:
        self._items[item.id] = item

    def get(self, media_id: str) -> MediaItem | None:
        return self._items.get(media_id)

    def by_seq(self, seq: int) -> MediaItem | None:
        return next((m for m in self._items.values() if m.seq == seq), None)

    def _of(self, incident_id: str) -> list[MediaItem]:
        return sorted((m for m in self._items.values() if m.incident_id == incident_id),
                      key=lambda m: m.seq or 0)

    def gallery(self, incident_id: str, after: int = 0, limit: int = 200) -> list[MediaItem]:
        return [m for m in self._of(incident_id)
                if m.kind != "frame" and (m.seq or 0) > after][:limit]

    def frames(self, incident_id: str, stream: str, *, before: int | None = None,
               limit: int = 20) -> list[MediaItem]:
        out = [m for m in reversed(self._of(incident_id)) if m.kind == "frame"
               and m.stream == stream and (before is None or (m.seq or 0) < before)]
        return out[:limit]

    def streams(self, incident_id: str) -> list[tuple[str, int, MediaItem]]:
        latest: dict[str, tuple[int, MediaItem]] = {}
        for m in self._of(incident_id):
            if m.kind == "frame" and m.stream is not None:
                n = latest.get(m.stream, (0, m))[0]
                latest[m.stream] = (n + 1, m)
        return [(s, n, m) for s, (n, m) in sorted(latest.items())]


def _item(data: Any, seq: int) -> MediaItem:
    return MediaItem.from_dict({**data, "seq": seq})


class SqlMediaRepository(MediaRepository):
    def __init__(self, connection: Connection) -> None:
        self.conn = connection

    def add(self, item: MediaItem) -> None:
        self.conn.execute(insert(tables.media).values(
            id=item.id, seq=item.seq, incident_id=item.incident_id, exercise=item.exercise,
            kind=item.kind, stream=item.stream, time=item.time, data=item.to_dict()))

    def _one(self, cond: Any) -> MediaItem | None:
        t = tables.media
        row = self.conn.execute(select(t.c.data, t.c.seq).where(cond)).first()
        return _item(row.data, row.seq) if row is not None else None

    def get(self, media_id: str) -> MediaItem | None:
        return self._one(tables.media.c.id == media_id)

    def by_seq(self, seq: int) -> MediaItem | None:
        return self._one(tables.media.c.seq == seq)

    def gallery(self, incident_id: str, after: int = 0, limit: int = 200) -> list[MediaItem]:
        t = tables.media
        rows = self.conn.execute(select(t.c.data, t.c.seq).where(
            t.c.incident_id == incident_id, t.c.kind.in_(("image", "audio", "video")),
            t.c.seq > after).order_by(t.c.seq).limit(min(limit, MAX_PAGE)))
        return [_item(r.data, r.seq) for r in rows]

    def frames(self, incident_id: str, stream: str, *, before: int | None = None,
               limit: int = 20) -> list[MediaItem]:
        t = tables.media
        cond = [t.c.incident_id == incident_id, t.c.stream == stream]
        if before is not None:
            cond.append(t.c.seq < before)
        rows = self.conn.execute(select(t.c.data, t.c.seq).where(*cond)
                                 .order_by(t.c.seq.desc()).limit(min(limit, MAX_PAGE)))
        return [_item(r.data, r.seq) for r in rows]

    def streams(self, incident_id: str) -> list[tuple[str, int, MediaItem]]:
        t = tables.media
        per = (select(t.c.stream, func.count().label("n"), func.max(t.c.seq).label("last"))
               .where(t.c.incident_id == incident_id, t.c.kind == "frame")
               .group_by(t.c.stream).subquery())
        rows = self.conn.execute(select(per.c.stream, per.c.n, t.c.data, t.c.seq)
                                 .join(t, t.c.seq == per.c.last).order_by(per.c.stream))
        return [(r.stream, r.n, _item(r.data, r.seq)) for r in rows]
