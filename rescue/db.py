"""Engine creation and schema, for SQLite (embedded default) and PostgreSQL (scaled)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

from rescue import tables
from resources import tables as resource_tables

WRITER_OPTION = "rescue_writer"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               poolclass=NullPool)
        _sqlite_immediate_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_immediate_transactions(engine: Engine) -> None:
    """Writers take the lock at BEGIN: no deadlock on lock upgrade, concurrent writers queue."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001 - DBAPI hook
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001 - SQLAlchemy hook
        # Writers (units of work) lock at BEGIN; readers stay deferred and, under WAL, never
        # wait for a writer.
        immediate = conn.get_execution_options().get(WRITER_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_schema(engine: Engine) -> None:
    resource_tables.metadata.create_all(engine)
    tables.metadata.create_all(engine)


def drop_schema(engine: Engine) -> None:
    tables.metadata.drop_all(engine)
    resource_tables.metadata.drop_all(engine)
