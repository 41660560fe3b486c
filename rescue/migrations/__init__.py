"""Alembic migrations of the rescue database (SQLite and PostgreSQL); see rescue/db.py."""
