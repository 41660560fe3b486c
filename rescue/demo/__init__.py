"""The Wenzhou demo: registry, command centres and their tokens (see README.md here)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, timedelta
from importlib import resources as pkg
from typing import Any

from rescue.auth import Principal
from rescue.context import RescueContext
from rescue.services.resources import import_resources
from resources.repository import ResourceFilter

log = logging.getLogger(__name__)


def _read(name: str) -> Any:
    return json.loads(pkg.files("rescue.demo").joinpath(name).read_text(encoding="utf-8"))


def demo_registry() -> list[dict[str, Any]]:
    """Units standing by at home: no position fix yet, so the dispatcher says `home_base`
    (not `position_stale_home_base`) until a unit reports."""
    out = []
    for r in _read("registry.json")["resources"]:
        r = dict(r)
        home = r.get("home") or {}
        if r.get("position_time") is None and (r.get("lat"), r.get("lon")) == (
                home.get("lat"), home.get("lon")):
            r.pop("lat", None)
            r.pop("lon", None)
        out.append(r)
    return out


def demo_centres() -> list[dict[str, Any]]:
    data = _read("centres.json")
    return data["centres"] if isinstance(data, dict) else data


def load_demo(ctx: RescueContext) -> dict[str, int]:
    """Adds the demo units that are not there yet; never overwrites live state."""
    rows = demo_registry()
    with ctx.uow(readonly=True) as uow:
        existing = {r.id for r in uow.resources.list(ResourceFilter())}
    new = [r for r in rows if r["id"] not in existing]
    log.info("demo registry: %d units, %d new", len(rows), len(new))
    if not new:
        return {"created": 0, "updated": 0, "total": 0, "already_loaded": len(rows)}
    return import_resources(ctx.uow(), Principal(role="admin", name="demo loader"), new,
                            ctx.vocab, ctx.geography.areas, ctx.clock())


def demo_tokens(ctx: RescueContext) -> list[tuple[str, str, str, str]]:
    """(role, scope, token, name). They last the demo: all expire together at the end of the
    30th day from today (UTC), so they are the same for every server started today with the
    same secret key, and a restarted demo keeps its tokens."""
    today = ctx.clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    expires = today + timedelta(days=31)

    def issue(role: str, **kw: Any) -> str:
        return ctx.tokens.issue(role, expires_at=expires, **kw)

    out = [("admin", "-", issue("admin", name="demo admin"), "demo admin")]
    for c in demo_centres():
        role = c.get("role", "operator")
        out.append((role, c["area"], issue(role, area=c["area"], categories=c.get("categories"),
                                           name=c["name"]), c["name"]))
    out.append(("trainer", "3303", issue("trainer", area="3303", name="Wenzhou training"),
                "Wenzhou training"))
    units = [r for r in demo_registry() if r["kind"] in ("helicopter", "vessel")][:2]
    for r in units:
        out.append(("field", r["id"], issue("field", resource_id=r["id"], name=r["name"]),
                    r["name"]))
    return out
