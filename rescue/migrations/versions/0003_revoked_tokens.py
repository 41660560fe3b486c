"""Revoked tokens: a token can be withdrawn before it expires.

Rows name a digest of the token (rescue.auth.token_id), never the token; a row can go once
the token would have expired anyway.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("token_id", sa.String(32), primary_key=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revoked_tokens")
