"""An app on a real database (SQLite file, or the session's PostgreSQL database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rescue.app import create_app
from rescue.config import Config
from rescue.context import RescueContext
from rescue.db import drop_schema, make_engine

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, t: datetime = NOW) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.sqlite'}"
    url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    drop_schema(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request, tmp_path):
    """An engine on an empty database (no tables), SQLite or the session's PostgreSQL."""
    url = (f"sqlite:///{tmp_path / 'empty.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    e = make_engine(url)
    drop_schema(e)
    yield e
    e.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(db_url, tmp_path, clock):
    config = Config(data_dir=tmp_path / "var", database_url=db_url,
                    secret_key="test-secret-key-0123456789", testing=True)
    c = RescueContext(config, clock=clock)
    yield c
    c.close()


@pytest.fixture
def app(ctx):
    return create_app(ctx.config, context=ctx)


@pytest.fixture
def client(app):
    return app.test_client()


class Tokens:
    def __init__(self, ctx: RescueContext) -> None:
        self.ctx = ctx

    def header(self, role: str, **kw) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.ctx.tokens.issue(role, **kw)}


@pytest.fixture
def tokens(ctx) -> Tokens:
    return Tokens(ctx)


def team(rid: str, area: str = "330328", lat: float = 27.79, lon: float = 120.09,
         kind: str = "land_team", caps: list[str] | None = None, **extra) -> dict:
    d = {
        "id": rid, "name": f"Team {rid}", "call_sign": rid.upper(), "kind": kind,
        "tier": "professional", "agency": "Wenzhou Fire", "capabilities": caps or ["heavy_rescue"],
        "crew": 12, "capacity": 4, "speed_kmh": 50, "readiness_s": 600,
        "range_km": None, "home": {"name": "base", "lat": lat, "lon": lon},
        "lat": lat, "lon": lon, "status": "available", "area": area,
    }
    d.update(extra)
    return d
