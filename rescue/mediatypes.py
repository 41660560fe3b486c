"""What a file from the scene is, by its content (never by its name), and how big it may be.

A phone names a voice note `.m4a` or `.amr`, a drone a clip `.mp4`, and anyone can name
anything `.jpg`: the first bytes decide. Images are then opened by Pillow (rescue.imaging);
audio and video are kept as sent, in the containers field devices record.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024
# Per kind: a phone's full-resolution photo, a few minutes of voice, a short clip.
LIMITS = {"image": 20 * MB, "audio": 16 * MB, "video": 64 * MB}
FRAME_LIMIT = 2 * MB  # one JPEG of a snapshot stream (a weak link sends small ones)
HEAD = 64  # bytes enough to tell every type below apart


@dataclass(frozen=True)
class MediaType:
    kind: str  # image | audio | video
    content_type: str
    extension: str


_ISO_BRANDS = {  # ISO base media (MP4 family): the `ftyp` major brand says which
    b"M4A ": MediaType("audio", "audio/mp4", "m4a"),
    b"M4B ": MediaType("audio", "audio/mp4", "m4a"),
    b"qt  ": MediaType("video", "video/quicktime", "mov"),
    b"3gp4": MediaType("video", "video/3gpp", "3gp"),
    b"3gp5": MediaType("video", "video/3gpp", "3gp"),
    b"3gp6": MediaType("video", "video/3gpp", "3gp"),
    b"3g2a": MediaType("video", "video/3gpp2", "3g2"),
}
_MP4 = MediaType("video", "video/mp4", "mp4")


# Every content type sniff() can give: what GET /media/{id} may answer with.
CONTENT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "audio/wav",
                 "audio/ogg", "audio/amr", "audio/mpeg", "audio/mp4", "video/webm",
                 "video/quicktime", "video/3gpp", "video/3gpp2", "video/mp4")


def sniff(head: bytes) -> MediaType | None:
    """The type of a file from its first bytes, or None when it is nothing we keep."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType("image", "image/jpeg", "jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", "image/png", "png")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaType("image", "image/gif", "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType("image", "image/webp", "webp")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return MediaType("audio", "audio/wav", "wav")
    if head.startswith(b"OggS"):
        return MediaType("audio", "audio/ogg", "ogg")
    if head.startswith(b"#!AMR"):
        return MediaType("audio", "audio/amr", "amr")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF
                                   and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return MediaType("audio", "audio/mpeg", "mp3")
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM (a phone's clip or voice)
        return MediaType("video", "video/webm", "webm")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"avif"):
            return None  # HEIF stills: Pillow cannot read them here; ask for JPEG
        return _ISO_BRANDS.get(brand, _MP4)
    return None


def describe_refusal(head: bytes) -> str:
    """Why a file was refused, in words an operator can act on."""
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif"):
        return "HEIC/AVIF photos are not accepted: send JPEG (the camera's 'most compatible')"
    return ("is not a photo (JPEG, PNG, WebP, GIF), a voice note (M4A, AMR, Ogg, MP3, WAV) or a "
            "clip (MP4, MOV, 3GP, WebM), whatever its name says")
