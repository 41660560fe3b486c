"""Token expiry and revocation reach the sockets: an expired or revoked token is refused on
connect, and the sockets opened with a token are closed when it is revoked, through the API
or from the command line against a running server."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import socketio

from rescue.auth import TokenService
from tests.e2e.sockets import Listener


def secret(server) -> str:
    return (server.log.parent / "secret_key").read_text().strip()


def refused(server, token: str, ns: str = "/centre") -> bool:
    sio = socketio.Client(reconnection=False)
    try:
        sio.connect(server.base, namespaces=[ns], auth={"token": token},
                    transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return True
    sio.disconnect()
    return False


def wait_disconnected(client: Listener, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not client.sio.connected:
            return True
        time.sleep(0.1)
    return False


def test_an_expired_token_is_refused_on_connect_and_on_http(server) -> None:
    svc = TokenService(secret(server))
    old = svc.issue("operator", area="3303", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert refused(server, old)
    r = requests.get(server.api + "/incidents", headers={"Authorization": f"Bearer {old}"},
                     timeout=10)
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    fresh = svc.issue("operator", area="3303")
    assert not refused(server, fresh)


@pytest.mark.parametrize("how", ["api", "cli"])
def test_a_revoked_token_is_refused_and_its_sockets_close(server, how) -> None:
    svc = TokenService(secret(server))
    token = svc.issue("operator", area="330328", name=f"revoke-by-{how}")
    other = svc.issue("operator", area="330328")
    victim = Listener(server.base, token).connect()
    bystander = Listener(server.base, other).connect()
    if how == "api":
        r = requests.post(server.api + "/tokens/revoke", json={"token": token}, timeout=10,
                          headers={"Authorization": f"Bearer {server.tokens['admin']}"})
        assert r.status_code == 200, r.text
    else:  # another process writes the revocation; the server learns it from its log
        rescue = Path(sys.executable).with_name("rescue")
        out = subprocess.run([str(rescue), "token", "revoke", token], capture_output=True,
                             text=True, timeout=120,
                             env={"RESCUE_DATA_DIR": str(server.log.parent),
                                  "PATH": "/usr/bin:/bin"})
        assert out.returncode == 0, out.stderr
    assert wait_disconnected(victim)
    assert refused(server, token)
    assert bystander.sio.connected and not refused(server, other)
    bystander.disconnect()
