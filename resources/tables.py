"""SQLAlchemy Core schema of the registry (SQLite and PostgreSQL).

Capabilities are stored as JSON text of the sorted list, so a capability filter is a portable
``LIKE '%"hoist"%'`` (names are quoted in the JSON, so one cannot match inside another).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both backends (SQLite stores naive values: read them as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN201
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN201
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


resources = Table(
    "resources",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("call_sign", String(64)),
    Column("kind", String(40), nullable=False),
    Column("tier", String(64)),
    Column("agency", String(200)),
    Column("capabilities", Text, nullable=False, default="[]"),
    Column("crew", Integer, nullable=False, default=0),
    Column("capacity", Integer, nullable=False, default=0),
    Column("speed_kmh", Float, nullable=False),
    Column("readiness_s", Float, nullable=False),
    Column("range_km", Float),
    Column("home_name", String(200)),
    Column("home_lat", Float, nullable=False),
    Column("home_lon", Float, nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("position_time", UTCDateTime()),
    Column("status", String(40), nullable=False),
    Column("status_time", UTCDateTime()),
    Column("area", String(16), nullable=False),
    Column("exercise", String(64)),
    Column("version", Integer, nullable=False, default=1),
    Column("mmsi", String(9)),
    Column("cot_uid", String(64)),
    Index("ix_resources_status", "status"),
    Index("ix_resources_mmsi", "mmsi"),
    Index("ix_resources_cot_uid", "cot_uid"),
    Index("ix_resources_kind", "kind"),
    Index("ix_resources_area", "area"),
    Index("ix_resources_exercise", "exercise"),
)
