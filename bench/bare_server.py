"""The baseline of the realtime benchmarks: a bare python-socketio server under gevent.

It does what a first version would: each field position is acknowledged and emitted at once
to the rooms of the centres whose scope covers the unit's area (the same rooms as ours:
every prefix of the area), one frame per update per room; no log, no batching, no resume.
A centre that asks for a backlog gets it as one emit per event. Directives (the command
bench): POST /api/v1/directives emits to the unit's room at once; the unit's `answer` is
emitted at once to the issuer's room; nothing is stored.

    python -m bench.bare_server PORT
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


def main(port: int) -> None:
    sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*")
    seq = [0]
    backlog: list[dict] = []

    @sio.on("connect", namespace="/centre")
    def centre(sid, environ, auth):  # noqa: ANN001, ANN202
        scope = (auth or {}).get("scope")
        if (auth or {}).get("issuer"):
            sio.enter_room(sid, f"i:{auth['issuer']}", namespace="/centre")
        if scope is not None:
            sio.enter_room(sid, f"a:{scope}", namespace="/centre")
        n = (auth or {}).get("backlog")
        if n:
            sio.start_background_task(send_backlog, sid, int(n))

    def send_backlog(sid: str, n: int) -> None:
        time.sleep(0.01)
        for ev in backlog[-n:]:
            sio.emit("events", {"events": [ev], "last_seq": ev["seq"]}, to=sid, namespace="/centre")
        sio.emit("ready", {"last_seq": seq[0]}, to=sid, namespace="/centre")

    @sio.on("connect", namespace="/field")
    def field(sid, environ, auth):  # noqa: ANN001, ANN202
        sio.save_session(sid, {"area": (auth or {}).get("area", "")}, namespace="/field")
        if (auth or {}).get("unit"):
            sio.enter_room(sid, f"u:{auth['unit']}", namespace="/field")

    issuers: dict[str, str] = {}

    def directives(environ, start_response):  # noqa: ANN001, ANN202
        """POST /api/v1/directives: straight to the unit's room."""
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(size))
        did = f"d{len(issuers) + 1}"
        issuers[did] = body.get("issuer", "")
        seq[0] += 1
        ev = {"seq": seq[0], "type": "directive.issued",
              "payload": {"directive": {"id": did, "text": body["text"], "to": body["to"]}}}
        for unit in body["to"]["resources"]:
            sio.emit("events", {"events": [ev], "last_seq": seq[0]}, room=f"u:{unit}",
                     namespace="/field")
        start_response("201 Created", [("Content-Type", "application/json")])
        return [json.dumps({"id": did}).encode()]

    @sio.on("answer", namespace="/field")
    def answer(sid, data):  # noqa: ANN001, ANN202
        seq[0] += 1
        ev = {"seq": seq[0], "type": "directive.answered",
              "payload": {"directive": {"id": data["directive"]},
                          "answer": {"state": data["state"]}}}
        sio.emit("events", {"events": [ev], "last_seq": seq[0]},
                 room=f"i:{issuers.get(data['directive'], '')}", namespace="/centre")
        return {"ok": True, "seq": seq[0], "duplicate": False, "ignored": None}

    @sio.on("position", namespace="/field")
    def position(sid, data):  # noqa: ANN001, ANN202
        area = sio.get_session(sid, namespace="/field")["area"]
        seq[0] += 1
        ev = {"seq": seq[0], "type": "resource.position", "area": area, "areas": [area],
              "payload": data}
        backlog.append(ev)
        if len(backlog) > 20000:
            del backlog[:10000]
        frame = {"events": [ev], "last_seq": seq[0]}
        rooms = sio.manager.rooms.get("/centre", {})
        for i in range(1, len(area) + 1):
            room = f"a:{area[:i]}"
            if rooms.get(room):  # encode only for rooms someone is in
                sio.emit("events", frame, room=room, namespace="/centre")
        return {"ok": True, "seq": seq[0], "duplicate": False, "ignored": None}

    app = socketio.WSGIApp(sio, wsgi_app=directives)
    pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=WebSocketHandler,
                      log=None).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
