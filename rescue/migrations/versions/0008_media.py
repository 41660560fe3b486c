"""Scene media: metadata by event seq, and the bytes when servers share only the database.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("incident_id", sa.String(40), nullable=False),
        sa.Column("exercise", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("stream", sa.String(64), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_media_incident_kind_seq", "media", ["incident_id", "kind", "seq"])
    op.create_index("ix_media_incident_stream_seq", "media", ["incident_id", "stream", "seq"])
    op.create_table(
        "media_blobs",
        sa.Column("key", sa.String(96), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("media_blobs")
    op.drop_index("ix_media_incident_stream_seq", table_name="media")
    op.drop_index("ix_media_incident_kind_seq", table_name="media")
    op.drop_table("media")
