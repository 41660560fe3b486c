"""Great-circle distances on the mean-radius sphere.

Why a sphere: it is what the k-d tree over unit vectors indexes exactly (chord order is
great-circle order), and it agrees with the WGS84 ellipsoid to within ~0.5 %, which is far
inside the uncertainty of any ETA model.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius R1


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km; numpy broadcasting, float for scalar inputs."""
    p1 = np.radians(np.asarray(lat1, dtype=float))
    p2 = np.radians(np.asarray(lat2, dtype=float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    d = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def haversine_from(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """`haversine_km` from one point to many, to the bit, in place on two scratch arrays:
    a scan of a hundred thousand units spends its time in this (a third less than the
    general one, which allocates an array per step)."""
    p1 = np.radians(float(lat))
    p2 = np.radians(np.asarray(lats, dtype=float))
    h = p2 - p1
    np.divide(h, 2.0, out=h)
    np.sin(h, out=h)
    np.square(h, out=h)
    dl = np.subtract(np.asarray(lons, dtype=float), float(lon))
    np.radians(dl, out=dl)
    np.divide(dl, 2.0, out=dl)
    np.sin(dl, out=dl)
    np.square(dl, out=dl)
    np.cos(p2, out=p2)
    np.multiply(np.cos(p1), p2, out=p2)
    np.multiply(p2, dl, out=p2)
    np.add(h, p2, out=h)
    np.clip(h, 0.0, 1.0, out=h)
    np.sqrt(h, out=h)
    np.arcsin(h, out=h)
    np.multiply(2.0 * EARTH_RADIUS_KM, h, out=h)
    return h


def unit_vectors(lat, lon) -> np.ndarray:
    """(n, 3) unit vectors on the sphere; Euclidean (chord) order equals great-circle order."""
    la = np.radians(np.atleast_1d(np.asarray(lat, dtype=float)))
    lo = np.radians(np.atleast_1d(np.asarray(lon, dtype=float)))
    cl = np.cos(la)
    return np.column_stack([cl * np.cos(lo), cl * np.sin(lo), np.sin(la)])


def chord_to_km(chord):
    """Unit-sphere chord length -> great-circle km (exact)."""
    c = np.maximum(np.asarray(chord, dtype=float), 0.0)  # a new array: the rest in place
    if isinstance(c, np.ndarray) and c.ndim:  # (np.clip and fresh arrays cost more than
        np.minimum(c, 2.0, out=c)  # the work on the few values a query converts)
        c *= 0.5
        np.arcsin(c, out=c)
        c *= 2.0 * EARTH_RADIUS_KM
        return c
    return float(2.0 * EARTH_RADIUS_KM * np.arcsin(min(float(c), 2.0) / 2.0))


def km_to_chord(km):
    """Great-circle km -> unit-sphere chord length (exact; capped at the antipode)."""
    a = np.clip(np.asarray(km, dtype=float) / EARTH_RADIUS_KM, 0.0, np.pi)
    c = 2.0 * np.sin(a / 2.0)
    return float(c) if np.ndim(c) == 0 else c
