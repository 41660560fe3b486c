"""Scene media (DESIGN §13): photos, voice notes and clips from a unit or a centre, and the
JPEG frames of snapshot streams, attached to an incident and seen by whoever sees it.

The order of work keeps the server honest and responsive: the caller's right to post is
checked before a byte is looked at; the type is decided by content and the size by the kind's
limit; decoding and thumbnails run off the event loop; the bytes are stored before the event
that names them is committed; a resend with the same client id is stored once.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from geo.areas import AreaIndex
from rescue import imaging
from rescue.auth import Principal
from rescue.blobs import BlobStore
from rescue.incidents import Incident
from rescue.media import MediaItem, MediaTooLarge, MediaTypeRefused
from rescue.mediatypes import FRAME_LIMIT, HEAD, LIMITS, describe_refusal, sniff
from rescue.offload import run_blocking
from rescue.services.common import first_answer, lat_lon, refuse_unknown, report_time
from rescue.services.incidents import about_incident, postable_incident, readable_incident
from rescue.services.messages import author
from rescue.uow import UnitOfWork
from resources.errors import NotFound, ValidationError
from resources.fields import check_text

MAX_CAPTION = 500
MAX_FILENAME = 200
STREAM_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FORM_FIELDS = {"caption", "time", "lat", "lon", "id"}


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None = None


def _number(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValidationError(field, "must be a number") from None


def parse_fields(fields: Mapping[str, str], now: datetime
                 ) -> tuple[str | None, datetime | None, tuple[float, float] | None]:
    """(caption, time, position) from the form's text fields, each optional."""
    refuse_unknown(fields, FORM_FIELDS)
    caption = fields.get("caption")
    if caption is not None:
        caption = check_text(caption, "caption", maximum=MAX_CAPTION) or None
    time = report_time(fields["time"], now) if "time" in fields else None
    point = None
    if "lat" in fields or "lon" in fields:
        point = lat_lon({k: _number(fields[k], k) for k in ("lat", "lon") if k in fields})
    return caption, time, point


def _duplicate(uow: UnitOfWork, principal: Principal, message_id: str | None,
               incident_id: str) -> MediaItem | None:
    first = first_answer(uow, principal, message_id)
    if first is None or first.seq is None:
        return None
    item = uow.media.by_seq(first.seq)
    if item is None or item.incident_id != incident_id:
        raise ValidationError("id", "was already used for another upload")
    return item


def _check_type(data: bytes, limit_of: Callable[[str], int]) -> Any:
    kind = sniff(data[:HEAD])
    if kind is None:
        raise MediaTypeRefused(f"the file {describe_refusal(data[:HEAD])}")
    limit = limit_of(kind.kind)
    if len(data) > limit:
        raise MediaTooLarge(f"a {kind.kind} may be at most {limit // (1024 * 1024)} MB "
                            f"({limit} bytes); this one is {len(data)} bytes")
    return kind


def _new_id() -> str:
    return "med-" + uuid.uuid4().hex[:16]


def add_media(uow_factory: Callable[[], UnitOfWork], blobs: BlobStore, principal: Principal,
              incident_id: str, upload: Upload, fields: Mapping[str, str], areas: AreaIndex,
              now: datetime, message_id: str | None = None) -> tuple[MediaItem, bool]:
    """Attach a photo, voice note or clip to an incident; returns (it, whether this was a
    resend answered as the first time)."""
    with uow_factory() as uow:  # the right to post, and a resend, before any byte is read
        inc = postable_incident(uow, principal, incident_id)
        first = _duplicate(uow, principal, message_id, inc.id)
        unit = uow.resources.get(principal.resource_id) if principal.resource_id else None
    if first is not None:
        return first, True
    caption, time, point = parse_fields(fields, now)
    kind = _check_type(upload.data, LIMITS.__getitem__)
    info = thumb = None
    if kind.kind == "image":
        try:
            info = run_blocking(imaging.inspect, upload.data)
            thumb = run_blocking(imaging.thumbnail, upload.data)
        except imaging.NotAnImage as e:
            raise MediaTypeRefused(f"the file claims to be {kind.content_type} but {e}") from None
    source = "sender" if point else None
    if point is None and info is not None and info.lat is not None and info.lon is not None:
        point, source = (info.lat, info.lon), "exif"
    if point is None and unit is not None and unit.lat is not None and unit.lon is not None:
        point, source = (unit.lat, unit.lon), "unit"
    if time is None and info is not None and info.taken is not None \
            and info.taken <= now:
        time = info.taken
    filename = check_text(upload.filename, "file", maximum=MAX_FILENAME) \
        if upload.filename else None
    item = MediaItem(
        id=_new_id(), incident_id=inc.id, kind=kind.kind, content_type=kind.content_type,
        size=len(upload.data), sha256=hashlib.sha256(upload.data).hexdigest(),
        time=time or now, author=author(principal, areas), caption=caption,
        lat=point[0] if point else None, lon=point[1] if point else None,
        position_source=source, width=info.width if info else None,
        height=info.height if info else None, thumbnail=thumb is not None,
        filename=filename, exercise=inc.exercise)
    blobs.put(item.blob_key, upload.data)
    if thumb is not None:
        blobs.put(item.thumb_key, thumb)
    return _commit(uow_factory, principal, item, "media.added", now, message_id), False


