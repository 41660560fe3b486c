"""Alembic environment: migrations run on the connection rescue.db hands over (no ini file),
so the server, the CLI and the tests upgrade exactly the database they are about to use."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
