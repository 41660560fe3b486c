"""Configuration from the environment, validated once at start.

Nothing here touches the disk or the network at import; `Config.from_env()` is called by the
entry points and by tests, which may also build a `Config` directly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse


class ConfigError(ValueError):
    """Raised at start when the environment is not usable; the message names the variable."""


_DB_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg", "postgres")


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    plans_path: Path | None = None
    policy_path: Path | None = None
    position_max_age_s: int = 1800
    local_first_margin_s: int = 600
    testing: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Config:
        env = os.environ if env is None else env
        cfg = cls(
            data_dir=Path(env.get("RESCUE_DATA_DIR", "var")),
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("RESCUE_SECRET_KEY") or None,
            plans_path=Path(env["RESCUE_PLANS"]) if env.get("RESCUE_PLANS") else None,
            policy_path=(Path(env["RESCUE_DISPATCH_POLICY"])
                         if env.get("RESCUE_DISPATCH_POLICY") else None),
            position_max_age_s=_int_env(env, "RESCUE_POSITION_MAX_AGE_S", 1800),
            local_first_margin_s=_int_env(env, "RESCUE_LOCAL_FIRST_MARGIN_S", 600),
        )
        cfg = replace(cfg, **overrides) if overrides else cfg
        cfg.validate()
        return cfg

    @property
    def embedded(self) -> bool:
        """No external services: SQLite file, in-process pub/sub, in-process jobs."""
        return self.redis_url is None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url[len("postgres://"):]
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            return url
        return f"sqlite:///{(self.data_dir / 'rescue.sqlite').resolve()}"

    def validate(self) -> None:
        if self.database_url:
            scheme = urlparse(self.database_url).scheme
            if scheme not in _DB_SCHEMES:
                raise ConfigError(
                    f"DATABASE_URL: unsupported scheme {scheme!r}; use sqlite:/// or postgresql://"
                )
        if self.redis_url and urlparse(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError("REDIS_URL: must start with redis://, rediss:// or unix://")
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise ConfigError("RESCUE_SECRET_KEY: must be at least 16 characters")
        if self.position_max_age_s <= 0:
            raise ConfigError("RESCUE_POSITION_MAX_AGE_S: must be positive")
        if self.local_first_margin_s < 0:
            raise ConfigError("RESCUE_LOCAL_FIRST_MARGIN_S: must not be negative")

    def resolved_secret_key(self) -> str:
        """The signing key; the embedded default keeps a generated one under the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: expected an integer, got {raw!r}") from exc
