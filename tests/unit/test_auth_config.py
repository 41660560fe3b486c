"""Tokens, scope rules and configuration validation."""

from __future__ import annotations

import pytest

from rescue.auth import Forbidden, Principal, TokenService, Unauthorized, bearer, make_principal
from rescue.config import Config, ConfigError
from resources.errors import ValidationError


def test_token_round_trip_and_tamper() -> None:
    svc = TokenService("a-secret-key-long-enough")
    tok = svc.issue("operator", area="330328", categories=["fire"], name="Wencheng")
    p = svc.verify(tok)
    assert (p.role, p.area, p.categories) == ("operator", "330328", ("fire",))
    with pytest.raises(Unauthorized):
        svc.verify(tok[:-2] + "xx")
    with pytest.raises(Unauthorized):
        TokenService("another-secret-key-123").verify(tok)


@pytest.mark.parametrize("role,kw,field", [
    ("pilot", {"area": "33"}, "role"),
    ("operator", {}, "area"),
    ("field", {"area": "33"}, "resource"),
    ("operator", {"area": "33", "resource_id": "x"}, "resource"),
])
def test_principal_rules(role, kw, field) -> None:
    with pytest.raises(ValidationError) as e:
        make_principal(role, **kw)
    assert e.value.field == field


def test_scope_is_the_area_and_everything_below() -> None:
    county = Principal(role="operator", area="330305")
    assert county.covers_area("330305") and county.covers_area("330305101")
    assert county.covers_area("330305M")
    assert not county.covers_area("3303") and not county.covers_area("330328")
    assert not Principal(role="field", resource_id="x").covers_area("330305")
    assert Principal(role="admin").covers_area("anything")
    with pytest.raises(Forbidden):
        county.require("trainer")


def test_bearer_header_parsing() -> None:
    assert bearer("Bearer abc") == "abc"
    for bad in (None, "", "abc", "Basic abc", "Bearer "):
        with pytest.raises(Unauthorized):
            bearer(bad)


@pytest.mark.parametrize("env,var", [
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://x"}, "REDIS_URL"),
    ({"RESCUE_SECRET_KEY": "short"}, "RESCUE_SECRET_KEY"),
    ({"RESCUE_POSITION_MAX_AGE_S": "soon"}, "RESCUE_POSITION_MAX_AGE_S"),
    ({"RESCUE_POSITION_MAX_AGE_S": "0"}, "RESCUE_POSITION_MAX_AGE_S"),
    ({"RESCUE_MEDIA_S3_URL": "s3://bucket"}, "RESCUE_MEDIA_S3_URL"),
    ({"RESCUE_MEDIA_S3_URL": "http://minio:9000"}, "RESCUE_MEDIA_S3_URL"),
    ({"RESCUE_MEDIA_S3_URL": "http://minio:9000/a/b"}, "RESCUE_MEDIA_S3_URL"),
    ({"RESCUE_MEDIA_S3_URL": "http://minio:9000/media"}, "RESCUE_MEDIA_S3_URL"),  # no key
])
def test_bad_configuration_names_the_variable(env, var) -> None:
    with pytest.raises(ConfigError) as e:
        Config.from_env(env)
    assert str(e.value).startswith(var)


def test_embedded_default_and_url_normalisation(tmp_path) -> None:
    cfg = Config.from_env({"RESCUE_DATA_DIR": str(tmp_path)})
    assert cfg.embedded and cfg.effective_database_url.startswith("sqlite:///")
    pg = Config.from_env({"DATABASE_URL": "postgresql://h/db", "REDIS_URL": "redis://h"})
    assert pg.effective_database_url == "postgresql+psycopg://h/db" and not pg.embedded
    key = cfg.resolved_secret_key()
    assert key == cfg.resolved_secret_key() and len(key) >= 32


def test_an_empty_data_dir_variable_means_the_default_not_the_current_directory() -> None:
    """`RESCUE_DATA_DIR=` (set, empty) once put the database and the secret key in the
    directory the server was started from (found by a slip in a hostile try)."""
    from pathlib import Path

    assert Config.from_env({"RESCUE_DATA_DIR": ""}).data_dir == Path("var")
    assert Config.from_env({}).data_dir == Path("var")


def test_tokens_expire_and_can_be_revoked() -> None:
    from datetime import UTC, datetime, timedelta

    from rescue.auth import DEFAULT_TTL_S, TokenService, Unauthorized, token_id

    now = [datetime(2026, 7, 1, 8, 0, tzinfo=UTC)]
    revoked: set[str] = set()
    svc = TokenService("a-secret-key-long-enough", clock=lambda: now[0],
                       revoked=revoked.__contains__)
    tok = svc.issue("operator", area="3303")
    assert svc.verify(tok).area == "3303"
    assert svc.expiry(tok) == now[0] + timedelta(seconds=DEFAULT_TTL_S["operator"])
    now[0] += timedelta(seconds=DEFAULT_TTL_S["operator"] + 1)
    with pytest.raises(Unauthorized, match="expired"):
        svc.verify(tok)
    short = svc.issue("field", resource_id="u1", ttl_s=120)
    revoked.add(token_id(short))
    with pytest.raises(Unauthorized, match="revoked"):
        svc.verify(short)
    for ttl in (0, 59, 10**9, True):
        with pytest.raises(ValidationError):
            svc.issue("admin", ttl_s=ttl)
