"""TAK wired into rescue (DESIGN §12): what a CoT event from a TAK client does, and the picture
a TAK client in the listener's scope is sent.

A position report from a uid recorded on a live unit as `cot_uid` is that unit's position
message through the field ingest (the same validation, idempotency and visibility as
`/field`); any other uid is ignored, never created. Out go the live units and open incidents
of the scope (`RESCUE_COT_SCOPE`, an area code; everything without it), as a snapshot when a
client connects, then as the log changes them, refreshed every minute so their stale times
never lapse while the system runs.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from realtime.cot import CotEvent, build_event, delete_event, pong
from rescue.incident_repo import IncidentFilter, incident_from_dict
from rescue.incidents import Incident
from rescue.services.feeds import UnitsByIdentity, position_message
from resources.model import Resource, effective_position, resource_from_dict
from resources.repository import ResourceFilter

if TYPE_CHECKING:
    from rescue.context import RescueContext

log = logging.getLogger(__name__)

OPEN = frozenset({"reported", "responding", "on_scene", "contained"})
UNIT_STALE_S = 180
INCIDENT_STALE_S = 900
REFRESH_S = 60
# CoT types (MIL-STD-2525 as TAK writes them): friendly rotary-wing, UAV, fixed-wing,
# surface vessel, ground unit.
AIR_TYPES = {"helicopter": "a-f-A-C-H", "drone": "a-f-A-M-F-Q"}
MODE_TYPES = {"air": "a-f-A-C-F", "sea": "a-f-S-X", "land": "a-f-G-U-C"}
INCIDENT_TYPE = "b-m-p-s-p-i"  # a point of interest; remarks carry what it is


def unit_uid(rid: str) -> str:
    return f"rescue-unit-{rid}"


def incident_uid(iid: str) -> str:
    return f"rescue-incident-{iid}"


class TakFeed:
    def __init__(self, ctx: RescueContext, scope: str | None = None) -> None:
        self.ctx = ctx
        self.scope = scope or ""
        self.stats: Counter[str] = Counter()
        self.units = UnitsByIdentity(ctx.uow, "cot_uid")
        self._units: dict[str, Resource] = {}

    # ------------------------------------------------------------------ in

    def on_event(self, ev: CotEvent, identity: str | None = None) -> bytes | None:
        """A TAK client's event: a ping is answered; a registered unit's position applied.
        On the TLS port a connection speaks for the unit its certificate names, no other."""
        if ev.is_ping:
            return pong(self.ctx.clock())
        if not ev.is_position:
            self.stats["ignored"] += 1
            return None
        if identity is not None and ev.uid != identity:
            self.stats["not_its_certificate"] += 1
            return None
        rid = self.units.lookup([ev.uid]).get(ev.uid)
        if rid is None:
            self.stats["unknown_uid"] += 1
            return None
        now = self.ctx.clock()
        at = ev.time if ev.time is not None and ev.time <= now else now
        try:
            message = position_message(rid, ev.lat, ev.lon, at, now,
                                       f"cot-{ev.uid[:40]}-{int(at.timestamp() * 1000)}",
                                       speed_kmh=ev.speed_kmh, heading=ev.course)
        except ValueError as e:
            self.stats["refused"] += 1
            log.info("CoT: position of %s refused: %s", ev.uid, e)
            return None
        outcome = self.ctx.ingest.submit(message)
        self.stats["applied" if outcome.ok and not outcome.duplicate else "not_applied"] += 1
        return None

    # ------------------------------------------------------------------ out

    def _in_scope(self, area: str | None) -> bool:
        return bool(area) and area.startswith(self.scope)  # type: ignore[union-attr]

    def unit_event(self, r: Resource, now: datetime) -> bytes:
        lat, lon = effective_position(r)
        type_ = AIR_TYPES.get(r.kind) or MODE_TYPES.get(self.ctx.vocab.mode_of(r.kind),
                                                        "a-f-G-U-C")
        remarks = (f"{r.name} · {r.kind} · {r.status} · {', '.join(r.capabilities)}"
                   + ("" if r.has_position else " · at home base (no fix)"))
        return build_event(unit_uid(r.id), type_, now, UNIT_STALE_S, lat=lat, lon=lon,
                           callsign=r.call_sign or r.name[:40], remarks=remarks)

    def incident_event(self, inc: Incident, now: datetime) -> bytes:
        remarks = (f"{inc.title} · category {inc.category} · grade {inc.severity} · status "
                   f"{inc.status} · persons at risk {inc.persons_at_risk} · "
                   f"{len(inc.active_assignments())} unit(s) assigned")
        return build_event(incident_uid(inc.id), INCIDENT_TYPE, now, INCIDENT_STALE_S,
                           lat=inc.lat, lon=inc.lon, callsign=f"{inc.severity} {inc.title}"[:60],
                           remarks=remarks, how="h-e")

    def snapshot(self) -> list[bytes]:
        """The scope's live units and open incidents, as a client that connects gets them."""
        now = self.ctx.clock()
        with self.ctx.uow(readonly=True) as uow:
            units = uow.resources.list(ResourceFilter(area_prefix=self.scope or None))
            incidents = uow.incidents.list(IncidentFilter(
                area_prefix=self.scope or None, statuses=OPEN, limit=5000))
        self._units = {r.id: r for r in units}
        return ([self.unit_event(r, now) for r in units]
                + [self.incident_event(i, now) for i in incidents])

    def on_log(self, events: list[dict[str, Any]]) -> list[bytes]:
        """The follower's new events, as CoT for the clients (live events of the scope)."""
        now = self.ctx.clock()
        out: list[bytes] = []
        for ev in events:
            if ev.get("exercise") is not None:
                continue
            p: Mapping[str, Any] = ev.get("payload") or {}
            if ev["type"] == "resource.position":
                r = self._units.get(p.get("id", ""))
                if r is not None:
                    r = self._units[r.id] = replace(r, lat=p["lat"], lon=p["lon"])
                    out.append(self.unit_event(r, now))
            elif ev["type"].startswith("resource.") and isinstance(p.get("resource"), Mapping):
                try:
                    r = resource_from_dict(p["resource"], self.ctx.vocab)
                except ValueError:
                    continue
                if self._in_scope(r.area) and r.exercise is None:
                    self._units[r.id] = r
                    out.append(self.unit_event(r, now))
            elif isinstance(p.get("incident"), Mapping) and ev["type"].startswith("incident."):
                inc = incident_from_dict(p["incident"])
                if not self._in_scope(inc.area):
                    continue
                out.append(self.incident_event(inc, now) if inc.status in OPEN
                           else delete_event(incident_uid(inc.id), now))
        return out


