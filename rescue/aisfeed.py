"""AIS wired into rescue: the service over a context, a recorded NMEA log imported with
progress (`rescue ais import`), and the UDP listener a server runs when `RESCUE_AIS_PORT` is
set (a receiver or an AIS network feed sends datagrams of sentences)."""

from __future__ import annotations

import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime.ais import AisDecoder, AisReport
from rescue.incidents import Incident
from rescue.services.ais import AisService, plan_text

if TYPE_CHECKING:
    from rescue.context import RescueContext

log = logging.getLogger(__name__)

BATCH = 500
DATAGRAM = 65_535
STATS_EVERY_S = 60.0


def ais_service(ctx: RescueContext) -> AisService:
    """The process's AIS service, made once (its caches and traffic layer live with it)."""
    svc = ctx.extensions.get("ais")
    if svc is None:
        def advise(inc: Incident) -> str | None:
            from rescue.auth import make_principal
            from rescue.services.dispatch import suggest_for_incident

            return plan_text(suggest_for_incident(ctx, make_principal("admin", name="AIS"),
                                                  inc.id, 3, ctx.clock()))

        svc = ctx.extensions["ais"] = AisService(
            ctx.uow, ctx.ingest, ctx.geography.areas, ctx.plans.categories, ctx.clock,
            advise=advise)
    return svc


def import_lines(ctx: RescueContext, lines: Iterable[bytes], total_bytes: int | None = None,
                 progress: Callable[[float, Counter[str]], None] | None = None
                 ) -> tuple[Counter[str], Counter[str]]:
    """Decode and apply a recorded log in batches; returns (decoder stats, what was done)."""
    svc = ais_service(ctx)
    decoder = AisDecoder(clock=ctx.clock)
    done: Counter[str] = Counter()
    batch: list[AisReport] = []
    read = 0
    for line in lines:
        read += len(line)
        batch.extend(decoder.feed(line))
        if len(batch) >= BATCH:
            done.update(svc.apply(batch, limit=False))
            batch = []
            if progress is not None and total_bytes:
                progress(read / total_bytes, done)
    if batch:
        done.update(svc.apply(batch, limit=False))
    if progress is not None:
        progress(1.0, done)
    return decoder.stats, done


def import_file(ctx: RescueContext, path: Path,
                progress: Callable[[float, Counter[str]], None] | None = None
                ) -> tuple[Counter[str], Counter[str]]:
    with path.open("rb") as f:
        return import_lines(ctx, f, path.stat().st_size, progress)


class UdpListener:
    """Datagrams of NMEA sentences in, applied in the background; never dies on a bad one."""

    def __init__(self, ctx: RescueContext, host: str, port: int) -> None:
        self.ctx = ctx
        self.decoder = AisDecoder(clock=ctx.clock)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.address = self.sock.getsockname()
        self.running = True

    def run(self, sleep: Callable[[float], Any]) -> None:
        svc = ais_service(self.ctx)
        log.info("AIS: listening on udp %s:%d", *self.address)
        self.sock.settimeout(0.5)
        logged: dict[str, int] = {}
        last_log = time.monotonic()
        while self.running:
            if time.monotonic() - last_log > STATS_EVERY_S:  # what arrived, bad sentences too
                last_log = time.monotonic()
                now = {**self.decoder.stats, **svc.stats}
                if now != logged:
                    log.info("AIS: %s", ", ".join(f"{k} {v}" for k, v in sorted(now.items())))
                    logged = now
            reports: list[AisReport] = []
            try:
                data, _ = self.sock.recvfrom(DATAGRAM)
                reports = self.decoder.feed(data)
                self.sock.settimeout(0.0)
                while len(reports) < BATCH:  # whatever else has arrived: one batch
                    try:
                        data, _ = self.sock.recvfrom(DATAGRAM)
                    except (BlockingIOError, TimeoutError):
                        break
                    reports.extend(self.decoder.feed(data))
            except TimeoutError:
                pass
            except OSError:
                if not self.running:
                    return
                log.exception("AIS: receiving failed")
                sleep(1.0)
            finally:
                self.sock.settimeout(0.5)
            if reports:
                try:
                    svc.apply(reports)
                except Exception:  # noqa: BLE001 - a bad batch never stops the listener
                    log.exception("AIS: applying %d reports failed", len(reports))

    def stop(self) -> None:
        self.running = False
        self.sock.close()
