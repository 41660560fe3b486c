"""Scene media (issue 12 §3) over HTTP on SQLite (files under the data dir) and PostgreSQL (the
bytes in the database): type by content, limits, thumbnails, EXIF, scope, resends, frames."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from rescue.mediatypes import FRAME_LIMIT, LIMITS
from tests.integration.conftest import team

WENCHENG, LUCHENG, CITY = "330328", "330302", "3303"


def jpeg(w: int = 800, h: int = 600, *, gps: tuple[float, float] | None = None,
         quality: int = 85) -> bytes:
    img = Image.new("RGB", (w, h), (180, 90, 40))
    exif = Image.Exif()
    if gps:
        lat, lon = gps
        dms = lambda v: (float(int(v)), float(int(v * 60 % 60)), round(v * 3600 % 60, 2))  # noqa: E731
        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 128, 255, 128)).save(buf, "PNG")
    return buf.getvalue()


M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42" + b"\x00" * 400
AMR = b"#!AMR\n" + b"\x3c" * 500
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 800


@pytest.fixture
def scene(client, tokens):
    op = tokens.header("operator", area=WENCHENG)
    admin = tokens.header("admin")
    for rid in ("wc-1", "wc-2"):
        assert client.post("/api/v1/resources", json=team(rid), headers=admin).status_code == 201
    inc = client.post("/api/v1/incidents", json={
        "title": "house collapse", "category": "building_collapse", "severity": "IV",
        "persons_at_risk": 3, "lat": 27.78, "lon": 120.08}, headers=op).json
    assert client.post(f"/api/v1/incidents/{inc['id']}/assignments",
                       json={"resource_id": "wc-1"}, headers=op).status_code in (200, 201)
    return inc["id"], op


def upload(client, headers, iid, data, name="photo.jpg", **fields):
    form = {"file": (io.BytesIO(data), name), **{k: str(v) for k, v in fields.items()}}
    return client.post(f"/api/v1/incidents/{iid}/media", data=form, headers=headers,
                       content_type="multipart/form-data")


def test_a_units_photo_reaches_every_centre_that_sees_the_incident(client, tokens,
                                                                    scene) -> None:
    iid, op = scene
    unit = tokens.header("field", resource_id="wc-1")
    photo = jpeg(1600, 1200, gps=(27.7812, 120.0834))
    r = upload(client, {**unit, "Idempotency-Key": "p-1"}, iid, photo, caption="东侧墙体裂缝")
    assert r.status_code == 201, r.json
    m = r.json
    assert m["type"] == "image" and m["content_type"] == "image/jpeg" and not m["duplicate"]
    assert m["position_source"] == "exif" and abs(m["lat"] - 27.7812) < 1e-3
    assert m["width"] == 1600 and m["unit"] == "wc-1" and m["caption"] == "东侧墙体裂缝"
    assert m["url"] == f"/api/v1/media/{m['id']}" and m["thumbnail_url"].endswith("/thumbnail")
    # A resend over a weak link is stored once.
    again = upload(client, {**unit, "Idempotency-Key": "p-1"}, iid, photo)
    assert again.status_code == 201 and again.json["duplicate"] and again.json["id"] == m["id"]

    for who in (op, tokens.header("operator", area=CITY), tokens.header("operator", area="33"),
                unit):
        full = client.get(m["url"], headers=who)
        assert full.status_code == 200 and full.data == photo
        assert full.headers["Content-Type"] == "image/jpeg"
        thumb = client.get(m["thumbnail_url"], headers=who)
        assert thumb.status_code == 200
        small = Image.open(io.BytesIO(thumb.data))
        assert max(small.size) == 320 and not small.getexif().get(0x8825)
        events = client.get("/api/v1/events?limit=1000", headers=who).json["events"]
        added = [e for e in events if e["type"] == "media.added"]
        assert [e["payload"]["media"]["id"] for e in added] == [m["id"]]
        assert "file" not in json.dumps(added[0]["payload"]).lower().replace("filename", "")
    for who in (tokens.header("operator", area=LUCHENG), tokens.header("field", resource_id="wc-2")):
        assert client.get(m["url"], headers=who).status_code == 404
        assert client.get(m["thumbnail_url"], headers=who).status_code == 404
        assert client.get(f"/api/v1/incidents/{iid}/media", headers=who).status_code == 404
        assert upload(client, who, iid, photo).status_code == 404
    gallery = client.get(f"/api/v1/incidents/{iid}/media", headers=op).json
    assert [x["id"] for x in gallery["media"]] == [m["id"]] and gallery["streams"] == []


def test_type_is_read_from_the_content_not_the_name(client, tokens, scene) -> None:
    iid, op = scene
    r = upload(client, op, iid, b"this is not a photo, whatever it says\n" * 20, "scene.jpg")
    assert r.status_code == 415 and r.json["error"]["field"] == "file"
    r = upload(client, op, iid, b"\xff\xd8\xff\xe0" + b"garbage" * 200, "broken.jpg")
    assert r.status_code == 415 and "decode" in r.json["error"]["message"]
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
    r = upload(client, op, iid, heic, "IMG_0001.HEIC")
    assert r.status_code == 415 and "JPEG" in r.json["error"]["message"]
    # A PNG named .jpg is a PNG; a voice note named .jpg is a voice note.
    assert upload(client, op, iid, png(), "x.jpg").json["content_type"] == "image/png"
    voice = upload(client, op, iid, AMR, "photo.jpg", lat=27.78, lon=120.08).json
    assert voice["type"] == "audio" and voice["content_type"] == "audio/amr"
    assert "thumbnail_url" not in voice and voice["position_source"] == "sender"
    assert client.get(f"/api/v1/media/{voice['id']}/thumbnail", headers=op).status_code == 404
    assert upload(client, op, iid, M4A, "note.m4a").json["content_type"] == "audio/mp4"
    assert upload(client, op, iid, MP4, "clip.mp4").json["type"] == "video"


def test_each_kind_has_its_size_limit(client, tokens, scene, monkeypatch) -> None:
    iid, op = scene
    monkeypatch.setitem(LIMITS, "audio", 1000)
    r = upload(client, op, iid, AMR + b"\x3c" * 1000, "long.amr")
    assert r.status_code == 413 and "1000 bytes" in r.json["error"]["message"]
    assert r.json["error"]["field"] == "file"
    assert upload(client, op, iid, AMR, "short.amr").status_code == 201


@pytest.mark.parametrize("form, field, status", [
    ({"caption": "a\x00b"}, "caption", 400),
    ({"lat": "north"}, "lat", 400),
    ({"lat": "27.7"}, "lon", 400),
    ({"lat": "95", "lon": "120"}, "lat", 400),
    ({"time": "yesterday"}, "time", 400),
    ({"time": "2099-01-01T00:00:00Z"}, "time", 400),
    ({"priority": "high"}, "priority", 400),
])
def test_hostile_forms_are_refused_naming_the_field(client, tokens, scene, form, field,
                                                    status) -> None:
    iid, op = scene
    r = upload(client, op, iid, jpeg(), **form)
    assert r.status_code == status, r.json
    assert r.json["error"]["field"] == field


def test_hostile_uploads(client, tokens, scene) -> None:
    iid, op = scene
    url = f"/api/v1/incidents/{iid}/media"
    assert client.post(url, json={"file": "abc"}, headers=op).status_code == 415
    r = client.post(url, data={"caption": "no file"}, headers=op,
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.json["error"]["field"] == "file"
    assert upload(client, op, iid, b"").status_code == 400
    r = client.post(url, data={"file": (io.BytesIO(jpeg()), "a.jpg"),
                               "other": (io.BytesIO(jpeg()), "b.jpg")}, headers=op,
                    content_type="multipart/form-data")
    assert r.status_code == 400
    assert upload(client, op, "inc-nope", jpeg()).status_code == 404
    assert client.get("/api/v1/media/med-nope", headers=op).status_code == 404
    # A decompression bomb: a tiny PNG that claims to be enormous.
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")
    r = upload(client, op, iid, bomb.getvalue(), "bomb.png")
    assert r.status_code == 415 and "pixels" in r.json["error"]["message"]


def frame(n: int) -> bytes:
    return jpeg(320, 240, quality=60 + n % 30)


def test_a_stream_of_frames_latest_and_strip(client, tokens, scene) -> None:
    iid, op = scene
    unit = tokens.header("field", resource_id="wc-1")
    url = f"/api/v1/incidents/{iid}/streams/drone-1/frames"
    sent = []
    for n in range(12):
        data = frame(n)
        r = client.post(url, data=data, headers={**unit, "Content-Type": "image/jpeg",
                                                 "Idempotency-Key": f"f-{n}"})
        assert r.status_code == 201, r.json
        sent.append((r.json["seq"], data))
    dup = client.post(url, data=sent[-1][1], headers={**unit, "Content-Type": "image/jpeg",
                                                      "Idempotency-Key": "f-11"})
    assert dup.json["duplicate"] and dup.json["seq"] == sent[-1][0]
    latest = client.get(f"/api/v1/incidents/{iid}/streams/drone-1/latest", headers=op)
    assert latest.status_code == 200 and latest.data == sent[-1][1]
    strip = client.get(f"{url}?limit=5", headers=op).json["frames"]
    assert [f["seq"] for f in strip] == [s for s, _ in reversed(sent)][:5]
    older = client.get(f"{url}?limit=100&before={strip[-1]['seq']}", headers=op).json["frames"]
    assert len(older) == 7
    gallery = client.get(f"/api/v1/incidents/{iid}/media", headers=op).json
    assert gallery["media"] == [] and gallery["streams"][0]["frames"] == 12
    assert gallery["streams"][0]["latest"]["seq"] == sent[-1][0]
    evs = client.get("/api/v1/events?limit=1000", headers=tokens.header("operator",
                                                                         area=CITY)).json
    frames = [e for e in evs["events"] if e["type"] == "stream.frame"]
    assert len(frames) == 12 and frames[0]["payload"]["frame"]["stream"] == "drone-1"
    lucheng = tokens.header("operator", area=LUCHENG)
    assert client.get(f"/api/v1/incidents/{iid}/streams/drone-1/latest",
                      headers=lucheng).status_code == 404
    assert client.get(f"/api/v1/incidents/{iid}/streams/nope/latest",
                      headers=op).status_code == 404


def test_hostile_frames(client, tokens, scene) -> None:
    iid, op = scene
    url = f"/api/v1/incidents/{iid}/streams/cam/frames"
    h = {**op, "Content-Type": "image/jpeg"}
    assert client.post(url, data=png(), headers=h).status_code == 415
    assert client.post(url, data=b"hello", headers=h).status_code == 415
    assert client.post(url, data=frame(1)[:-200], headers=h).status_code == 400  # cut short
    assert client.post(url, data=b"", headers=h).status_code == 400
    big = b"\xff\xd8\xff" + b"\x00" * (FRAME_LIMIT + 10)
    assert client.post(url, data=big, headers=h).status_code == 413
    assert client.post(url, data=frame(1), headers={**op, "Content-Type": "text/plain"}
                       ).status_code == 415
    assert client.post(f"{url}?lat=95&lon=1", data=frame(1), headers=h).status_code == 400
    assert client.post(f"/api/v1/incidents/{iid}/streams/a%20b/frames", data=frame(1),
                       headers=h).status_code == 404
    assert client.post(url, data=frame(1), headers={
        **tokens.header("field", resource_id="wc-2"), "Content-Type": "image/jpeg"}
    ).status_code == 404


def test_media_in_an_s3_bucket_when_configured(tmp_path, s3_url) -> None:
    """Scaled mode with a bucket: the bytes go to S3, the metadata and events to the log."""
    from rescue.app import create_app
    from rescue.config import Config
    from rescue.context import RescueContext
    from rescue.s3blobs import S3BlobStore

    config = Config(data_dir=tmp_path / "var", secret_key="test-secret-key-0123456789",
                    testing=True, media_s3_url=s3_url, media_s3_key="k",
                    media_s3_secret="s")
    ctx = RescueContext(config)
    try:
        client = create_app(config, context=ctx).test_client()
        op = {"Authorization": "Bearer " + ctx.tokens.issue("operator", area=WENCHENG)}
        inc = client.post("/api/v1/incidents", json={
            "title": "collapse", "category": "building_collapse", "severity": "IV",
            "lat": 27.78, "lon": 120.08}, headers=op).json
        photo = jpeg()
        m = upload(client, op, inc["id"], photo).json
        assert client.get(m["url"], headers=op).data == photo
        bucket = S3BlobStore(s3_url, "k", "s")
        assert bucket.get(m["id"]) == photo and bucket.get(f"{m['id']}.thumb")
        assert not (tmp_path / "var" / "media").exists()
    finally:
        ctx.close()
