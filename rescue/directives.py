"""Directives (DESIGN §13): an order from a centre to units or to a subordinate centre, and
what each recipient answered.

A directive is addressed to recipients (units, or one centre by its area code); each answers
`received`, `accepted`, `unable` (with a reason) or `done`, in that order of progress. An
answer that would move a recipient backwards (a `received` arriving after its `accepted` over
a weak link) is acknowledged and ignored. The directive is `open` until every recipient is
finished (`done` or `unable`), then `closed`; it is `overdue` while a recipient has not
accepted by the deadline. The domain knows no framework: the service records the events, the
repositories keep the current state beside the log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from resources.model import format_time, parse_time

ANSWERS = ("received", "accepted", "unable", "done")
RANK = {"issued": 0, "received": 1, "accepted": 2, "unable": 3, "done": 3}
STATES = ("open", "overdue", "closed")
DEFAULT_DEADLINE_S = 120


@dataclass(frozen=True)
class Recipient:
    """One addressee: a unit (`kind` "unit", its id) or a centre (`kind` "area", its code)."""

    kind: str
    id: str
    state: str = "issued"
    time: datetime | None = None
    reason: str | None = None
    by: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def accepted(self) -> bool:
        """It has taken the order on (or finished with it): no longer waited for."""
        return RANK[self.state] >= RANK["accepted"]

    @property
    def finished(self) -> bool:
        return RANK[self.state] >= RANK["done"]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "state": self.state,
                "time": format_time(self.time) if self.time else None,
                "reason": self.reason, "by": self.by}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recipient:
        return cls(d["kind"], d["id"], d["state"],
                   parse_time(d["time"], "time") if d.get("time") else None,
                   d.get("reason"), d.get("by"))


@dataclass(frozen=True)
class Directive:
    id: str
    text: str
    issuer: dict[str, Any]  # who issued it, as the chat shows an author (role, level, area)
    recipients: tuple[Recipient, ...]
    issued: datetime
    deadline: datetime
    areas: tuple[str, ...]  # who sees it and its answers (DESIGN §6), main area first
    units: tuple[str, ...] = ()
    category: str | None = None
    exercise: str | None = None
    incident: str | None = None
    lat: float | None = None
    lon: float | None = None
    seq: int | None = None  # of its `directive.issued` event
    overdue_seq: int | None = None  # of its `directive.overdue` event, once announced
    cancelled: datetime | None = None
    cancelled_by: str | None = None

    @property
    def area(self) -> str:
        return self.areas[0]

    @property
    def issuer_area(self) -> str | None:
        return self.issuer.get("area")

    def scope(self) -> dict[str, Any]:
        """What the visibility rule reads of an event (realtime.visibility.Viewer.sees): a
        directive is seen by whoever sees its events."""
        return {"exercise": self.exercise, "areas": self.areas, "units": self.units,
                "category": self.category}

    def recipient(self, key: str) -> Recipient | None:
        return next((r for r in self.recipients if r.key == key), None)

    @property
    def closed(self) -> bool:
        return self.cancelled is not None or all(r.finished for r in self.recipients)

    def late(self, now: datetime) -> tuple[Recipient, ...]:
        """Recipients that have not accepted although the deadline has passed."""
        if self.closed or now < self.deadline:
            return ()
        return tuple(r for r in self.recipients if not r.accepted)

    def state(self, now: datetime) -> str:
        if self.closed:
            return "closed"
        return "overdue" if self.late(now) else "open"

    def answer(self, key: str, state: str, at: datetime, reason: str | None, by: str
               ) -> Directive | None:
        """The directive with this recipient's answer, or None when the answer is older than
        what the recipient already said (it is then ignored)."""
        current = self.recipient(key)
        assert current is not None and state in ANSWERS
        if RANK[state] <= RANK[current.state]:
            return None
        new = replace(current, state=state, time=at, reason=reason, by=by)
        return replace(self, recipients=tuple(new if r.key == key else r
                                              for r in self.recipients))

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        units = [r.id for r in self.recipients if r.kind == "unit"]
        to: dict[str, Any] = {"resources": units} if units else {
            "area": self.recipients[0].id}
        out: dict[str, Any] = {
            "id": self.id, "text": self.text, "to": to, "issuer": self.issuer,
            "recipients": [r.to_dict() for r in self.recipients],
            "issued": format_time(self.issued), "deadline": format_time(self.deadline),
            "deadline_s": round((self.deadline - self.issued).total_seconds()),
            "incident": self.incident, "lat": self.lat, "lon": self.lon,
            "exercise": self.exercise, "seq": self.seq,
            "areas": list(self.areas), "units": list(self.units), "category": self.category,
            "overdue_seq": self.overdue_seq,
            "cancelled": format_time(self.cancelled) if self.cancelled else None,
            "cancelled_by": self.cancelled_by,
        }
        if now is not None:
            out["state"] = self.state(now)
            out["late"] = [r.key for r in self.late(now)]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Directive:
        return cls(
            id=d["id"], text=d["text"], issuer=d["issuer"],
            recipients=tuple(Recipient.from_dict(r) for r in d["recipients"]),
            issued=parse_time(d["issued"], "issued"),
            deadline=parse_time(d["deadline"], "deadline"), areas=tuple(d["areas"]),
            units=tuple(d.get("units") or ()), category=d.get("category"),
            exercise=d.get("exercise"), incident=d.get("incident"), lat=d.get("lat"),
            lon=d.get("lon"), seq=d.get("seq"), overdue_seq=d.get("overdue_seq"),
            cancelled=parse_time(d["cancelled"], "cancelled") if d.get("cancelled") else None,
            cancelled_by=d.get("cancelled_by"))


def deadline_after(issued: datetime, seconds: int) -> datetime:
    return issued + timedelta(seconds=seconds)
