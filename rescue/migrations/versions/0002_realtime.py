"""Realtime: events name every area, unit and category they concern; field messages keep
their outcome; a unit's current assignment is kept beside the registry.

- events.areas / events.units: " a b " (space-delimited, spaces at both ends) so that "one of
  the areas starts with the scope" is a portable LIKE '% scope%' and "names unit u" is
  LIKE '% u %'. Old events get their single `area`.
- events.category: the incident category for incident business (desks filter on it).
- client_messages.outcome: why a remembered message was not applied ("older", ...), so that a
  resend is answered exactly as the first time.
- unit_assignments: which incident a unit works on now, so a position of a unit on mutual aid
  also concerns the incident's area. Filled from the open incidents.

Revision ID: 0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("areas", sa.Text, nullable=False, server_default=""))
    op.add_column("events", sa.Column("category", sa.String(40), nullable=True))
    op.add_column("events", sa.Column("units", sa.Text, nullable=False, server_default=""))
    op.add_column("client_messages", sa.Column("outcome", sa.String(16), nullable=True))
    op.create_table(
        "unit_assignments",
        sa.Column("resource_id", sa.String(64), primary_key=True),
        sa.Column("incident_id", sa.String(40), nullable=False),
        sa.Column("incident_area", sa.String(32), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("exercise", sa.String(64), nullable=True),
    )
    op.create_index("ix_unit_assignments_incident", "unit_assignments", ["incident_id"])
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE events SET areas = ' ' || area || ' '"))
    _backfill(conn)


def _backfill(conn: sa.Connection) -> None:
    """Categories of old incident events, units named by old events, open assignments."""
    categories: dict[str, str] = {}
    rows = conn.execute(sa.text("SELECT id, category, area, exercise, status, data FROM incidents"))
    assignments = []
    for r in rows:
        categories[r.id] = r.category
        if r.status == "closed":
            continue
        data = r.data if isinstance(r.data, dict) else json.loads(r.data)
        for a in data.get("assignments", []):
            if a.get("released_at") is None:
                assignments.append({"resource_id": a["resource_id"], "incident_id": r.id,
                                    "incident_area": r.area, "category": r.category,
                                    "exercise": r.exercise})
    if assignments:
        conn.execute(sa.text(
            "INSERT INTO unit_assignments (resource_id, incident_id, incident_area, category, "
            "exercise) VALUES (:resource_id, :incident_id, :incident_area, :category, "
            ":exercise)"), assignments)
    updates = []
    for seq, type_, payload in conn.execute(sa.text(
            "SELECT seq, type, payload FROM events WHERE type LIKE 'incident.%' "
            "OR type LIKE 'sitrep.%' OR type LIKE 'resource.%'")):
        p = payload if isinstance(payload, dict) else json.loads(payload)
        inc = p.get("incident") if isinstance(p.get("incident"), dict) else None
        incident_id = inc["id"] if inc else p.get("incident_id")
        category = inc["category"] if inc else categories.get(incident_id or "")
        units: list[str] = []
        if isinstance(p.get("resource"), dict):
            units.append(p["resource"]["id"])
        if inc:
            units += [a["resource_id"] for a in inc.get("assignments", [])
                      if a.get("released_at") is None]
        if type_.startswith("resource.") and not p.get("incident_id"):
            category = None
        if category or units:
            updates.append({"seq": seq, "category": category,
                            "units": " " + " ".join(dict.fromkeys(units)) + " " if units else ""})
    if updates:
        conn.execute(sa.text("UPDATE events SET category = :category, units = :units "
                             "WHERE seq = :seq"), updates)


def downgrade() -> None:
    op.drop_index("ix_unit_assignments_incident", "unit_assignments")
    op.drop_table("unit_assignments")
    op.drop_column("client_messages", "outcome")
    for col in ("units", "category", "areas"):
        op.drop_column("events", col)
