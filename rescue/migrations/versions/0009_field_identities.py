"""Resources carry what their own equipment calls them: an AIS MMSI and a CoT uid.

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("mmsi", sa.String(9), nullable=True))
        batch.add_column(sa.Column("cot_uid", sa.String(64), nullable=True))
    op.create_index("ix_resources_mmsi", "resources", ["mmsi"])
    op.create_index("ix_resources_cot_uid", "resources", ["cot_uid"])


def downgrade() -> None:
    op.drop_index("ix_resources_cot_uid", table_name="resources")
    op.drop_index("ix_resources_mmsi", table_name="resources")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("cot_uid")
        batch.drop_column("mmsi")
