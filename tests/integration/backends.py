"""The SQL side of the repository contract tests: a connection in an open transaction on a
fresh schema, on SQLite or the session's PostgreSQL. A contract test subclasses its contract
with one of these and says which repository to build on `conn` (or on `engine`, for stores
that open their own transactions)."""

from __future__ import annotations

import pytest

from rescue.db import create_schema, drop_schema, make_engine


class SqlBackend:
    @pytest.fixture
    def engine(self, url):
        engine = make_engine(url)
        drop_schema(engine)
        create_schema(engine)
        yield engine
        engine.dispose()

    @pytest.fixture
    def conn(self, engine):
        conn = engine.connect()
        conn.begin()
        yield conn
        conn.close()

    @pytest.fixture
    def commit(self, conn):
        return conn.commit


class OnSqlite(SqlBackend):
    @pytest.fixture
    def url(self, sqlite_url):
        return sqlite_url


@pytest.mark.postgres
class OnPostgres(SqlBackend):
    @pytest.fixture
    def url(self, pg_url):
        return pg_url
