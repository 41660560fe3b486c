"""Field positions acknowledged per second by one server process, over /field and over HTTP,
on SQLite (embedded) and PostgreSQL (scaled), beside a bare loop of single-row INSERT commits
on the same database in the same run. Each acknowledged position must be in the log: the
server is killed with SIGKILL after each run and the log is checked for every acked seq.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from typing import Any

import sqlalchemy as sa

from bench.served import LoadGen, Served, load_units, start_rescue

DURATION = 8.0
PG_ADMIN_URL = os.environ.get("RESCUE_TEST_PG_ADMIN_URL",
                              "postgresql+psycopg://127.0.0.1:5432/test")


def bare_inserts(url: str, seconds: float = 3.0) -> float:
    """Rows a second from one loop of single-row INSERT commits."""
    from rescue.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS bench_rows (id VARCHAR(40) PRIMARY KEY, "
                             "payload TEXT NOT NULL)")
    n = 0
    t0 = time.perf_counter()
    with engine.connect() as conn:
        while time.perf_counter() - t0 < seconds:
            conn.execute(sa.text("INSERT INTO bench_rows (id, payload) VALUES (:i, :p)"),
                         {"i": uuid.uuid4().hex, "p": '{"lat": 27.8, "lon": 120.6}'})
            conn.commit()
            n += 1
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return n / elapsed


def acked_in_log(url: str, seqs: list[int]) -> tuple[int, int]:
    """(acked seqs found in the log, acked seqs) after the server was killed."""
    from rescue.db import make_engine

    engine = make_engine(url)
    found = 0
    with engine.connect() as conn:
        for i in range(0, len(seqs), 5000):
            chunk = seqs[i:i + 5000]
            found += conn.execute(sa.text("SELECT count(*) FROM events WHERE seq IN :s "
                                          "AND type = 'resource.position'").bindparams(
                sa.bindparam("s", expanding=True)), {"s": chunk}).scalar()
    engine.dispose()
    return found, len(seqs)


def run(db: str, transport: str, url: str | None, units_n: int, concurrency: int,
        quick: bool) -> dict[str, Any]:
    env = {"DATABASE_URL": url} if url else {}
    server: Served = start_rescue(env)
    db_url = url or f"sqlite:///{server.data_dir}/rescue.sqlite"
    try:
        units = load_units(server, units_n)[:concurrency]
        duration = 4.0 if quick else DURATION
        if transport == "socket":
            gen = LoadGen("field", {"url": server.url, "units": units, "rate": 1, "window": 1,
                                    "duration": duration, "report_seqs": True})
        else:
            gen = LoadGen("http", {"url": server.url, "units": units, "duration": duration})
        gen.ready()
        gen.start()
        result = gen.result()
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
        found, acked = acked_in_log(db_url, result.pop("seqs"))
        return {**result, "found": found, "acked_seqs": acked, "db_url": db_url}
    finally:
        server.stop()


def main(quick: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pg = _pg_database()
    try:
        for db, url in (("SQLite", None), ("PostgreSQL", pg)):
            for transport, conc in (("socket", 400), ("HTTP", 100)):
                print(f"   ingest: {db} over {transport}", file=sys.stderr, flush=True)
                r = run(db, transport, url, 1000, conc, quick)
                base = bare_inserts(r["db_url"])
                print(f"     {r['acks_per_s']}/s acked (p50 {r['ack_p50_ms']} ms, p99 "
                      f"{r['ack_p99_ms']} ms), {r['found']}/{r['acked_seqs']} in the log after "
                      f"kill -9; bare INSERT commits {base:.0f}/s", file=sys.stderr, flush=True)
                rows.append({"bench": "ingest", "size": f"{db}, {transport}, {conc} units",
                             "metric": "acknowledged positions/s", "value": r["acks_per_s"],
                             "unit": "/s", "baseline_name": "single-row INSERT commits",
                             "baseline_value": round(base), "ratio": round(
                                 r["acks_per_s"] / base, 2) if base else None})
                rows.append({"bench": "ingest", "size": f"{db}, {transport}",
                             "metric": "acked seqs in the log after kill -9",
                             "value": f"{r['found']}/{r['acked_seqs']}", "unit": "",
                             "baseline_name": None, "baseline_value": None, "ratio": None})
    finally:
        _drop(pg)
    return rows


def _pg_database() -> str:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"rescue_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s", (name,))
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
