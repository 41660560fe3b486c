"""GeoJSON helpers for lists of things with a place (GeoJSON uses lon, lat order)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def point_feature(lat: float, lon: float, properties: dict[str, Any],
                  feature_id: str | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }
    if feature_id is not None:
        f["id"] = feature_id
    return f


def collection(features: Iterable[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    feats = list(features)
    return {"type": "FeatureCollection", "features": feats, **extra}
