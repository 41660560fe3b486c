"""Directives: the current state of each beside its events.

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directives",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("exercise", sa.String(64), nullable=True),
        sa.Column("incident_id", sa.String(40), nullable=True),
        sa.Column("issued", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("awaiting", sa.Boolean, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("overdue_seq", sa.BigInteger, nullable=True),
        sa.Column("areas", sa.Text, nullable=False),
        sa.Column("units", sa.Text, nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_directives_closed_deadline", "directives", ["closed", "deadline"])
    op.create_index("ix_directives_exercise", "directives", ["exercise"])


def downgrade() -> None:
    op.drop_index("ix_directives_exercise", table_name="directives")
    op.drop_index("ix_directives_closed_deadline", table_name="directives")
    op.drop_table("directives")
