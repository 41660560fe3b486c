"""Served processes for the realtime benchmarks: our server, the bare baseline, load
generators; a registry shaped like a real one (units clustered at bases) and its tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.common import SEATS, free_port, synthetic_registry
from rescue.auth import TokenService
from resources.model import resource_to_dict
from tests.conftest import stop_process
from tests.e2e.sockets import demo_tokens

SECRET = "benchmark-secret-key-0123456789"
ROOT = Path(__file__).resolve().parents[1]
# Where centres sit, and how many of each (a share of the clients): the province and the
# city, every county, and townships of each county.
SCOPE_SHARES = {"33": 0.03, "3303": 0.05}


@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    data_dir: Path | None = None
    log: Path | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_process(self.proc, timeout=15)


def _wait_http(url: str, proc: subprocess.Popen, log: Path | None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text() if log else ''}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("server did not come up")


def start_rescue(env: dict[str, str] | None = None, data_dir: Path | None = None) -> Served:
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="rescue-bench-"))
    port = free_port()
    log = data_dir / "server.log"
    full_env = {**os.environ, "RESCUE_DATA_DIR": str(data_dir), "RESCUE_SECRET_KEY": SECRET,
                "RESCUE_FIELD_RATE": "1000", "RESCUE_FIELD_BURST": "1000",
                "PYTHONUNBUFFERED": "1", **(env or {})}
    rescue = Path(sys.executable).with_name("rescue")
    proc = subprocess.Popen([str(rescue), "serve", "--port", str(port), "--demo"], cwd=ROOT,
                            env=full_env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _wait_http(url + "/api/v1/health", proc, log)
    s = Served(proc, url, data_dir, log)
    s.tokens.update(demo_tokens(log.read_text()))
    return s


def start_bare() -> Served:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.bare_server", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _wait_http(url + "/socket.io/?EIO=4&transport=polling", proc, None)
    return Served(proc, url)


def load_units(server: Served, n: int, seed: int = 7) -> list[dict[str, Any]]:
    """n live units around the county seats (clustered at bases), imported in one go;
    returns each unit's id, area, position and field token."""
    tokens = TokenService(SECRET)
    units = synthetic_registry(n, seed=seed)
    rows = []
    for r in units:
        d = resource_to_dict(r)
        d["status"] = "available"
        d.pop("version", None)
        d.pop("status_time", None)
        d.pop("position_time", None)
        d["id"] = "b" + r.id
        rows.append(d)
    resp = requests.post(server.url + "/api/v1/resources/import?format=geojson", timeout=600,
                         data=json.dumps({"type": "FeatureCollection", "features": [
                             {"type": "Feature", "properties": {k: v for k, v in d.items()
                                                                if k not in ("lat", "lon")},
                              "geometry": {"type": "Point", "coordinates": [
                                  d["home"]["lon"], d["home"]["lat"]]}}
                             for d in rows]}),
                         headers={"Authorization": f"Bearer {server.tokens['admin']}",
                                  "Content-Type": "application/geo+json"})
    if resp.status_code != 201:
        raise RuntimeError(f"import failed: {resp.status_code} {resp.text[:500]}")
    out = []
    for d in rows:
        lat, lon = d["home"]["lat"], d["home"]["lon"]
        tok = tokens.issue("field", resource_id=d["id"])
        out.append({"id": d["id"], "area": d["area"], "lat": lat, "lon": lon, "token": tok,
                    "auth": {"token": tok}})
    return out


def centre_scopes(n: int) -> list[str]:
    """n centre scopes: a few at the province and the city, the rest spread over the
    counties and, within them, over townships (every county has centres at both levels)."""
    counties = sorted(SEATS)
    scopes: list[str] = []
    for scope, share in SCOPE_SHARES.items():
        scopes += [scope] * max(1, round(n * share))
    rest = n - len(scopes)
    for i in range(rest):
        county = counties[i % len(counties)]
        scopes.append(county if (i // len(counties)) % 3 == 0 else
                      f"{county}{(i // len(counties)) % 20 + 1:03d}")
    return scopes[:n]


def centre_specs(n: int, probes: int, bare: bool) -> list[dict[str, Any]]:
    tokens = TokenService(SECRET)
    scopes = centre_scopes(n)
    step = max(1, n // probes)
    out = []
    for i, scope in enumerate(scopes):
        auth = ({"scope": scope} if bare else
                {"token": tokens.issue("operator", area=scope)})
        out.append({"auth": auth, "probe": i % step == 0 and len(scope) <= 6})
    return out


class LoadGen:
    """One load generator process; `start()` releases it; `result()` waits for its report."""

    def __init__(self, mode: str, spec: dict[str, Any], module: str = "bench.loadgen") -> None:
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(spec, f)
        self.path = path
        self.proc = subprocess.Popen([sys.executable, "-m", module, mode, path],
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def ready(self, timeout: float = 180) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.strip() == "ready":
                return
            if not line and self.proc.poll() is not None:
                raise RuntimeError("load generator died")
        raise RuntimeError("load generator not ready")

    def start(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self, timeout: float = 300) -> dict[str, Any]:
        out, _ = self.proc.communicate(timeout=timeout)
        os.unlink(self.path)
        return json.loads(out.strip().splitlines()[-1])
