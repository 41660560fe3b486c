"""AIS sentences decoded and applied per second (issue 10 §5), beside pyais decoding the same
sentences alone in the same run.

The feed is shaped like a coastal receiver's: 2,000 vessels in the Wenzhou sea, 300 of them
registered rescue and volunteer boats (clustered at their harbours, as `synthetic_registry`
places them) whose reports become position messages through the field ingest into SQLite;
the rest are traffic; one static (type 5, two sentences) for every ten position reports.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pyais.encode import encode_dict

from bench.common import synthetic_registry

VESSELS = 2000
REGISTERED = 300


def feed(n_reports: int, seed: int = 3) -> tuple[list[bytes], list[Any]]:
    """NMEA lines (with receiver tag blocks, a second apart per vessel) and the registered
    boats they move."""
    rng = np.random.default_rng(seed)
    boats = [r for r in synthetic_registry(4000, seed=seed)
             if r.kind in ("vessel", "volunteer_vessel")][:REGISTERED]
    boats = [replace(r, id=f"ais{i}", mmsi=f"41399{i:04d}", exercise=None)
             for i, r in enumerate(boats)]
    mmsis = [int(b.mmsi) for b in boats] + [412000000 + i for i in range(VESSELS - len(boats))]
    base = [(b.home.lat, b.home.lon) for b in boats] + [
        (27.3 + rng.random() * 0.9, 120.9 + rng.random() * 0.6)
        for _ in range(VESSELS - len(boats))]
    t0 = datetime.now(UTC) - timedelta(hours=1)
    lines: list[bytes] = []
    for k in range(n_reports):
        i = int(rng.integers(0, VESSELS))
        lat, lon = base[i]
        at = t0 + timedelta(seconds=k * 0.01)
        msg = {"type": 1 if i % 3 else 18, "mmsi": mmsis[i], "lat": lat + k * 1e-6,
               "lon": lon, "speed": float(rng.random() * 15), "course": float(rng.random() * 359)}
        sentences = encode_dict(msg, radio_channel="A", talker_id="AIVDM")
        if k % 10 == 0:
            sentences += encode_dict({"type": 5, "mmsi": mmsis[i], "shipname": f"ZHE YU {i}"},
                                     radio_channel="B", talker_id="AIVDM")
        stamp = f"c:{int(at.timestamp())}"
        check = 0
        for ch in stamp.encode():
            check ^= ch
        lines += [f"\\{stamp}*{check:02X}\\{s}\n".encode() for s in sentences]
    return lines, boats


def pyais_alone(lines: list[bytes]) -> float:
    """Sentences a second that pyais decodes (assembling multi-part messages), nothing more."""
    from pyais.stream import IterMessages

    t0 = time.perf_counter()
    n = 0
    for msg in IterMessages(lines):
        msg.decode()
        n += 1
    elapsed = time.perf_counter() - t0
    assert n > 0
    return len(lines) / elapsed


def ours(lines: list[bytes], boats: list[Any]) -> tuple[float, dict[str, int]]:
    from rescue.aisfeed import import_lines
    from rescue.config import Config
    from rescue.context import RescueContext

    d = Path(tempfile.mkdtemp(prefix="bench-ais-"))
    ctx = RescueContext(Config(data_dir=d, secret_key="bench-secret-key-0123456789"))
    try:
        with ctx.uow() as uow:
            for b in boats:
                uow.resources.add(replace(b, lat=None, lon=None, position_time=None))
            uow.commit()
        t0 = time.perf_counter()
        _, done = import_lines(ctx, lines)
        elapsed = time.perf_counter() - t0
    finally:
        ctx.close()
    return len(lines) / elapsed, dict(done)


def main(quick: bool = False) -> list[dict[str, Any]]:
    n = 5_000 if quick else 30_000
    lines, boats = feed(n)
    print(f"   ais: {len(lines)} sentences ({n} position reports, {VESSELS} vessels, "
          f"{len(boats)} registered)", file=sys.stderr, flush=True)
    base = max(pyais_alone(lines) for _ in range(3))
    rate, done = ours(lines, boats)
    print(f"     pyais alone {base:.0f}/s, ours {rate:.0f}/s: {done}", file=sys.stderr,
          flush=True)
    return [{"bench": "ais", "size": f"{len(lines)} sentences, {VESSELS} vessels",
             "metric": "decoded and applied", "value": round(rate), "unit": "sentences/s",
             "baseline_name": "pyais decoding alone", "baseline_value": round(base),
             "ratio": round(rate / base, 2)},
            {"bench": "ais", "size": f"{REGISTERED} registered boats",
             "metric": "positions applied / traffic / duplicates",
             "value": f"{done.get('unit_applied', 0)} / {done.get('traffic', 0)} / "
                      f"{done.get('unit_duplicate', 0)}", "unit": "", "baseline_name": None,
             "baseline_value": None, "ratio": None}]


if __name__ == "__main__":
    from bench.common import print_table

    print_table(main(quick="--quick" in sys.argv))
