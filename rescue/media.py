"""Scene media (DESIGN §13): photos, voice notes and clips attached to an incident, and the
frames of its snapshot streams. An item is metadata (who, when, where, what type, how big);
its bytes are in a blob store (rescue.blobs) and reach clients only through the scoped
`GET /media/{id}`. Events carry the metadata and the URLs, never the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from resources.errors import ValidationError
from resources.model import format_time, parse_time

API = "/api/v1"


class MediaTooLarge(ValidationError):
    """413: past the limit of its kind (the message names the limit)."""

    def __init__(self, message: str, field_name: str = "file") -> None:
        super().__init__(field_name, message, code="too_large")


class MediaTypeRefused(ValidationError):
    """415: the content is not a type we keep, whatever its name or Content-Type says."""

    def __init__(self, message: str, field_name: str = "file") -> None:
        super().__init__(field_name, message, code="unsupported_media_type")


@dataclass(frozen=True)
class MediaItem:
    id: str
    incident_id: str
    kind: str  # image | audio | video | frame
    content_type: str
    size: int
    sha256: str
    time: datetime
    author: dict[str, Any] = field(default_factory=dict)
    caption: str | None = None
    lat: float | None = None
    lon: float | None = None
    position_source: str | None = None  # "sender" | "exif" | "unit"
    width: int | None = None
    height: int | None = None
    thumbnail: bool = False
    stream: str | None = None
    filename: str | None = None
    exercise: str | None = None
    seq: int | None = None

    @property
    def blob_key(self) -> str:
        return self.id

    @property
    def thumb_key(self) -> str:
        return f"{self.id}.thumb"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "incident_id": self.incident_id, "type": self.kind,
            "content_type": self.content_type, "size": self.size, "sha256": self.sha256,
            "time": format_time(self.time), "caption": self.caption, "lat": self.lat,
            "lon": self.lon, "position_source": self.position_source, "width": self.width,
            "height": self.height, "stream": self.stream, "filename": self.filename,
            "exercise": self.exercise, "seq": self.seq, **self.author,
            "url": f"{API}/media/{self.id}",
        }
        if self.thumbnail:
            out["thumbnail_url"] = f"{API}/media/{self.id}/thumbnail"
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MediaItem:
        author: dict[str, Any] = {k: d.get(k) for k in ("author", "role", "unit", "area", "area_name", "level")
                  if k in d}
        return cls(id=d["id"], incident_id=d["incident_id"], kind=d["type"],
                   content_type=d["content_type"], size=d["size"], sha256=d["sha256"],
                   time=parse_time(d["time"], "time"), author=author, caption=d.get("caption"),
                   lat=d.get("lat"), lon=d.get("lon"),
                   position_source=d.get("position_source"), width=d.get("width"),
                   height=d.get("height"), thumbnail="thumbnail_url" in d,
                   stream=d.get("stream"), filename=d.get("filename"),
                   exercise=d.get("exercise"), seq=d.get("seq"))
