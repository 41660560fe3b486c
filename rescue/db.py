"""Engine creation and schema, for SQLite (embedded default) and PostgreSQL (scaled).

The schema is owned by the Alembic migrations in rescue/migrations. `upgrade_schema` brings
any database to the head revision keeping its data: an empty one is created, one made by the
release before migrations (tables but no alembic_version) is stamped at the baseline first.
Several processes starting at once take turns (an advisory lock on PostgreSQL; SQLite's
writer lock).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

log = logging.getLogger(__name__)

WRITER_OPTION = "rescue_writer"


def json_text(value: Any) -> str:
    """JSON columns' text: orjson (a simulation flushes hundreds of thousands of payloads;
    json.dumps cost more than the insert), json for what orjson refuses (a lone surrogate,
    an integer beyond 64 bits), so whatever was accepted is stored."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def bound_rows(table: Table, rows: list[dict[str, Any]], dialect: Any
               ) -> tuple[list[str], list[tuple]]:
    """(columns, values) of these rows (dicts with the same keys) as an insert into `table`
    binds them: through the columns' own bind processors, so they read back as the ordinary
    insert's do."""
    if not rows:
        return [], []
    cols = list(rows[0])
    procs = [table.c[c].type._cached_bind_processor(dialect) for c in cols]
    return cols, [tuple(r[c] if p is None else p(r[c]) for c, p in zip(cols, procs, strict=True))
                  for r in rows]


SQLITE_JSON_ROWS = 5000


def sqlite_insert_json(conn: Connection, table: str, cols: Sequence[str],
                       rows: list[tuple], *, in_order: bool = False) -> None:
    """Bound rows into an SQLite table, a statement per 5,000 read by SQLite from one JSON
    array (json_each). Why: executemany takes and drops the GIL for every row, and a writer
    thread beside a busy one then waits for the GIL at every row (a simulation's flush thread
    spent most of its time so). Values are str, int, float or None, or a dict for a JSON
    column (stored as its JSON text: SQLite extracts an object as its text, so the values are
    serialised once, in the array, not once each and again as strings in it); floats come
    back exact (tests/integration/test_simulation_flush.py); a chunk orjson refuses (bytes, a
    lone surrogate) goes by executemany. `in_order`: the rows are inserted in list order (a
    table whose key the database assigns, as the events' seq, numbers them so)."""
    picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(cols)))
    names = ", ".join(cols)
    sql = f"INSERT INTO {table} ({names}) SELECT {picks} FROM json_each(?)"
    if in_order:
        sql += " ORDER BY key"
    for i in range(0, len(rows), SQLITE_JSON_ROWS):
        chunk = rows[i:i + SQLITE_JSON_ROWS]
        try:
            blob = orjson.dumps(chunk).decode()
        except TypeError:
            marks = ", ".join("?" * len(cols))
            conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                                 [tuple(json_text(v) if isinstance(v, dict) else v for v in r)
                                  for r in chunk])
            continue
        conn.exec_driver_sql(sql, (blob,))


def sqlite_delete_json(conn: Connection, table: str, col: str, keys: list[str]) -> None:
    """Delete the rows whose `col` is one of `keys`, in one statement (see sqlite_insert_json)."""
    for i in range(0, len(keys), SQLITE_JSON_ROWS):
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE {col} IN "
                             "(SELECT value FROM json_each(?))",
                             (orjson.dumps(keys[i:i + SQLITE_JSON_ROWS]).decode(),))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A small pool: opening a connection (and its PRAGMAs) cost more than a whole
        # position update. In-memory databases keep one connection (each would be empty).
        memory = not path or path == ":memory:"
        engine = create_engine(url, connect_args={"timeout": 0.02, "check_same_thread": False},
                               json_serializer=json_text,
                               **({"poolclass": StaticPool} if memory else
                                  {"poolclass": QueuePool, "pool_size": 8, "max_overflow": 16}))
        _sqlite_immediate_transactions(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                           json_serializer=json_text)
    _forget_seq_lock_at_transaction_end(engine)
    return engine


