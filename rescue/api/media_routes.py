"""Scene media and snapshot streams (DESIGN §13): upload (multipart) and frames (JPEG bodies),
the gallery, and the bytes themselves, each read scoped like its incident."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from pydantic import Field

from rescue.api.contract import (
    JSON_ERRORS,
    TEXT,
    Contract,
    Lat,
    Lax,
    Lon,
    MessageId,
    Out,
    Strict,
    Time,
)
from rescue.api.deps import (
    TooLarge,
    UnsupportedMediaType,
    caller,
    ctx,
    idempotency_key,
    query,
)
from rescue.media import MediaItem
from rescue.mediatypes import CONTENT_TYPES, FRAME_LIMIT, LIMITS
from rescue.services import media as svc
from resources.errors import NotFound, ValidationError

ERRORS = JSON_ERRORS + (404, 409, 503)
API = "/api/v1"
# A whole upload may not be larger than the largest kind allows, plus the form's own fields.
MAX_UPLOAD = max(LIMITS.values()) + 64 * 1024
# The bytes of a media item never change: a client keeps them (and checks them by ETag).
MAX_AGE = 7 * 24 * 3600


class MediaForm(Strict):
    """multipart/form-data: the file, and what the sender knows of it."""

    file: bytes = Field(description="the photo (JPEG, PNG, WebP, GIF), voice note (M4A, AMR, Ogg, "
                        "MP3, WAV) or clip (MP4, MOV, 3GP, WebM); its type is read from its "
                        "content")
    caption: str | None = Field(None, max_length=svc.MAX_CAPTION, pattern=TEXT)
    time: Time | None = Field(None, description="when it was taken (else the photo's EXIF "
                              "time, else now)")
    lat: Lat | None = Field(None, description="where (else the photo's EXIF GPS, else the "
                            "unit's last position)")
    lon: Lon | None = None
    id: MessageId | None = Field(None, description="the client's id: a resend is stored once "
                                 "(or send Idempotency-Key)")


class MediaOut(Out):
    id: str
    type: str
    url: str
    incident_id: str
    content_type: str
    size: int
    time: str
    seq: int | None


class MediaCreated(MediaOut):
    duplicate: bool


class StreamOut(Out):
    name: str
    frames: int
    latest: MediaOut


class GalleryOut(Out):
    media: list[MediaOut]
    streams: list[StreamOut]


class GalleryQuery(Lax):
    after: int = Field(0, ge=0, le=2**62, description="items after this seq")
    limit: int = Field(200, ge=1, le=500)


class FrameQuery(Lax):
    time: Time | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    caption: str | None = Field(None, max_length=svc.MAX_CAPTION, pattern=TEXT)


class FramesQuery(Lax):
    before: int | None = Field(None, ge=1, le=2**62, description="frames before this seq")
    limit: int = Field(20, ge=1, le=500)


class FrameList(Out):
    frames: list[MediaOut]


def _bytes_of(item: MediaItem, key: str, content_type: str) -> Response:
    """The bytes, cacheable for good (they never change), with ETag and Range (a clip is
    watched from the middle; a weak link resumes a download)."""
    data = ctx().blobs.get(key)
    if data is None:
        raise NotFound(f"the bytes of {item.id} are missing from the store", field="id")
    resp = Response(data, mimetype=content_type)
    resp.set_etag(f"{item.sha256[:32]}{'' if key == item.blob_key else '-thumb'}")
    resp.headers["Cache-Control"] = f"private, max-age={MAX_AGE}, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Disposition"] = "inline"
    resp.make_conditional(request, accept_ranges=True, complete_length=len(data))
    return resp


def register(bp: Blueprint, c: Contract) -> None:
    doc = c.spec.validate
    c.bytes_out(f"{API}/media/{{mid}}", "get", ", ".join(CONTENT_TYPES))
    c.bytes_out(f"{API}/media/{{mid}}/thumbnail", "get", "image/jpeg")
    c.bytes_in(f"{API}/incidents/{{iid}}/streams/{{name}}/frames", "post", "image/jpeg")
    c.bytes_out(f"{API}/incidents/{{iid}}/streams/{{name}}/latest", "get", "image/jpeg")

    @bp.post("/incidents/<iid:iid>/media")
    @doc(form=MediaForm, resp=c.resp(201, MediaCreated, errors=ERRORS), tags=["scene"],
         skip_validation=True)
    def add_media(iid: str):  # noqa: ANN202
        """Attach a photo, voice note or clip (units on the incident, centres that see it).
        Its type is read from its content (415 otherwise); each kind has a size limit (413
        names it); photos get a thumbnail and their EXIF position and time."""
        if request.content_length is not None and request.content_length > MAX_UPLOAD:
            raise TooLarge(f"an upload may be at most {MAX_UPLOAD} bytes")
        if (request.mimetype or "") != "multipart/form-data":
            raise UnsupportedMediaType("send multipart/form-data with a `file` part")
        upload = request.files.get("file")
        if upload is None or len(request.files) > 1:
            raise ValidationError("file", "send exactly one file, in the part named `file`")
        data = upload.read(MAX_UPLOAD + 1)
        if not data:
            raise ValidationError("file", "is empty")
        x = ctx()
        fields = dict(request.form.items())
        mid = idempotency_key(fields, "id")
        fields.pop("id", None)
        item, duplicate = svc.add_media(
            x.uow, x.blobs, caller(), iid, svc.Upload(data, upload.filename), fields,
            x.geography.areas, x.now_for(iid), message_id=mid)
        return jsonify({**item.to_dict(), "duplicate": duplicate}), 201

    @bp.get("/incidents/<iid:iid>/media")
    @doc(query=GalleryQuery, resp=c.resp(200, GalleryOut), tags=["scene"], skip_validation=True)
    def gallery(iid: str):  # noqa: ANN202
        """The incident's photos, voice notes and clips, and its snapshot streams each with
        its latest frame."""
        q = query(GalleryQuery)
        _, items, streams = svc.gallery(ctx().uow(readonly=True), caller(), iid, q.after,
                                        q.limit)
        return jsonify({"media": [m.to_dict() for m in items], "streams": streams})

    @bp.get("/media/<iid:mid>")
    @doc(resp=c.resp(200, None), tags=["scene"], skip_validation=True)
    def media_bytes(mid: str):  # noqa: ANN202
        """The item's bytes, for whoever sees its incident (404 for anyone else)."""
        item = svc.readable_media(ctx().uow(readonly=True), caller(), mid)
        return _bytes_of(item, item.blob_key, item.content_type)

    @bp.get("/media/<iid:mid>/thumbnail")
    @doc(resp=c.resp(200, None), tags=["scene"], skip_validation=True)
    def media_thumbnail(mid: str):  # noqa: ANN202
        """A photo's thumbnail (JPEG, 320 px on its longer side, without EXIF); a frame is
        its own thumbnail."""
        item = svc.readable_media(ctx().uow(readonly=True), caller(), mid)
        if item.kind == "frame":
            return _bytes_of(item, item.blob_key, item.content_type)
        if not item.thumbnail:
            raise NotFound(f"{item.id} is a {item.kind}: it has no thumbnail", field="id")
        return _bytes_of(item, item.thumb_key, "image/jpeg")

    @bp.post("/incidents/<iid:iid>/streams/<name:name>/frames")
    @doc(query=FrameQuery, resp=c.resp(201, MediaCreated, errors=ERRORS), tags=["scene"],
         skip_validation=True)
    def add_frame(iid: str, name: str):  # noqa: ANN202
        """One JPEG frame (the body, image/jpeg) of a snapshot stream: a scene camera, a
        drone or a phone every few seconds. Idempotent with Idempotency-Key."""
        if request.content_length is not None and request.content_length > FRAME_LIMIT:
            raise TooLarge(f"a frame may be at most {FRAME_LIMIT} bytes")
        if (request.mimetype or "") not in ("image/jpeg", "application/octet-stream"):
            raise UnsupportedMediaType("send the frame as the body, image/jpeg")
        data = request.get_data(cache=False)
        if len(data) > FRAME_LIMIT:
            raise TooLarge(f"a frame may be at most {FRAME_LIMIT} bytes")
        query(FrameQuery)  # checked here; the service reads the same fields as text
        fields = dict(request.args.items())
        x = ctx()
        item, duplicate = svc.add_frame(x.uow, x.blobs, caller(), iid, name, data, fields,
                                        x.geography.areas, x.now_for(iid),
                                        message_id=idempotency_key())
        return jsonify({**item.to_dict(), "duplicate": duplicate}), 201

    @bp.get("/incidents/<iid:iid>/streams/<name:name>/frames")
    @doc(query=FramesQuery, resp=c.resp(200, FrameList), tags=["scene"], skip_validation=True)
    def stream_frames(iid: str, name: str):  # noqa: ANN202
        """A stream's frames, newest first (the strip of recent ones; `before` pages back)."""
        q = query(FramesQuery)
        frames = svc.stream_frames(ctx().uow(readonly=True), caller(), iid, name, q.before,
                                   q.limit)
        return jsonify({"frames": [f.to_dict() for f in frames]})

    @bp.get("/incidents/<iid:iid>/streams/<name:name>/latest")
    @doc(resp=c.resp(200, None), tags=["scene"], skip_validation=True)
    def stream_latest(iid: str, name: str):  # noqa: ANN202
        """The stream's latest frame (image/jpeg)."""
        frames = svc.stream_frames(ctx().uow(readonly=True), caller(), iid, name, None, 1)
        return _bytes_of(frames[0], frames[0].blob_key, "image/jpeg")
