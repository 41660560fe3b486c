"""Replays: a shared clock row per replay; events found by time (replays of live slices);
exercises forked from a replay's moment; trainees and the clock of an exercise they play in.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replays",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("source", sa.JSON, nullable=False),
        sa.Column("exercise", sa.String(64), nullable=True),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("seq_from", sa.BigInteger, nullable=False),
        sa.Column("seq_to", sa.BigInteger, nullable=False),
        sa.Column("time_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("speed", sa.Float, nullable=True),
        sa.Column("anchor_wall", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anchor_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reached_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_events_time", "events", ["time"])
    # A what-if fork: the replay and the moment it starts from.
    with op.batch_alter_table("exercises") as batch:
        batch.add_column(sa.Column("fork", sa.JSON, nullable=True))
        # Trainees in the loop: who joined, and the exercise's clock while it runs.
        batch.add_column(sa.Column("trainees", sa.JSON, nullable=True))
        batch.add_column(sa.Column("clock_wall", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("clock_sim", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exercises") as batch:
        for name in ("clock_sim", "clock_wall", "trainees", "fork"):
            batch.drop_column(name)
    op.drop_index("ix_events_time", table_name="events")
    op.drop_table("replays")