def _forget_seq_lock_at_transaction_end(engine: Engine) -> None:
    """The event log takes its advisory lock once per transaction (rescue.events); the lock
    ends with the transaction, and so must the note that it is held."""

    def _forget(conn):  # noqa: ANN001, ANN202 - SQLAlchemy hook
        conn.info.pop("rescue_seq_lock", None)

    event.listen(engine, "commit", _forget)
    event.listen(engine, "rollback", _forget)


WRITE_LOCK_TIMEOUT_S = 30.0


def _sqlite_immediate_transactions(engine: Engine) -> None:
    """Writers take the lock at BEGIN: no deadlock on lock upgrade, concurrent writers queue.

    They queue in Python, not in SQLite: SQLite's busy handler sleeps inside C, which under
    gevent would hold the whole server (every request, every socket) while another process,
    say an import, holds the lock. So the busy timeout is tiny and a writer that finds the
    lock taken sleeps with time.sleep, which gevent turns into a cooperative wait.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001 - DBAPI hook
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=20")
        # Checkpoints (the only fsyncs with synchronous=NORMAL) run in a thread of their
        # own (start_checkpointer), not inside whichever commit crosses the threshold.
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001 - SQLAlchemy hook
        # Writers (units of work) lock at BEGIN; readers stay deferred and, under WAL, never
        # wait for a writer.
        immediate = conn.get_execution_options().get(WRITER_OPTION, False)
        if not immediate:
            conn.exec_driver_sql("BEGIN")
            return
        deadline = time.monotonic() + WRITE_LOCK_TIMEOUT_S
        pause = 0.002
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def start_checkpointer(engine: Engine, period_s: float = 1.0) -> Callable[[], None]:
    """Checkpoint an SQLite WAL from a native thread, so that its fsync never holds a commit
    (an acknowledgement) or, under gevent, the event loop. Other processes using the same
    file (a job) checkpoint through the same call. Returns what stops the thread."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return lambda: None
    import sqlite3

    from rescue.offload import native_thread_starter

    start_thread = native_thread_starter()
    try:
        from gevent.monkey import get_original

        native_sleep = get_original("time", "sleep")
    except ImportError:  # pragma: no cover - gevent is a dependency
        native_sleep = time.sleep
    path = engine.url.database
    stopped = [False]

    def run() -> None:
        conn = sqlite3.connect(path, timeout=0.05, check_same_thread=False,
                               isolation_level=None)
        while not stopped[0]:
            native_sleep(period_s)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as e:  # busy or gone: the next round tries again
                log.debug("checkpoint skipped: %s", e)
        conn.close()

    start_thread(run, ())
    return lambda: stopped.__setitem__(0, True)


_MIGRATION_LOCK = 7_301_330_9
BASELINE = "0001"


def _alembic_config(conn: Connection):  # noqa: ANN202 - alembic.config.Config
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = conn
    return cfg


def schema_revision(engine: Engine) -> str | None:
    """The database's current revision (None when it has no alembic_version)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    with make_engine("sqlite://").connect() as conn:
        return ScriptDirectory.from_config(_alembic_config(conn)).get_current_head() or BASELINE


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision` (head by default), keeping the data."""
    from alembic import command

    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            conn.commit()
        try:
            cfg = _alembic_config(conn)
            names = set(inspect(conn).get_table_names())
            if "resources" in names and "alembic_version" not in names:
                log.info("database made before migrations: stamping it at %s", BASELINE)
                command.stamp(cfg, BASELINE)
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()


def create_schema(engine: Engine) -> None:
    """The head schema (an alias kept for callers that only need the tables to exist)."""
    upgrade_schema(engine)


def drop_schema(engine: Engine) -> None:
    """Every table, alembic_version included (tests start from an empty database)."""
    with engine.begin() as conn:
        names = inspect(conn).get_table_names()
        for name in names:
            conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE' if
                              conn.dialect.name == "postgresql" else f'DROP TABLE IF EXISTS "{name}"'))


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction outside a unit of work (job and exercise rows): it takes SQLite's
    write lock at BEGIN, waiting its turn like a unit of work, instead of failing with
    "database is locked" when it upgrades a deferred transaction mid-way."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITER_OPTION: True})
        with conn.begin():
            yield conn
