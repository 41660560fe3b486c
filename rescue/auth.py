"""Bearer tokens and scope rules.

A token is signed (not stored), so every server process and worker sharing the secret key can
check it without a lookup. It carries a role and a scope: an area code, or one resource for
`field`. Area codes are prefix-hierarchical (33 ⊃ 3303 ⊃ 330305 ⊃ 330305xxx, 330305M), so
"inside the scope" is a prefix test.

Every token expires (a default per role, or `ttl_s`), and can be revoked before that: a
revocation is kept in the database and sent round as an event, so every server refuses the
token within about a second, on HTTP and on socket connect, and drops its open sockets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from resources.errors import ValidationError

ROLES = ("operator", "field", "trainer", "admin")
# v2: tokens carry an expiry; v1 tokens (which never expired) no longer verify.
_SALT = "rescue-token-v2"
# A shift and a bit for centres, a month for a unit's device, a training block for trainers.
DEFAULT_TTL_S = {"admin": 12 * 3600, "operator": 24 * 3600, "trainer": 7 * 24 * 3600,
                 "field": 30 * 24 * 3600}
MAX_TTL_S = 365 * 24 * 3600


def token_id(token: str) -> str:
    """What a revocation names: a digest, so the revocation list holds no usable token."""
    return hashlib.sha256(token.strip().encode()).hexdigest()[:32]


class Unauthorized(Exception):
    """No token, or a token that does not verify (401)."""


class Forbidden(Exception):
    """A valid token acting outside its role or scope (403)."""


@dataclass(frozen=True)
class Principal:
    role: str
    area: str | None = None
    resource_id: str | None = None
    categories: tuple[str, ...] | None = None
    name: str = ""

    @property
    def label(self) -> str:
        who = self.resource_id or self.area or "all"
        return f"{self.role}:{who}" + (f" ({self.name})" if self.name else "")

    @property
    def source(self) -> str:
        """Whose client message ids these are (at most 64 characters): one unit's, or one
        role's in one area."""
        return (f"unit:{self.resource_id}" if self.role == "field"
                else f"{self.role}:{self.area or '*'}")

    def covers_area(self, area_code: str | None) -> bool:
        """Whether an area lies inside this principal's scope (field units have no area scope)."""
        if self.role == "admin":
            return True
        if self.role == "field" or area_code is None or self.area is None:
            return False
        return area_code.startswith(self.area)

    def covers_category(self, category: str) -> bool:
        return self.categories is None or category in self.categories

    def require(self, *roles: str) -> None:
        if self.role not in roles and self.role != "admin":
            raise Forbidden(f"role {self.role} may not do this (needs {' or '.join(roles)})")

    def event_area_prefix(self) -> str | None:
        return None if self.role == "admin" else (self.area or "\x00")


class TokenService:
    def __init__(self, secret_key: str, *, clock: Callable[[], datetime] | None = None,
                 revoked: Callable[[str], bool] | None = None) -> None:
        self._s = URLSafeSerializer(secret_key, salt=_SALT)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._revoked = revoked or (lambda _tid: False)

    def issue(self, role: str, *, area: str | None = None, resource_id: str | None = None,
              categories: Iterable[str] | None = None, name: str = "",
              ttl_s: int | None = None, expires_at: datetime | None = None) -> str:
        """A signed token; it expires `ttl_s` after now (default per role) or at `expires_at`."""
        p = make_principal(role, area=area, resource_id=resource_id, categories=categories,
                           name=name)
        if expires_at is None:
            ttl = DEFAULT_TTL_S[p.role] if ttl_s is None else ttl_s
            if isinstance(ttl, bool) or not isinstance(ttl, int) or not 60 <= ttl <= MAX_TTL_S:
                raise ValidationError("ttl", f"must be between 60 and {MAX_TTL_S} seconds")
            expires_at = self._clock() + timedelta(seconds=ttl)
        payload = {"r": p.role, "a": p.area, "u": p.resource_id, "n": p.name,
                   "c": list(p.categories) if p.categories is not None else None,
                   "x": int(expires_at.timestamp())}
        return self._s.dumps(payload)

    def expiry(self, token: str) -> datetime | None:
        """When a well-signed token expires (None if it does not verify)."""
        try:
            d = self._s.loads(token)
        except BadSignature:
            return None
        x = d.get("x") if isinstance(d, dict) else None
        return datetime.fromtimestamp(x, UTC) if isinstance(x, int) else None

    def verify(self, token: str) -> Principal:
        try:
            d = self._s.loads(token)
        except BadSignature as exc:
            raise Unauthorized("invalid token") from exc
        if not isinstance(d, dict) or d.get("r") not in ROLES or not isinstance(d.get("x"), int):
            raise Unauthorized("invalid token")
        if d["x"] <= self._clock().timestamp():
            raise Unauthorized("token expired")
        if self._revoked(token_id(token)):
            raise Unauthorized("token revoked")
        cats = d.get("c")
        return Principal(role=d["r"], area=d.get("a"), resource_id=d.get("u"),
                         categories=tuple(cats) if cats is not None else None,
                         name=d.get("n") or "")


def make_principal(role: str, *, area: str | None = None, resource_id: str | None = None,
                   categories: Iterable[str] | None = None, name: str = "") -> Principal:
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
    if role == "field":
        if not resource_id or area:
            raise ValidationError("resource", "a field token is scoped to one resource (--resource ID)")
    elif role == "admin":
        area = area or None
    elif not area:
        raise ValidationError("area", f"a {role} token needs an area (--area CODE)")
    if resource_id and role != "field":
        raise ValidationError("resource", "only field tokens are scoped to a resource")
    return Principal(role=role, area=area, resource_id=resource_id,
                     categories=tuple(categories) if categories is not None else None, name=name)


def bearer(header: str | None) -> str:
    if not header:
        raise Unauthorized("missing Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()
