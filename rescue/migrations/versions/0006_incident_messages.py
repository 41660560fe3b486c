"""Incident chat: each message by the seq of its event, per incident.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_messages",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("incident_id", sa.String(40), nullable=False),
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_incident_messages_incident_seq", "incident_messages",
                    ["incident_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_incident_messages_incident_seq", table_name="incident_messages")
    op.drop_table("incident_messages")
