"""Exercises: scenario runs with their own id, state and progress.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercises",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("scenario", sa.String(40), nullable=False),
        sa.Column("scenario_text", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("scale", sa.Float, nullable=False, server_default="1"),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("speed", sa.Float, nullable=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("area", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("sim_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.String(400), nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("job_id", sa.String(40), nullable=True),
        sa.Column("parent", sa.String(64), nullable=True),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("exercises")
