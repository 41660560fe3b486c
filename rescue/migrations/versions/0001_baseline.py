"""Baseline: the schema as released before migrations existed (create_all of that release).

A database made by that release has these tables and no alembic_version; rescue.db stamps it
at this revision and upgrades from here, keeping its data.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("call_sign", sa.String(64)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("tier", sa.String(64)),
        sa.Column("agency", sa.String(200)),
        sa.Column("capabilities", sa.Text, nullable=False),
        sa.Column("crew", sa.Integer, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("speed_kmh", sa.Float, nullable=False),
        sa.Column("readiness_s", sa.Float, nullable=False),
        sa.Column("range_km", sa.Float),
        sa.Column("home_name", sa.String(200)),
        sa.Column("home_lat", sa.Float, nullable=False),
        sa.Column("home_lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("position_time", _time),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("status_time", _time),
        sa.Column("area", sa.String(16), nullable=False),
        sa.Column("exercise", sa.String(64)),
        sa.Column("version", sa.Integer, nullable=False),
    )
    for col in ("status", "kind", "area", "exercise"):
        op.create_index(f"ix_resources_{col}", "resources", [col])
    op.create_table(
        "events",
        sa.Column("seq", _seq, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(32), nullable=False, unique=True),
        sa.Column("time", _time, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("exercise", sa.String(64)),
        sa.Column("payload", sa.JSON, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_area", "events", ["area"])
    op.create_index("ix_events_exercise_seq", "events", ["exercise", "seq"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(4), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("exercise", sa.String(64)),
        sa.Column("created", _time, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_incidents_area", "incidents", ["area"])
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_table(
        "client_messages",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("message_id", sa.String(80), primary_key=True),
        sa.Column("seq", _seq),
        sa.Column("time", _time, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("message", sa.String(400)),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("area", sa.String(32)),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("input", sa.LargeBinary),
        sa.Column("result", sa.JSON),
        sa.Column("error", sa.JSON),
        sa.Column("created", _time, nullable=False),
        sa.Column("updated", _time, nullable=False),
    )


def downgrade() -> None:
    for table in ("jobs", "client_messages", "incidents", "events", "resources"):
        op.drop_table(table)
