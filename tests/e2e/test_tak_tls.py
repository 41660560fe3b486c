"""The CoT TLS port with enrolled units (issue 10 §2): `rescue tak enroll` makes a data package;
a pytak client with the unit's certificate from it connects, moves its own unit and no other;
a client without a certificate of this authority does not get in."""

from __future__ import annotations

import asyncio
import configparser
import json
import socket
import ssl
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, stop_process
from tests.e2e.conftest import start_server
from tests.e2e.sockets import Listener, head

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pytak's optional aiohttp
    import pytak

UNIT = "dt-fire-water"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    port = free_port()
    s = start_server(tmp_path_factory.mktemp("tak-tls"), {
        "RESCUE_COT_TLS_PORT": str(port), "RESCUE_COT_HOST": "127.0.0.1",
        "RESCUE_COT_TLS_NAMES": "127.0.0.1,localhost"})
    s.tls_port = port
    yield s
    stop_process(s.proc)


def enroll(served, unit: str, out: Path) -> dict:
    rescue = Path(sys.executable).with_name("rescue")
    done = subprocess.run([str(rescue), "tak", "enroll", unit, "--host", "127.0.0.1",
                           "--port", str(served.tls_port), "--out", str(out)],
                          env={"RESCUE_DATA_DIR": str(served.log.parent), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_enrolled_unit_moves_itself_and_no_other(served, tmp_path) -> None:
    info = enroll(served, UNIT, tmp_path / "pkg.zip")
    assert info["cot_uid"] == f"DEMO-TAK-{UNIT}"
    with zipfile.ZipFile(tmp_path / "pkg.zip") as z:
        names = z.namelist()
        assert "MANIFEST/manifest.xml" in names
        pref = z.read(f"rescue-{UNIT}/server.pref").decode()
        assert f"127.0.0.1:{served.tls_port}:ssl" in pref and info["password"] in pref
        p12 = tmp_path / f"{UNIT}.p12"
        p12.write_bytes(z.read(f"rescue-{UNIT}/{UNIT}.p12"))
    start = head(served.api, served.tokens["admin"])
    dongtou = Listener(served.base, served.tokens["operator 330305"], last_seq=start).connect()

    async def run() -> None:
        cfg = configparser.ConfigParser()
        cfg["tak"] = {"COT_URL": f"tls://127.0.0.1:{served.tls_port}",
                      "PYTAK_TLS_CLIENT_CERT": str(p12),
                      "PYTAK_TLS_CLIENT_PASSWORD": info["password"],
                      "PYTAK_TLS_CLIENT_CAFILE": str(served.log.parent / "tak" / "ca.pem")}
        reader, writer = await pytak.protocol_factory(cfg["tak"])
        first = await asyncio.wait_for(reader.readuntil(b"</event>"), 15)
        assert b"rescue-unit-" in first  # the picture arrives over TLS
        writer.write(pytak.gen_cot(lat=27.831, lon=121.149, uid=info["cot_uid"],
                                   cot_type="a-f-G-U-C", stale=60))
        # Speaking for another team (its CoT uid) is ignored.
        writer.write(pytak.gen_cot(lat=27.70, lon=120.10, uid="DEMO-TAK-wc-fire-mountain",
                                   cot_type="a-f-G-U-C", stale=60))
        await writer.drain()
        await asyncio.sleep(1.5)
        writer.close()

    try:
        asyncio.run(run())
        e = dongtou.wait_for(lambda e: e["type"] == "resource.position"
                             and e["payload"]["id"] == UNIT)
        assert e["payload"]["lat"] == pytest.approx(27.831)
    finally:
        dongtou.disconnect()
    other = requests.get(f"{served.api}/resources/wc-fire-mountain", headers=served.h("admin"),
                         timeout=10).json()
    assert other["lat"] != pytest.approx(27.70)


def test_no_certificate_no_session(served) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", served.tls_port), timeout=10)
    got = b""
    try:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.settimeout(5)
            got = s.recv(4096)
    except (ssl.SSLError, OSError):
        pass
    assert b"<event" not in got