def _commit(uow_factory: Callable[[], UnitOfWork], principal: Principal, item: MediaItem,
            type_: str, now: datetime, message_id: str | None) -> MediaItem:
    """Record the item in its own transaction (the incident read again: a unit released
    while its photo was being shrunk may no longer post to it)."""
    with uow_factory() as uow:
        return _record(uow, principal, postable_incident(uow, principal, item.incident_id),
                       item, type_, now, message_id)


def _record(uow: UnitOfWork, principal: Principal, inc: Incident, item: MediaItem,
            type_: str, now: datetime, message_id: str | None) -> MediaItem:
    """The item's event and metadata, committed together (the bytes are already stored)."""
    ev = uow.record(about_incident(type_, inc, now,
                                   {"frame" if item.kind == "frame" else "media":
                                    item.to_dict()}))
    stored = replace(item, seq=ev.seq)
    uow.media.add(stored)
    if message_id is not None:
        uow.remember_messages([(principal.source, message_id, ev.seq, None)], now)
    uow.commit()
    return stored


def add_frame(uow_factory: Callable[[], UnitOfWork], blobs: BlobStore, principal: Principal,
              incident_id: str, stream: str, data: bytes, fields: Mapping[str, str],
              areas: AreaIndex, now: datetime, message_id: str | None = None
              ) -> tuple[MediaItem, bool]:
    """One JPEG frame of a snapshot stream (a scene camera, a drone, a phone). The checks on
    the bytes are cheap (the header only), so they come first and the rest is one
    transaction: a frame every few seconds from a hundred streams is the common case."""
    if not STREAM_RE.match(stream):
        raise ValidationError("name", "a stream name is 1 to 64 letters, digits, - or _")
    caption, time, point = parse_fields(fields, now)
    if not data:
        raise ValidationError("body", "send the frame as the body (image/jpeg)")
    kind = _check_type(data, lambda _: FRAME_LIMIT)
    if kind.content_type != "image/jpeg":
        raise MediaTypeRefused(f"a stream frame is a JPEG; this is {kind.content_type}",
                               "body")
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise ValidationError("body", "the JPEG is cut short (no end marker): send it again")
    try:
        size = imaging.dimensions(data)
    except imaging.NotAnImage as e:
        raise MediaTypeRefused(f"the frame {e}", "body") from None
    with uow_factory() as uow:
        inc = postable_incident(uow, principal, incident_id)
        first = _duplicate(uow, principal, message_id, inc.id)
        if first is not None:
            return first, True
        item = MediaItem(
            id=_new_id(), incident_id=inc.id, kind="frame", content_type="image/jpeg",
            size=len(data), sha256=hashlib.sha256(data).hexdigest(), time=time or now,
            author=author(principal, areas), caption=caption,
            lat=point[0] if point else None, lon=point[1] if point else None,
            position_source="sender" if point else None, width=size[0], height=size[1],
            stream=stream, exercise=inc.exercise)
        blobs.put(item.blob_key, data)
        return _record(uow, principal, inc, item, "stream.frame", now, message_id), False


def readable_media(uow: UnitOfWork, principal: Principal, media_id: str) -> MediaItem:
    """The item if the caller sees its incident; 404 otherwise (as for one that is not)."""
    with uow:
        item = uow.media.get(media_id)
        if item is None:
            raise NotFound(f"no media {media_id!r} in your scope", field="id")
        readable_incident(principal, uow.incidents.get(item.incident_id), item.incident_id)
    return item


def gallery(uow: UnitOfWork, principal: Principal, incident_id: str, after: int,
            limit: int) -> tuple[Incident, list[MediaItem], list[dict[str, Any]]]:
    """An incident's photos, voice notes and clips, and its streams with their latest frame."""
    with uow:
        inc = readable_incident(principal, uow.incidents.get(incident_id), incident_id)
        items = uow.media.gallery(inc.id, after, limit)
        streams = [{"name": name, "frames": n, "latest": latest.to_dict()}
                   for name, n, latest in uow.media.streams(inc.id)]
    return inc, items, streams


def stream_frames(uow: UnitOfWork, principal: Principal, incident_id: str, stream: str,
                  before: int | None, limit: int) -> list[MediaItem]:
    with uow:
        inc = readable_incident(principal, uow.incidents.get(incident_id), incident_id)
        frames = uow.media.frames(inc.id, stream, before=before, limit=limit)
    if not frames and before is None:
        raise NotFound(f"no stream {stream!r} on incident {incident_id}", field="name")
    return frames
