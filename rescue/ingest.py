"""Group commit of field messages: the rate grows with the load, not the latency.

One committer per process takes every message that arrived while the previous transaction
was committing and applies them in one unit of work (rescue.services.field.apply_batch), then
answers each sender. A message is acknowledged only once its transaction has committed.
If a batch fails in the database, it is rolled back and its messages are retried one by one,
so one bad message never sinks the others.

Senders block on a plain threading.Event: under `rescue serve` gevent has patched threading,
so a sender is a greenlet waiting cooperatively; elsewhere (CLI, tests) it is a thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rescue.services.field import FieldMessage, Outcome, apply_batch
from rescue.uow import UnitOfWork

log = logging.getLogger(__name__)


class IngestUnavailable(Exception):
    """The committer is stopped or did not answer in time (the message may still commit;
    the client resends with the same id and gets the original answer)."""

    code = "unavailable"
    field = None

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass
class _Pending:
    message: FieldMessage
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None


class Ingest:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Callable[[], datetime], *,
                 max_batch: int = 500,
                 observe: Callable[[int, float], None] | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._max_batch = max_batch
        self.observe = observe
        self._queue: deque[_Pending] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.batches = 0

    def submit(self, message: FieldMessage, timeout: float = 60.0) -> Outcome:
        return self.submit_many([message], timeout)[0]

    def submit_many(self, messages: list[FieldMessage], timeout: float = 60.0) -> list[Outcome]:
        pending = [_Pending(m) for m in messages]
        with self._wake:
            if self._stopping:
                raise IngestUnavailable("the server is shutting down; resend")
            self._start()
            self._queue.extend(pending)
            self._wake.notify()
        deadline = time.monotonic() + timeout
        for p in pending:
            if not p.done.wait(max(0.0, deadline - time.monotonic())):
                raise IngestUnavailable("no answer in time; resend with the same id")
        return [p.outcome for p in pending]  # type: ignore[misc]

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stopping:
                    self._wake.wait()
                if not self._queue and self._stopping:
                    return
                batch = [self._queue.popleft()
                         for _ in range(min(len(self._queue), self._max_batch))]
            try:
                self._commit(batch)
            except Exception:  # noqa: BLE001 - never leave a sender waiting forever
                log.exception("field ingest failed on a batch of %d", len(batch))
                for p in batch:
                    if p.outcome is None:
                        p.outcome = Outcome(False, error=IngestUnavailable("internal error"))
            finally:
                for p in batch:
                    p.done.set()

    def _commit(self, batch: list[_Pending]) -> None:
        t0 = time.perf_counter()
        try:
            outcomes = self._apply([p.message for p in batch])
        except Exception:  # noqa: BLE001 - retried one by one below
            if len(batch) == 1:
                raise
            log.warning("a batch of %d field messages failed; retrying one by one",
                        len(batch), exc_info=True)
            for p in batch:
                try:
                    p.outcome = self._apply([p.message])[0]
                except Exception:  # noqa: BLE001 - this message alone fails
                    log.exception("field message failed")
                    p.outcome = Outcome(False, error=IngestUnavailable("internal error"))
        else:
            for p, o in zip(batch, outcomes, strict=True):
                p.outcome = o
        self.batches += 1
        took = time.perf_counter() - t0
        if took > 0.25:
            log.warning("slow field commit: %.0f ms for %d messages", took * 1000, len(batch))
        if self.observe:
            self.observe(len(batch), took)

    def _apply(self, messages: list[FieldMessage]) -> list[Outcome]:
        with self._uow() as uow:
            outcomes = apply_batch(uow, messages, self._clock())
            uow.commit()
        return outcomes

    def close(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
