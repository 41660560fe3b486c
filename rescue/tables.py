"""SQL tables owned by rescue (the resources table lives in resources.tables)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

# BigInteger on PostgreSQL, INTEGER on SQLite (so that it is the rowid alias and autoincrements).
SeqType = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("type", String(64), nullable=False),
    Column("area", String(32), nullable=False),
    Column("exercise", String(64), nullable=True),
    Column("payload", JSON, nullable=False),
    Index("ix_events_area", "area"),
    Index("ix_events_exercise_seq", "exercise", "seq"),
    sqlite_autoincrement=True,
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("category", String(40), nullable=False),
    Column("severity", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("area", String(32), nullable=False),
    Column("exercise", String(64), nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("data", JSON, nullable=False),
    Index("ix_incidents_area", "area"),
    Index("ix_incidents_status", "status"),
)

# A client message id per field unit: a resend after a dropped link is not applied twice.
client_messages = Table(
    "client_messages",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("message_id", String(80), primary_key=True),
    Column("seq", SeqType, nullable=True),
    Column("time", DateTime(timezone=True), nullable=False),
)

# Long work (imports, simulations, replays, reports): state and progress shared by every server
# process and Celery worker; the input travels with the row so any worker can pick it up.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("message", String(400), nullable=True),
    Column("owner", String(200), nullable=False),
    Column("area", String(32), nullable=True),
    Column("params", JSON, nullable=False),
    Column("input", LargeBinary, nullable=True),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)
