"""Revoking a token before it expires."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from rescue import tables
from rescue.auth import Forbidden, Principal, TokenService, token_id
from rescue.events import Event, iso
from rescue.uow import SqlUnitOfWork
from resources.errors import ValidationError
from resources.fields import check_text


def revoke_token(uow: SqlUnitOfWork, principal: Principal, data: dict[str, Any],
                 tokens: TokenService, now: datetime, *, own_token: str | None = None
                 ) -> dict[str, Any]:
    """An admin revokes any token; anyone may revoke the token they are using (log out)."""
    unknown = set(data) - {"token"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "unknown field")
    token = check_text(data.get("token"), "token", maximum=4096, minimum=1).strip()
    if principal.role != "admin" and token != own_token:
        raise Forbidden("only an admin revokes another's token; you may revoke your own")
    expires = tokens.expiry(token)
    if expires is None:
        raise ValidationError("token", "is not a token signed by this system")
    tid = token_id(token)
    with uow:
        t = tables.revoked_tokens
        if uow.db.execute(select(t.c.token_id).where(t.c.token_id == tid)).first() is None:
            uow.db.execute(insert(t).values(token_id=tid, revoked_at=now, expires_at=expires,
                                              revoked_by=principal.source))
            uow.record(Event(type="token.revoked", area="", time=now,
                             payload={"token_id": tid, "expires_at": iso(expires)}))
        uow.commit()
    return {"token_id": tid, "revoked": True, "expires_at": iso(expires)}
