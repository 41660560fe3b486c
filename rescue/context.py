"""The composition root's object graph: everything a request, a CLI command or a worker needs.

Built explicitly by `create_app` / the CLI (never at import). After a commit the context only
hands the new events to its listeners (a serving process's log follower) and rings the
doorbell; it never waits on the bus and never fails a committed request. The spatial index
follows the event log: the follower feeds it, and before each suggestion it reads whatever
resource events it has not seen yet (read-your-writes across processes sharing one database).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from geo.geography import Geography
from realtime.bus import Doorbell, EventBus, make_bus
from realtime.ratelimit import RateLimiter
from rescue.auth import TokenService
from rescue.blobs import BlobStore, FileBlobStore, SqlBlobStore
from rescue.config import Config
from rescue.db import make_engine, start_checkpointer, upgrade_schema
from rescue.dispatch.plans import load_plans
from rescue.dispatch.policy_file import load_policy
from rescue.events import Event, EventQuery, SqlEventLog
from rescue.ingest import Ingest
from rescue.jobs import CeleryRunner, JobStore, SubprocessRunner
from rescue.offload import start_native
from rescue.revocations import Revocations
from rescue.uow import SqlUnitOfWork, UnitOfWork
from rescue.warmup import warm
from resources import tables as resource_tables
from resources.model import Resource, parse_time, resource_from_dict
from resources.spatial import ResourceIndex
from resources.sql import _from_row as resource_from_row
from resources.vocabulary import Vocabulary

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@cache
def default_geography(config_data_dir: str) -> Geography:
    """Loaded once per process and data dir, on first use: the packaged Wenzhou data plus
    any imported area boundaries."""
    from rescue.area_import import load_geography

    return load_geography(Config(data_dir=Path(config_data_dir)))


class _OnGeography:
    """A part of the spatial index that reads the geography, loaded on first use."""

    def __init__(self, geography: Callable[[], Geography]) -> None:
        self._geography = geography


class ReachZoner(_OnGeography):
    """Land reachability zones for the spatial index (so the dispatcher can count the land
    units an island incident cannot use)."""

    @property
    def reach(self) -> Any:
        return self._geography().reach

    def __call__(self, lats: Any, lons: Any) -> Any:
        return self.reach.components(lats, lons)


class CountyGrouper(_OnGeography):
    """Units grouped by the county that owns them (their area's ancestor at county level): the
    dispatcher walks an incident county's own units apart from the others
    (rescue/dispatch/ranking.py)."""

    level = 3  # rescue.dispatch.jurisdiction.COUNTY_LEVEL

    @property
    def areas(self) -> Any:
        return self._geography().areas

    def __call__(self, area: str) -> str | None:
        return next((a.code for a in self.areas.ancestors(area) if a.level == self.level), None)


CATCH_UP_PAGE = 1000  # resource events applied between two pauses of a catch-up


class IndexFeed:
    """The in-memory ResourceIndex, fed from the event log in seq order.

    `zoner`, `spawn` and `grouper` go to the index (resources/spatial.py): a serving process
    zones land units by reach, groups them by county and builds the next trees on a native
    thread; a simulation's private feed does none of it, so its runs stay the same from one
    machine to the next."""

    def __init__(self, vocab: Vocabulary, *, zoner: Any = None, spawn: Any = None,
                 grouper: Any = None) -> None:
        self.vocab = vocab
        self._options = {"zoner": zoner, "spawn": spawn, "grouper": grouper}
        warm()  # the compiled steps, before any request can wait for their compile
        self.index = ResourceIndex.build([], vocab, **self._options)
        self.last_seq = 0
        self._lock = threading.RLock()

    def rebuild(self, engine: Engine) -> None:
        with engine.connect() as conn, conn.begin():
            last = SqlEventLog(conn).last_seq()
            rows = conn.execute(select(resource_tables.resources)).mappings().all()
            resources = [resource_from_row(r) for r in rows]
        with self._lock:
            self.index = ResourceIndex.build(resources, self.vocab, **self._options)
            self.last_seq = last
        log.info("resource index built: %d resources, events up to seq %d", len(resources), last)

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def catch_up(self, engine: Engine) -> int:
        """Apply resource events committed since the last call; seq order is commit order.
        In pages with a short sleep between them: after a bulk import written by another
        process (15,000 units) a server's first request applied them all at once and held
        the event loop most of a second."""
        applied, page = 0, CATCH_UP_PAGE
        with self._lock, engine.connect() as conn:
            log_ = SqlEventLog(conn)
            head = log_.last_seq()
            while self.last_seq < head:
                if applied:
                    time.sleep(0.001)  # (under gevent: other greenlets, and sockets polled)
                batch = log_.read(EventQuery(after=self.last_seq, until=head, limit=page,
                                             all_exercises=True, types_prefix="resource."))
                for ev in batch:
                    self._apply(ev.type, ev.payload)
                applied += len(batch)
                self.last_seq = (batch[-1].seq or head) if len(batch) == page else head
        return applied

    def apply(self, events: list[dict]) -> None:
        """The log follower's subscriber: events in seq order, any type."""
        with self._lock:
            for ev in events:
                if ev["seq"] > self.last_seq:
                    if ev["type"].startswith("resource."):
                        self._apply(ev["type"], ev["payload"])
                    self.last_seq = ev["seq"]

    def apply_events(self, events: list[Event],
                     current: Callable[[str], Resource | None] | None = None) -> None:
        """A private index (a simulation's) fed straight from its own commits. `current`:
        the committed units by id; a unit whose last change is the event at hand is indexed
        as it is there, not built again from the event."""
        with self._lock:
            placed: dict[str, Resource] = {}  # a run of moves, indexed at once
            for ev in events:
                if not ev.type.startswith("resource."):
                    continue
                if ev.type == "resource.position" and current is not None:
                    rid = ev.payload["id"]
                    now = _as_committed(current, rid, ev.payload.get("version"))
                    if now is not None and rid not in placed:
                        placed[rid] = now
                        continue
                if placed:
                    self.index.place_many(list(placed.values()))
                    placed = {}
                self._apply(ev.type, ev.payload, current)
            if placed:
                self.index.place_many(list(placed.values()))

    def _apply(self, type_: str, payload: Mapping[str, Any],
               current: Callable[[str], Resource | None] | None = None) -> None:
        if type_ == "resource.deleted":
            self.index.remove(payload["id"])
        elif type_ == "resource.position":
            now = _as_committed(current, payload["id"], payload.get("version"))
            if now is not None and self.index.place(now):
                return
            r = self.index.get(payload["id"])
            if r is not None:
                self.index.move(r.id, payload["lat"], payload["lon"],
                                parse_time(payload["time"], "time"),
                                payload.get("version", r.version))
        elif "resource" in payload:
            data = payload["resource"]
            now = _as_committed(current, data["id"], data.get("version"))
            self.index.upsert(now if now is not None else resource_from_dict(data, self.vocab))


def _as_committed(current: Callable[[str], Resource | None] | None, rid: str,
                  version: Any) -> Resource | None:
    """The unit as committed, if its version is the event's: versions grow with every
    change, so it is the very state the event carries."""
    if current is None:
        return None
    now = current(rid)
    return now if now is not None and now.version == version else None


class RescueContext:
    def __init__(self, config: Config, *, geography: Geography | None = None,
                 clock: Clock = utcnow, bus: EventBus | None = None) -> None:
        self.config = config
        self.clock = clock
        self.engine = make_engine(config.effective_database_url)
        upgrade_schema(self.engine)
        self._stop_checkpointer = start_checkpointer(self.engine)
        self._geography = geography
        self.vocab = Vocabulary.default()
        self.revocations = Revocations()
        self.revocations.load(self.engine, self.clock())
        self.tokens = TokenService(config.resolved_secret_key(), clock=lambda: self.clock(),
                                   revoked=self.revocations.__contains__)
        self.bus = bus or make_bus(config.redis_url)
        self.doorbell = Doorbell(self.bus)
        self._commit_listeners: list[Callable[[list[dict]], None]] = []
        self.ingest = Ingest(self.uow, lambda: self.clock())
        # One limit per unit across /field and HTTP (per process).
        self.field_limiter = RateLimiter(config.field_rate, config.field_burst)
        self.feed = IndexFeed(self.vocab, zoner=ReachZoner(lambda: self.geography),
                              spawn=start_native,
                              grouper=CountyGrouper(lambda: self.geography))
        # Loaded now: an invalid plan file stops the start with its line and problem.
        self.plans = load_plans(config.plans_path, self.vocab)
        self.policy = load_policy(config.policy_path, known_areas=None,
                                  max_position_age_s=config.position_max_age_s,
                                  local_margin_s=config.local_first_margin_s)
        self.jobs = JobStore(self)
        self.runner = CeleryRunner(config.redis_url) if config.redis_url else SubprocessRunner(self)
        self.feed.rebuild(self.engine)
        # Per-process state plugins keep beside the context (as Flask's app.extensions).
        self.extensions: dict[str, Any] = {}

    @property
    def geography(self) -> Geography:
        if self._geography is None:
            self._geography = default_geography(str(self.config.data_dir))
        return self._geography

    def now_for(self, incident_id: str) -> datetime:
        """When an action on this incident happens: the wall clock, or the clock of the
        exercise it belongs to while trainees play it in (scaled) real time (DESIGN §11)."""
        from rescue.plugins import incident_clock

        at = incident_clock(self, incident_id)
        return at if at is not None else self.clock()

    def now_in(self, exercise: str | None) -> datetime:
        """The wall clock live; inside an exercise, its clock (see now_for)."""
        from rescue.plugins import exercise_clock

        at = exercise_clock(self, exercise) if exercise is not None else None
        return at if at is not None else self.clock()

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return SqlUnitOfWork(self.engine, on_commit=self._after_commit, readonly=readonly)

    def add_commit_listener(self, fn: Callable[[list[dict]], None]) -> None:
        """`fn` receives the events of every commit made through this context, in seq order."""
        self._commit_listeners.append(fn)

    def _after_commit(self, events: list[Event]) -> None:
        # Committed: nothing here may fail the request. Listeners and bell only hurry the
        # followers along; the followers' periodic look at the log is the guarantee.
        try:
            for ev in events:  # refused here at once; other processes learn it from the log
                if ev.type == "token.revoked":
                    self.revocations.add(ev.payload["token_id"])
            if self._commit_listeners:
                dicts = [ev.to_dict() for ev in events]
                for fn in self._commit_listeners:
                    fn(dicts)
            self.doorbell.ring(max(ev.seq or 0 for ev in events))
        except Exception:  # noqa: BLE001 - see above
            log.exception("after-commit notification failed (the events are committed)")

    @contextmanager
    def index(self) -> Iterator[ResourceIndex]:
        """The index, caught up with the log and held still while the caller walks it."""
        with self.feed.lock:
            self.feed.catch_up(self.engine)
            yield self.feed.index


    @cached_property
    def blobs(self) -> BlobStore:
        """Where scene media bytes live: an S3-compatible bucket when one is configured,
        else files under the data dir (SQLite) or the shared database (PostgreSQL)."""
        s3 = self.config.media_s3
        if s3 is not None:
            from rescue.s3blobs import S3BlobStore

            store = S3BlobStore(*s3)
            store.ensure_bucket()
            return store
        if self.engine.dialect.name == "sqlite":
            return FileBlobStore(self.config.data_dir / "media")
        return SqlBlobStore(self.engine)

    @cached_property
    def dispatcher(self):  # noqa: ANN201
        """The dispatcher with the policy loaded (and validated) at start: the file's
        per-area detours and aircraft limits, the environment's position age and margin."""
        from rescue.dispatch.dispatcher import Dispatcher

        return Dispatcher(self.geography, self.plans, self.policy)

    @cached_property
    def coverage(self):  # noqa: ANN201
        """Coverage of the live units against the coverage targets (issue 11 §4): the file is
        read and validated on first use (the app asks at start); the grid and the ETAs are
        built on the first request and then kept current incrementally."""
        from rescue.services.coverage import CoverageKeeper

        return CoverageKeeper(self)

    def close(self) -> None:
        self._stop_checkpointer()
        self.ingest.close()
        self.runner.close()
        self.doorbell.close()
        self.bus.close()
        self.engine.dispose()


__all__ = ["RescueContext", "IndexFeed", "Resource", "default_geography", "utcnow"]
