"""Where the bytes of scene media live: files under the data dir in the embedded default, the
database when servers share one (PostgreSQL: every server reads what any server stored), or
an S3-compatible bucket when one is configured (rescue.s3blobs). The context picks one
(RescueContext.blobs).

Bytes are written before the event that announces them is committed, so an event never names
bytes that are not there; a failure between the two leaves an orphan file, never a dangling
event. Keys are the media ids the service makes (no path from a client ever reaches here).
"""

from __future__ import annotations

import os
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select

from rescue import tables

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}(\.[a-z0-9]{1,8})?$")


class BlobStoreError(OSError):
    """The store could not keep or read bytes (a full disk, a lost database): 503."""


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"bad blob key {key!r}")
    return key


class BlobStore(ABC):
    @abstractmethod
    def put(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...


class FileBlobStore(BlobStore):
    """One file per key, fanned out by the key's last two characters; written to a temporary
    name and renamed, so a reader never sees half a photo (and a kill -9 leaves none)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        key = check_key(key)
        stem = key.split(".", 1)[0]
        return self.root / stem[-2:] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise BlobStoreError(f"cannot store media: {e.strerror or e}") from None

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise BlobStoreError(f"cannot read media: {e.strerror or e}") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class SqlBlobStore(BlobStore):
    """Bytes in the shared database (`media_blobs`), for servers that share no disk."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, key: str, data: bytes) -> None:
        t = tables.media_blobs
        check_key(key)
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(t).where(t.c.key == key))
                conn.execute(insert(t).values(key=key, data=data))
        except Exception as e:  # noqa: BLE001 - any database failure is the store's
            raise BlobStoreError(f"cannot store media: {type(e).__name__}") from None

    def get(self, key: str) -> bytes | None:
        t = tables.media_blobs
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.data).where(t.c.key == check_key(key))).first()
        return bytes(row.data) if row is not None else None

    def delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(tables.media_blobs).where(tables.media_blobs.c.key == key))
