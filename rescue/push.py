"""Live push wired into rescue: the log follower, the router, `/centre` and `/field`.

realtime provides the transport and knows events and viewers; this module says what a token
means on each namespace, how the log is read for a backlog, and hands field messages to the
group-commit ingest. One Realtime per server process; started by `rescue serve`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from realtime.channels import Admission, Channels, Refused, error_ack
from realtime.follower import LogFollower
from realtime.router import Router
from realtime.visibility import Viewer
from rescue.auth import Forbidden, Principal, Unauthorized, token_id
from rescue.events import EventQuery
from rescue.ingest import IngestUnavailable
from rescue.services.common import viewer_of
from rescue.services.field import (
    FieldMessage,
    Outcome,
    parse_position,
    parse_sitrep,
    parse_status,
)
from resources.errors import ResourceError, ValidationError
from resources.fields import check_text
from resources.model import ID_RE

if TYPE_CHECKING:
    from rescue.context import RescueContext

log = logging.getLogger(__name__)


def principal_dict(p: Principal) -> dict[str, Any]:
    return {"role": p.role, "area": p.area, "resource": p.resource_id, "name": p.name,
            "categories": list(p.categories) if p.categories is not None else None}


class RescueBackend:
    """realtime.channels.Backend over a RescueContext."""

    def __init__(self, ctx: RescueContext) -> None:
        self.ctx = ctx

    # ------------------------------------------------------------------ connect

    def authenticate(self, namespace: str, auth: Any) -> Admission:
        if not isinstance(auth, Mapping):
            raise Refused("unauthorized", "connect with auth={'token': ...}")
        token = auth.get("token")
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise Refused("unauthorized", "a token is required")
        try:
            principal = self.ctx.tokens.verify(token)
        except Unauthorized as e:
            raise Refused("unauthorized", str(e)) from None
        last_seq = auth.get("last_seq")
        if last_seq is not None:
            if isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0:
                raise Refused("invalid", "last_seq must be a non-negative whole number")
            head = self.head()
            if last_seq > head:
                raise Refused("last_seq_ahead", f"last_seq {last_seq} is ahead of the log "
                              f"(head {head}); reload and connect without last_seq")
        exercise = auth.get("exercise")
        if exercise is not None and (not isinstance(exercise, str) or not ID_RE.match(exercise)):
            raise Refused("invalid", "exercise must be an exercise id")
        if namespace == "/field":
            return self._field_admission(principal, last_seq, token_id(token))
        if principal.role == "field":
            raise Refused("forbidden", "field units connect to /field")
        stream = self._stream(principal, exercise) if exercise is not None else None
        return Admission(viewer_of(principal, exercise), principal, last_seq,
                         hello={"principal": principal_dict(principal), "exercise": exercise},
                         credential=token_id(token), stream=stream,
                         opening=self._opening(principal, exercise))

    def _stream(self, principal: Principal, name: str) -> Any:
        """The replay this id names, or None for an exercise (joined live); either one the
        principal may see."""
        from rescue.plugins import check_exercise, open_stream

        try:
            stream = open_stream(self.ctx, principal, name)
            if stream is None:
                check_exercise(self.ctx, principal, name)
            return stream
        except ResourceError as e:
            raise Refused(getattr(e, "code", "not_found"), str(e)) from None

    def _field_admission(self, principal: Principal, last_seq: int | None,
                         credential: str) -> Admission:
        if principal.role != "field":
            raise Refused("forbidden", "/field is for field units; centres connect to /centre")
        with self.ctx.uow(readonly=True) as uow:
            unit = uow.resources.get(principal.resource_id or "")
        if unit is None:
            raise Refused("unknown_unit", f"no unit {principal.resource_id!r} in the registry")
        return Admission(viewer_of(principal, unit.exercise), principal, last_seq,
                         rate_key=unit.id, credential=credential,
                         hello={"principal": principal_dict(principal), "unit": unit.id},
                         opening=self._opening(principal, unit.exercise))

    def _opening(self, principal: Principal, exercise: str | None
                 ) -> Callable[[], list[tuple[str, dict[str, Any]]]]:
        """A unit (or a centre) that connects is sent the open directives addressed to it
        first, before any backlog: an order is what a reconnecting crew needs most."""
        def opening() -> list[tuple[str, dict[str, Any]]]:
            from rescue.services.directives import open_for

            now = self.ctx.now_in(exercise)
            items = open_for(self.ctx.uow(readonly=True), principal, exercise)
            return [("directives", {"directives": [d.to_dict(now) for d in items]})]

        return opening

    # ------------------------------------------------------------------ the log

    def read_backlog(self, viewer: Viewer, after: int, until: int, limit: int
                     ) -> list[dict[str, Any]]:
        with self.ctx.uow(readonly=True) as uow:
            return uow.events.read_dicts(EventQuery(after=after, until=until, limit=limit,
                                                    viewer=viewer))

    def read_after(self, after: int, limit: int) -> list[dict[str, Any]]:
        with self.ctx.uow(readonly=True) as uow:
            return uow.events.read_dicts(EventQuery(after=after, limit=limit,
                                                    all_exercises=True))

    def head(self) -> int:
        with self.ctx.uow(readonly=True) as uow:
            return uow.events.last_seq()

    # ------------------------------------------------------------------ field messages

    def handlers(self, namespace: str) -> Mapping[str, Callable[[Any, Any], dict[str, Any]]]:
        if namespace != "/field":
            return {"answer": self._answer}
        return {"position": self._position, "status": self._status, "sitrep": self._sitrep,
                "answer": self._answer}

    def _answer(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        """A directive's answer (DESIGN §13), acknowledged as a field message is (§6)."""
        from rescue.services.directives import answer_directive
        from rescue.services.field import message_id

        try:
            did = check_text(data.get("directive"), "directive", maximum=40, minimum=1)
            out = answer_directive(self.ctx.uow(), principal, did, data, self.ctx.now_in,
                                   message_id(data.get("id"), "id"), socket=True)
        except REFUSED as e:
            return refusal_ack(e)
        return out.ack(self.ctx.now_in(out.directive.exercise))

    def _submit(self, principal: Principal, parse: Callable[[], tuple[Any, str | None]],
                resource_id: str | None) -> dict[str, Any]:
        try:
            body, mid = parse()
            outcome = self.ctx.ingest.submit(FieldMessage(principal, body, resource_id, mid))
        except REFUSED as e:
            return refusal_ack(e)
        return _ack(outcome)

    def _position(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        return self._submit(principal, lambda: parse_position(data, self.ctx.clock()),
                            principal.resource_id)

    def _status(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        return self._submit(principal, lambda: parse_status(data, self.ctx.clock()),
                            principal.resource_id)

    def _sitrep(self, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
        if "incident" in data and data["incident"] is not None:
            check_text(data["incident"], "incident", maximum=40)
        return self._submit(principal, lambda: parse_sitrep(data, self.ctx.clock()), None)


REFUSED = (ResourceError, IngestUnavailable, Forbidden)


def refusal_ack(e: Exception) -> dict[str, Any]:
    """A refused socket message's ack (§6): code, message and the field to blame."""
    if isinstance(e, ValidationError):
        return error_ack(e.code, e.message, e.field)
    if isinstance(e, IngestUnavailable):
        return error_ack("unavailable", e.message)
    if isinstance(e, Forbidden):
        return error_ack("forbidden", str(e))
    return error_ack(getattr(e, "code", "error"), str(e), getattr(e, "field", None))


def _ack(outcome: Outcome) -> dict[str, Any]:
    ack = outcome.ack()
    if outcome.ok and outcome.sitrep_id:
        ack["sitrep_id"] = outcome.sitrep_id
    return ack


class Realtime:
    """The per-process live machinery; `install` registers the namespaces, `start` runs the
    follower and the router (only `rescue serve` needs them running)."""

    def __init__(self, ctx: RescueContext, socketio: Any, metrics: Any = None) -> None:
        self.ctx = ctx
        self.socketio = socketio
        self.backend = RescueBackend(ctx)
        cfg = ctx.config
        start = ctx.feed.last_seq
        self.follower = LogFollower(self.backend.read_after, start_seq=start,
                                    period_s=cfg.follower_period_s)
        self.router = Router(self._emit, queue_len=self._queue_len, on_evict=self._evict,
                             start_seq=start, coalesce_s=cfg.position_coalesce_s,
                             max_queue=cfg.client_queue_max,
                             observe=metrics.frame if metrics else None,
                             urgent=("directive.",))
        self.channels = Channels(socketio.server, self.router, self.backend,
                                 limiter=ctx.field_limiter,
                                 coalesce_s=cfg.position_coalesce_s, metrics=metrics)
        self._stop = threading.Event()
        self._started = False
        self.ais: Any = None  # the AIS listener, when RESCUE_AIS_PORT is set
        self.tak: Any = None  # the CoT listener, when RESCUE_COT_PORT is set

    def _emit(self, event: str, room: str, namespace: str, data: dict[str, Any]) -> None:
        self.channels.emit_room(event, room, namespace, data)

    def _queue_len(self, sid: str, namespace: str) -> int:
        return self.channels.queue_len(sid, namespace)

    def _evict(self, sid: str, namespace: str, cursor: int, room: str) -> None:
        self.channels.evict(sid, namespace, cursor, room)

    def install(self) -> None:
        self.channels.install()

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.follower.subscribe(self.ctx.feed.apply)
        self.follower.subscribe(self.ctx.revocations.apply)
        self.follower.subscribe(self.router.route)
        self.ctx.revocations.on_revoked(self.channels.drop_credential)
        self.ctx.add_commit_listener(self.follower.offer)
        self.ctx.doorbell.on_ring(self.follower.ring)
        self.follower.start()
        self.socketio.start_background_task(self.router.run, self.ctx.config.push_window_s,
                                            self._stop)
        self.socketio.start_background_task(self._watch_deadlines)
        self._start_feeds()
        log.info("realtime: following the log from seq %d", self.follower.cursor)

    def _start_feeds(self) -> None:
        """The field-standard listeners this server was configured with (DESIGN §12)."""
        cfg = self.ctx.config
        if cfg.ais_port:
            from rescue.aisfeed import UdpListener

            self.ais = UdpListener(self.ctx, cfg.ais_host, cfg.ais_port)
            self.socketio.start_background_task(self.ais.run, self.socketio.sleep)
        if cfg.cot_port or cfg.cot_tls_port:
            from rescue.takfeed import start_tak

            self.tak = start_tak(self.ctx, self.socketio, self.follower, self._stop)

    def _watch_deadlines(self, period_s: float = 1.0) -> None:
        """Announce directives that passed their deadline unaccepted (every server watches;
        each is announced once, see announce_overdue)."""
        from rescue.services.directives import announce_overdue

        while not self._stop.wait(period_s):
            try:
                announce_overdue(self.ctx.uow, self.ctx.now_in)
            except Exception:  # noqa: BLE001 - the watch outlives a failing database
                log.exception("directive deadline watch failed; retrying")

    def stop(self) -> None:
        self._stop.set()
        for feed in (self.ais, self.tak):
            if feed is not None:
                feed.stop()
        self.follower.stop()
