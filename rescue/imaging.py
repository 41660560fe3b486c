"""Photos and camera frames with Pillow: check that an image really is one, read where and when
it was taken from its EXIF, and make the thumbnail the console shows.

Pillow decodes in C and releases the GIL, so the server runs these in a thread
(rescue.offload) and the event loop keeps serving while a 12-megapixel photo is shrunk.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse decompression bombs: a small file that unpacks to gigapixels (Pillow warns past
# MAX_IMAGE_PIXELS and raises past twice that; we raise at the limit).
MAX_PIXELS = 64_000_000
THUMB_SIDE = 320
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011


class NotAnImage(ValueError):
    """The bytes do not decode as the image their header claims (or it is a bomb)."""


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    lat: float | None = None
    lon: float | None = None
    taken: datetime | None = None


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > MAX_PIXELS:
                raise NotAnImage(f"{img.width}×{img.height} is more than {MAX_PIXELS:,} pixels")
            return img
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise NotAnImage(f"unpacks to more than {MAX_PIXELS:,} pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, NotAnImage):
            raise
        raise NotAnImage(f"does not decode as an image ({type(e).__name__})") from None


def inspect(data: bytes, *, exif: bool = True) -> ImageInfo:
    """Size and EXIF from the header; the pixels are proved by making the thumbnail (which
    decodes them, at a fraction of full size for JPEG: a truncated or forged file fails
    there)."""
    img = _open(data)
    lat = lon = None
    taken = None
    if exif:
        lat, lon, taken = _exif(img)
    return ImageInfo(img.width, img.height, lat, lon, taken)


def dimensions(data: bytes) -> tuple[int, int]:
    """Width and height from the header alone (a stream frame: cheap, thousands a second)."""
    img = _open(data)
    return img.width, img.height


def _ratio(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return math.nan


def _exif(img: Image.Image) -> tuple[float | None, float | None, datetime | None]:
    try:
        exif = img.getexif()
        gps = exif.get_ifd(GPS_IFD)
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:  # noqa: BLE001 - broken EXIF is common; the photo is still good
        return None, None, None
    lat = _degrees(gps.get(2), gps.get(1), "S")
    lon = _degrees(gps.get(4), gps.get(3), "W")
    if lat is None or lon is None or not (abs(lat) <= 90 and abs(lon) <= 180) \
            or (lat == 0 and lon == 0):
        lat = lon = None
    return lat, lon, _taken(sub.get(DATETIME_ORIGINAL), sub.get(OFFSET_TIME_ORIGINAL))


def _degrees(dms: object, ref: object, negative: str) -> float | None:
    if not isinstance(dms, tuple) or len(dms) != 3:
        return None
    d, m, s = (_ratio(x) for x in dms)
    value = d + m / 60 + s / 3600
    if not math.isfinite(value):
        return None
    return -value if str(ref).strip().upper() == negative else value


def _taken(stamp: object, offset: object) -> datetime | None:
    """EXIF's local time counts only with its offset (a phone's clock zone): else unknown."""
    if not isinstance(stamp, str) or not isinstance(offset, str):
        return None
    try:
        local = datetime.strptime(stamp.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        sign = -1 if offset.startswith("-") else 1
        hh, mm = offset.strip("+- \x00").split(":")
        tz = timezone(sign * timedelta(hours=int(hh), minutes=int(mm)))
    except (ValueError, TypeError):
        return None
    return local.replace(tzinfo=tz)


def thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes:
    """A JPEG at most `side` pixels on its longer edge, upright (EXIF orientation applied),
    without the EXIF (no position leaks through a thumbnail)."""
    img = _open(data)
    try:
        img.draft("RGB", (side * 2, side * 2))  # JPEG: decode at a fraction of full size
        img = ImageOps.exif_transpose(img)
        img.thumbnail((side, side))
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        out = io.BytesIO()
        img.save(out, "JPEG", quality=80, optimize=True)
    except (OSError, SyntaxError, ValueError) as e:
        raise NotAnImage(f"cannot be shrunk ({type(e).__name__}: {e})") from None
    return out.getvalue()
