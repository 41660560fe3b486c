"""Directives (DESIGN §13): issue, list (the board), answer, cancel.

Answers also arrive over `/field` and `/centre` (`answer`, rescue.push); here is their HTTP
twin, idempotent by the body's `id` or an Idempotency-Key header.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, jsonify
from pydantic import Field

from rescue.api.contract import (
    ID_PATTERN,
    INCIDENT_ID_PATTERN,
    JSON_ERRORS,
    TEXT,
    ActionIn,
    Contract,
    Lat,
    Lax,
    Lon,
    MessageId,
    Out,
    Strict,
    whole,
)
from rescue.api.deps import body, caller, ctx, idempotency_key, no_body, query
from rescue.directives import ANSWERS, DEFAULT_DEADLINE_S, STATES
from rescue.services import directives as svc
from rescue.services.common import viewer_of
from resources.model import AREA_BODY

ERRORS = JSON_ERRORS + (404, 409)
Answer = Literal[ANSWERS]  # type: ignore[valid-type]
State = Literal[STATES]  # type: ignore[valid-type]


class DirectiveTo(Strict):
    """Exactly one of: the units (a team is several), or a centre below the issuer."""

    resources: list[str] | None = Field(None, min_length=1, max_length=svc.MAX_RECIPIENTS,
                                        json_schema_extra={"uniqueItems": True,
                                                           "items": {"pattern": ID_PATTERN}})
    area: str | None = Field(None, pattern=f"^{AREA_BODY}$", max_length=32,
                             description="the area code of a subordinate centre")


class DirectiveIn(Strict):
    id: MessageId | None = Field(None, description="the client's message id: a resend with "
                                 "the same id is issued once (or send Idempotency-Key)")
    to: DirectiveTo = Field(json_schema_extra={"minProperties": 1, "maxProperties": 1})
    text: str = Field(min_length=1, max_length=svc.MAX_TEXT, pattern=TEXT)
    incident: str | None = Field(None, pattern=INCIDENT_ID_PATTERN)
    lat: Lat | None = None
    lon: Lon | None = None
    deadline_s: whole(1, svc.MAX_DEADLINE_S) | None = Field(  # type: ignore[valid-type]
        None, description=f"seconds to accept it before it is overdue (default "
        f"{DEFAULT_DEADLINE_S})")

    model_config = Strict.model_config | {"json_schema_extra": {
        "dependentRequired": {"lat": ["lon"], "lon": ["lat"]}}}


class DirectiveRecipient(Out):
    kind: Literal["unit", "area"]
    id: str
    state: str
    time: str | None
    reason: str | None


class DirectiveOut(Out):
    id: str
    text: str
    to: dict[str, Any]
    issuer: dict[str, Any]
    recipients: list[DirectiveRecipient]
    issued: str
    deadline: str
    state: State
    late: list[str]
    incident: str | None
    seq: int | None


class DirectiveCreated(DirectiveOut):
    duplicate: bool


class DirectiveList(Out):
    directives: list[DirectiveOut]


class DirectivesQuery(Lax):
    state: State | None = Field(None, description="one state; without it, every directive "
                                "not closed (overdue first)")
    incident: str | None = Field(None, pattern=INCIDENT_ID_PATTERN)
    exercise: str | None = Field(None, pattern=ID_PATTERN)
    limit: int = Field(200, ge=1, le=500)


class DirectiveAnswerIn(Strict):
    id: MessageId | None = Field(None, description="the client's message id (or send "
                                 "Idempotency-Key): a resend is applied once")
    state: Answer
    reason: str | None = Field(None, min_length=1, max_length=svc.MAX_REASON, pattern=TEXT,
                               description="required when unable")
    recipient: str | None = Field(None, min_length=1, max_length=80, pattern=r"^[^\s]+$",
                                  description="a centre recording a unit's answer heard by "
                                  "radio names the unit")


class DirectiveAnswerOut(Out):
    ok: bool
    seq: int | None
    duplicate: bool
    ignored: str | None
    state: State
    directive: DirectiveOut


def register(bp: Blueprint, c: Contract) -> None:
    doc = c.spec.validate

    @bp.post("/directives")
    @doc(json=DirectiveIn, resp=c.resp(201, DirectiveCreated, errors=ERRORS),
         tags=["command"], skip_validation=True)
    def issue_directive():  # noqa: ANN202
        """Direct units (a team is several) or a subordinate centre; the recipients receive
        it live and answer. A resend with the same `id` (or Idempotency-Key) is issued once."""
        x = ctx()
        data = body(DirectiveIn)
        d, duplicate = svc.issue_directive(x.uow(), caller(), data, x.geography.areas,
                                           x.now_in, message_id=idempotency_key(data, "id"))
        return jsonify({**d.to_dict(x.now_in(d.exercise)), "duplicate": duplicate}), 201

    @bp.get("/directives")
    @doc(query=DirectivesQuery, resp=c.resp(200, DirectiveList), tags=["command"],
         skip_validation=True)
    def list_directives():  # noqa: ANN202
        """The directives the caller sees (the issuer's centre and those above it, the
        recipients' own centres, the units addressed), overdue first."""
        x = ctx()
        q = query(DirectivesQuery)
        now = x.now_in(q.exercise)
        items = svc.list_directives(x.uow(readonly=True), viewer_of(caller(), q.exercise), now,
                                    q.state, q.incident, q.limit)
        return jsonify({"directives": [d.to_dict(now) for d in items]})

    @bp.get("/directives/<iid:did>")
    @doc(resp=c.resp(200, DirectiveOut), tags=["command"], skip_validation=True)
    def get_directive(did: str):  # noqa: ANN202
        """One directive with each recipient's answer."""
        x = ctx()
        with x.uow(readonly=True) as uow:
            d = svc.readable_directive(caller(), uow.directives.get(did), did)
        return jsonify(d.to_dict(x.now_in(d.exercise)))

    @bp.post("/directives/<iid:did>/answer")
    @doc(json=DirectiveAnswerIn, resp=c.resp(200, DirectiveAnswerOut, errors=ERRORS),
         tags=["command"], skip_validation=True)
    def answer_directive(did: str):  # noqa: ANN202
        """Answer for oneself (a unit, or the centre addressed): received, accepted, unable
        (with a reason) or done. An answer behind what was already said is ignored."""
        x = ctx()
        data = body(DirectiveAnswerIn)
        out = svc.answer_directive(x.uow(), caller(), did, data, x.now_in,
                                   idempotency_key(data, "id"))
        now = x.now_in(out.directive.exercise)
        return jsonify({**out.ack(now), "directive": out.directive.to_dict(now)})

    @bp.post("/directives/<iid:did>/cancel")
    @doc(json=ActionIn, resp=c.resp(200, DirectiveOut, errors=ERRORS), tags=["command"],
         skip_validation=True)
    def cancel_directive(did: str):  # noqa: ANN202
        """Withdraw a directive (the issuing centre or one above it): closed for everyone."""
        no_body()
        x = ctx()
        d = svc.cancel_directive(x.uow(), caller(), did, x.now_in)
        return jsonify(d.to_dict(x.now_in(d.exercise)))
