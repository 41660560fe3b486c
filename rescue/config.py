"""Configuration from the environment, validated once at start.

Nothing here touches the disk or the network at import; `Config.from_env()` is called by the
entry points and by tests, which may also build a `Config` directly.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
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
    coverage_path: Path | None = None  # coverage targets (issue 11 §4); None: the packaged file
    position_max_age_s: int = 1800
    local_first_margin_s: int = 600
    # Live push (DESIGN §6): frame window, position coalescing, slow-client queue bound,
    # per-unit field rate (messages/s and burst), follower's periodic look at the log.
    push_window_s: float = 0.05
    position_coalesce_s: float = 1.0
    client_queue_max: int = 64
    field_rate: float = 5.0
    field_burst: float = 20.0
    follower_period_s: float = 1.0
    # The operator's console: a tile URL (none: the app's own land and sea), the timer's amber
    # and red thresholds without a first dispatch (NFPA 1225: 60 s), the front-end libraries.
    tile_url: str | None = None
    dispatch_amber_s: int = 30
    dispatch_red_s: int = 60
    web_dir: Path | None = None
    # Scene media in an S3-compatible bucket (http(s)://host[:port]/bucket), else files under
    # the data dir (SQLite) or the database (PostgreSQL).
    media_s3_url: str | None = None
    media_s3_key: str | None = None
    media_s3_secret: str | None = None
    media_s3_region: str = "us-east-1"
    # AIS in (DESIGN §12): a UDP port for NMEA datagrams (off when None).
    ais_port: int | None = None
    ais_host: str = "0.0.0.0"  # noqa: S104 - receivers send from the network
    # CoT (TAK) in and out: a TCP port (off when None), and the area whose units and incidents
    # go out (everything when None). Plain TCP: a trusted network only.
    cot_port: int | None = None
    cot_host: str = "0.0.0.0"  # noqa: S104
    cot_scope: str | None = None
    # The TLS port (client certificates from `rescue tak enroll`) and the names its
    # certificate is for (default: this host's name, localhost, 127.0.0.1).
    cot_tls_port: int | None = None
    cot_tls_names: tuple[str, ...] = ()
    # Who CAP alerts say they are from (CAP `sender`: no spaces or commas).
    cap_sender: str = "rescue-coordination@localhost"
    # A replay whose fold may read this many events or more is folded ahead by a job
    # (simulations.prepare); 0 prepares every replay.
    replay_prepare_events: int = 20_000
    # A running job silent this long (no heartbeat: its worker died) counts as failed.
    job_stale_s: float = 60.0
    # Jobs run at once in child processes (the embedded default); the others wait, queued.
    job_processes: int = 2
    testing: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        env = os.environ if env is None else env
        cfg = cls(
            data_dir=Path(env.get("RESCUE_DATA_DIR") or "var"),  # (empty: unset, as below)
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("RESCUE_SECRET_KEY") or None,
            plans_path=Path(env["RESCUE_PLANS"]) if env.get("RESCUE_PLANS") else None,
            policy_path=(Path(env["RESCUE_DISPATCH_POLICY"])
                         if env.get("RESCUE_DISPATCH_POLICY") else None),
            coverage_path=(Path(env["RESCUE_COVERAGE_TARGETS"])
                           if env.get("RESCUE_COVERAGE_TARGETS") else None),
            position_max_age_s=_int_env(env, "RESCUE_POSITION_MAX_AGE_S", 1800),
            local_first_margin_s=_int_env(env, "RESCUE_LOCAL_FIRST_MARGIN_S", 600),
            push_window_s=_int_env(env, "RESCUE_PUSH_WINDOW_MS", 50) / 1000.0,
            position_coalesce_s=_float_env(env, "RESCUE_POSITION_COALESCE_S", 1.0),
            client_queue_max=_int_env(env, "RESCUE_CLIENT_QUEUE_MAX", 64),
            field_rate=_float_env(env, "RESCUE_FIELD_RATE", 5.0),
            field_burst=_float_env(env, "RESCUE_FIELD_BURST", 20.0),
            tile_url=env.get("RESCUE_TILE_URL") or None,
            dispatch_amber_s=_int_env(env, "RESCUE_DISPATCH_AMBER_S", 30),
            dispatch_red_s=_int_env(env, "RESCUE_DISPATCH_RED_S", 60),
            web_dir=Path(env["RESCUE_WEB_DIR"]) if env.get("RESCUE_WEB_DIR") else None,
            media_s3_url=env.get("RESCUE_MEDIA_S3_URL") or None,
            media_s3_key=env.get("RESCUE_MEDIA_S3_KEY") or None,
            media_s3_secret=env.get("RESCUE_MEDIA_S3_SECRET") or None,
            media_s3_region=env.get("RESCUE_MEDIA_S3_REGION") or "us-east-1",
            cap_sender=env.get("RESCUE_CAP_SENDER") or "rescue-coordination@localhost",
            replay_prepare_events=_int_env(env, "RESCUE_REPLAY_PREPARE_EVENTS", 20_000),
            job_stale_s=_float_env(env, "RESCUE_JOB_STALE_S", 60.0),
            job_processes=_int_env(env, "RESCUE_JOB_PROCESSES", 2),
            ais_port=_int_env(env, "RESCUE_AIS_PORT", 0) or None,
            ais_host=env.get("RESCUE_AIS_HOST") or "0.0.0.0",  # noqa: S104
            cot_port=_int_env(env, "RESCUE_COT_PORT", 0) or None,
            cot_host=env.get("RESCUE_COT_HOST") or "0.0.0.0",  # noqa: S104
            cot_scope=env.get("RESCUE_COT_SCOPE") or None,
            cot_tls_port=_int_env(env, "RESCUE_COT_TLS_PORT", 0) or None,
            cot_tls_names=tuple(n.strip() for n in env.get("RESCUE_COT_TLS_NAMES", "").split(",")
                                if n.strip()),
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

    @property
    def media_s3(self) -> tuple[str, str, str, str] | None:
        if not self.media_s3_url:
            return None
        return (self.media_s3_url, self.media_s3_key or "", self.media_s3_secret or "",
                self.media_s3_region)

    def validate(self) -> None:
        if self.cot_scope is not None and not re.fullmatch(r"\d{2,9}M?", self.cot_scope):
            raise ConfigError("RESCUE_COT_SCOPE: an area code (e.g. 3303 or 330328)")
        if not self.cap_sender or any(c in self.cap_sender for c in " ,<&\t\n"):
            raise ConfigError("RESCUE_CAP_SENDER: an identifier without spaces, commas, < or &")
        if self.media_s3_url:
            u = urlparse(self.media_s3_url)
            if u.scheme not in ("http", "https") or not u.netloc or not u.path.strip("/") \
                    or "/" in u.path.strip("/"):
                raise ConfigError("RESCUE_MEDIA_S3_URL: give http(s)://HOST[:PORT]/BUCKET")
            if not self.media_s3_key or not self.media_s3_secret:
                raise ConfigError("RESCUE_MEDIA_S3_URL needs RESCUE_MEDIA_S3_KEY and "
                                  "RESCUE_MEDIA_S3_SECRET")
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
        if not 1 <= self.job_processes <= 64:
            raise ConfigError("RESCUE_JOB_PROCESSES: must be between 1 and 64")
        if not 1 <= self.job_stale_s <= 86400:
            raise ConfigError("RESCUE_JOB_STALE_S: must be between 1 and 86400")
        if self.replay_prepare_events < 0:
            raise ConfigError("RESCUE_REPLAY_PREPARE_EVENTS: must not be negative")
        if not 0.001 <= self.push_window_s <= 5:
            raise ConfigError("RESCUE_PUSH_WINDOW_MS: must be between 1 and 5000")
        if not 0 <= self.position_coalesce_s <= 60:
            raise ConfigError("RESCUE_POSITION_COALESCE_S: must be between 0 and 60")
        if self.client_queue_max < 2:
            raise ConfigError("RESCUE_CLIENT_QUEUE_MAX: must be at least 2")
        if self.field_rate <= 0 or self.field_burst < 1:
            raise ConfigError("RESCUE_FIELD_RATE must be positive and RESCUE_FIELD_BURST >= 1")
        if not 0 < self.dispatch_amber_s <= self.dispatch_red_s:
            raise ConfigError("RESCUE_DISPATCH_AMBER_S must be positive and at most "
                              "RESCUE_DISPATCH_RED_S")
        if self.tile_url is not None and not self.tile_url.startswith(("http://", "https://",
                                                                       "/")):
            raise ConfigError("RESCUE_TILE_URL: an http(s) or site-relative URL template with "
                              "{z}/{x}/{y}")

    def to_env(self) -> dict[str, str]:
        """This configuration as environment variables, for a child process (a job)."""
        env = {"RESCUE_DATA_DIR": str(self.data_dir.resolve()),
               "DATABASE_URL": self.effective_database_url,
               "RESCUE_SECRET_KEY": self.resolved_secret_key(),
               "RESCUE_POSITION_MAX_AGE_S": str(self.position_max_age_s),
               "RESCUE_LOCAL_FIRST_MARGIN_S": str(self.local_first_margin_s),
               "RESCUE_JOB_STALE_S": str(self.job_stale_s)}
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        if self.plans_path:
            env["RESCUE_PLANS"] = str(self.plans_path)
        if self.policy_path:
            env["RESCUE_DISPATCH_POLICY"] = str(self.policy_path)
        if self.coverage_path:
            env["RESCUE_COVERAGE_TARGETS"] = str(self.coverage_path)
        return env

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


def _float_env(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: expected a number, got {raw!r}") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name}: expected a finite number")
    return value
