"""What AIS reports do (DESIGN §12): a registered vessel's position is a field message like any
other (the same validation, idempotency and visibility as `/field`); other vessels are kept as
traffic (latest per MMSI, bounded); an active AIS-SART, MOB or EPIRB raises an incident once
per activation, with the dispatcher's plan attached: the system's first automatic alarm.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geo.areas import AreaIndex, OutsideCoverage
from realtime.ais import AisReport
from realtime.ratelimit import RateLimiter
from rescue.auth import make_principal
from rescue.incident_repo import IncidentFilter
from rescue.incidents import Incident, SitrepInput
from rescue.ingest import Ingest
from rescue.services.feeds import UnitsByIdentity, position_message
from rescue.services.field import FieldMessage
from rescue.services.incidents import report_incident, sitrep_in
from rescue.uow import UnitOfWork
from resources.errors import ResourceError

log = logging.getLogger(__name__)

OPEN = frozenset({"reported", "responding", "on_scene", "contained"})
ALARM_CATEGORY = {"sart": "person_overboard", "mob": "person_overboard",
                  "epirb": "maritime_distress"}
DEVICE_WORDS = {"sart": "AIS-SART 搜救应答器", "mob": "AIS-MOB 落水示位标",
                "epirb": "EPIRB-AIS 应急示位标"}
MAX_TRAFFIC = 5000


@dataclass
class Traffic:
    """Vessels without a unit: the latest report per MMSI, the oldest forgotten first."""

    limit: int = MAX_TRAFFIC
    latest: OrderedDict[str, AisReport] = field(default_factory=OrderedDict)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, r: AisReport) -> None:
        if r.kind == "static":
            if r.name:
                self.names[r.mmsi] = r.name
                if len(self.names) > self.limit:
                    self.names.pop(next(iter(self.names)))
            return
        if not r.has_position:
            return
        self.latest.pop(r.mmsi, None)
        self.latest[r.mmsi] = r
        while len(self.latest) > self.limit:
            self.latest.popitem(last=False)

    def features(self, since: datetime) -> list[dict[str, Any]]:
        return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                 "properties": {"mmsi": r.mmsi, "name": self.names.get(r.mmsi),
                                "speed_kmh": r.speed_kmh, "course": r.course,
                                "heading": r.heading, "time": r.time.isoformat(),
                                "aircraft": r.aircraft}}
                for r in self.latest.values() if r.time >= since]


class AisService:
    """Acts on decoded reports; one per process (the listener's and the import's)."""

    def __init__(self, uow: Callable[[], UnitOfWork], ingest: Ingest, areas: AreaIndex,
                 categories: Iterable[str], clock: Callable[[], datetime],
                 advise: Callable[[Incident], str | None] | None = None,
                 rate: float = 2.0, burst: float = 10.0) -> None:
        self.uow = uow
        self.ingest = ingest
        self.areas = areas
        self.categories = frozenset(categories)
        self.clock = clock
        self.advise = advise
        self.traffic = Traffic()
        self.limiter = RateLimiter(rate, burst)
        self.stats: Counter[str] = Counter()
        self.units = UnitsByIdentity(uow, "mmsi")
        self._system = make_principal("admin", name="AIS")

    # ------------------------------------------------------------------ acting

    def apply(self, reports: list[AisReport], *, limit: bool = True) -> Counter[str]:
        """Apply a batch; returns what became of it (also added to `stats`). `limit` rates
        each unknown vessel against the wall clock: a live feed's floods, not a recorded
        log imported as fast as it reads."""
        done: Counter[str] = Counter()
        units = self.units.lookup(r.mmsi for r in reports if r.kind != "static")
        messages: list[FieldMessage] = []
        for r in reports:
            if r.kind == "alert":
                done[self._alarm(r)] += 1
                continue
            if limit and r.kind == "position" and self.limiter.check(f"ais:{r.mmsi}") > 0:
                done["rate_limited"] += 1  # a transponder flooding the receiver
                continue
            uid = units.get(r.mmsi)
            if uid is None:
                self.traffic.add(r)
                done["traffic"] += 1
            elif r.kind == "position" and r.has_position:
                messages.append(self._position(r, uid))
            else:
                done["unit_static"] += 1
        if messages:
            for outcome in self.ingest.submit_many(messages):
                done["unit_" + ("applied" if outcome.ok and not outcome.duplicate
                                and not outcome.ignored else
                                "duplicate" if outcome.duplicate else
                                outcome.ignored or "refused")] += 1
        self.stats.update(done)
        return done

    def _position(self, r: AisReport, uid: str) -> FieldMessage:
        """A vessel's report as the unit's own position message. Its id is the message's bits
        and the minute it was heard in: a replayed log, or a second receiver hearing the same
        sentence, applies once; the vessel's next report (new bits) is new."""
        return position_message(
            uid, r.lat, r.lon, r.time, self.clock(),
            f"ais-{r.mmsi}-{int(r.time.timestamp()) // 60}-{r.payload}",
            speed_kmh=r.speed_kmh, heading=r.heading if r.heading is not None else r.course)

    def _open_alarm(self, uow: UnitOfWork, mmsi: str, category: str) -> Incident | None:
        for inc in uow.incidents.list(IncidentFilter(statuses=OPEN, category=category,
                                                     limit=5000)):
            if inc.id.startswith(f"ais-{mmsi}-"):
                return inc
        return None

    def _alarm(self, r: AisReport) -> str:
        """One incident per activation of a distress device: raised at its first position,
        never again while that incident is open."""
        category = ALARM_CATEGORY.get(r.device or "", "maritime_distress")
        if category not in self.categories or not r.has_position:
            return "alarm_without_position"
        with self.uow() as uow:
            if self._open_alarm(uow, r.mmsi, category) is not None:
                return "alarm_known"
        now = self.clock()
        title = f"{DEVICE_WORDS.get(r.device or '', 'AIS')} {r.mmsi} 报警 (distress beacon)"
        try:
            inc = report_incident(self.uow(), self._system, {
                "id": f"ais-{r.mmsi}-{int(r.time.timestamp())}", "title": title,
                "category": category, "severity": "III", "persons_at_risk": 1,
                "lat": r.lat, "lon": r.lon}, self.areas, self.categories, now)
        except OutsideCoverage:
            return "alarm_outside"
        except ResourceError as e:  # raised by another receiver meanwhile, or refused
            log.info("AIS alarm %s not raised: %s", r.mmsi, e)
            return "alarm_refused"
        log.warning("AIS distress alarm: %s at %.5f, %.5f -> incident %s", r.mmsi, r.lat or 0,
                    r.lon or 0, inc.id)
        self._attach_advice(inc, now)
        return "alarm_raised"

    def _attach_advice(self, inc: Incident, now: datetime) -> None:
        """The dispatcher's plan as the incident's first situation report."""
        if self.advise is None:
            return
        try:
            text = self.advise(inc)
        except Exception:  # noqa: BLE001 - an alarm without advice is still an alarm
            log.exception("no advice for the AIS alarm %s", inc.id)
            return
        if not text:
            return
        with self.uow() as uow:
            _, _, ev = sitrep_in(uow, self._system, inc.id, SitrepInput(text, 0, 0, ()), now,
                                 sitrep_id=f"{inc.id}-advice")
            uow.record(ev)
            uow.commit()


def plan_text(suggestion: dict[str, Any]) -> str | None:
    """The dispatcher's plan in one line for a situation report."""
    plan = suggestion.get("plan") or []
    if not plan:
        return "自动报警：暂无可派力量 (automatic alarm: no unit can be suggested)"
    parts = [f"{p['resource_id']} ({p['requirement']}, ETA {round(p['eta_s'] / 60)} min)"
             for p in plan]
    return "自动报警，调度建议 (automatic alarm; suggested): " + "; ".join(parts)


__all__ = ["AisService", "Traffic", "plan_text"]
