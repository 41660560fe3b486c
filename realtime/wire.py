"""How frames are written on the socket: fast JSON out, strict JSON in, no binary walk.

python-socketio walks every outgoing payload looking for bytes (to send attachments); our
frames never carry bytes (media go over HTTP), and for a 500-event backlog page that walk
cost as much as encoding it. Encoding uses orjson (about 10x the standard library); decoding
of what clients send stays with the standard library, so that a bad string reaches our
validation and is refused naming its field rather than failing inside the transport.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from socketio import packet


class JsonWire:
    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        try:
            return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # something orjson does not know: the slow, general path
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)

    @staticmethod
    def loads(s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s, **kwargs)


class TextPacket(packet.Packet):
    """A Socket.IO packet that is always text (see the module docstring)."""

    json = JsonWire

    def data_is_binary(self, data: Any) -> bool:
        return False