class TakServers:
    """The plain and TLS listeners of one server process, sharing one feed."""

    def __init__(self, servers: list[Any]) -> None:
        self.servers = servers

    def broadcast(self, events: list[bytes]) -> None:
        if events:
            for s in self.servers:
                if s.clients:
                    s.broadcast(events)

    @property
    def clients(self) -> bool:
        return any(s.clients for s in self.servers)

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


def start_tak(ctx: RescueContext, socketio: Any, follower: Any, stop: Any) -> TakServers:
    """The listeners and their feed, in a server process (`rescue serve` with
    RESCUE_COT_PORT and/or RESCUE_COT_TLS_PORT)."""
    from realtime.cot_server import CotServer
    from rescue.takpki import TakPki, default_names, peer_uid

    cfg = ctx.config
    feed = TakFeed(ctx, cfg.cot_scope)
    servers = []
    if cfg.cot_port:
        servers.append(CotServer(cfg.cot_host, cfg.cot_port, on_event=feed.on_event,
                                 snapshot=feed.snapshot))
    if cfg.cot_tls_port:
        names = list(cfg.cot_tls_names or default_names())
        tls = TakPki(cfg.data_dir / "tak").server_context(names)
        servers.append(CotServer(cfg.cot_host, cfg.cot_tls_port, on_event=feed.on_event,
                                 snapshot=feed.snapshot, ssl_context=tls, identity=peer_uid))
    group = TakServers(servers)
    follower.subscribe(lambda events: group.broadcast(feed.on_log(events))
                       if group.clients else None)

    def refresh() -> None:
        while not stop.wait(REFRESH_S):
            if group.clients:
                try:
                    group.broadcast(feed.snapshot())
                except Exception:  # noqa: BLE001 - the next refresh will do
                    log.exception("CoT: refresh failed")

    for s in servers:
        s.start()
    socketio.start_background_task(refresh)
    ctx.extensions["tak"] = (feed, group)
    return group
