"""`rescue areas import FILE`: real boundary files replace the approximate ones.

The merged areas are written under the data dir (`areas.geojson`), which the server prefers
over the packaged file at its next start; nothing in the package is modified.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from geo.areas import AreaIndex
from geo.geography import Geography
from rescue.config import Config
from resources.errors import ValidationError

log = logging.getLogger(__name__)


def override_path(config: Config) -> Path:
    return config.data_dir / "areas.geojson"


def load_geography(config: Config) -> Geography:
    """The packaged geography, with imported areas and road network when they were imported."""
    geo = Geography.load(roads_path=config.data_dir / "roads.npz")
    path = override_path(config)
    if path.exists():
        geo.areas = AreaIndex.from_file(path)  # replaces the lazy attribute
        log.info("areas: using imported boundaries from %s", path)
    return geo


def import_areas(config: Config, file: Path) -> tuple[int, Path]:
    import geopandas as gpd

    if not file.exists():
        raise ValidationError("file", f"{file} does not exist")
    log.info("reading %s", file)
    try:
        gdf = gpd.read_file(file)
    except Exception as e:  # noqa: BLE001 - any reader failure is bad input here
        raise ValidationError("file", f"cannot read {file.name}: {e}") from None
    if "code" in gdf.columns:
        gdf["code"] = gdf["code"].astype(str)
    if "parent" in gdf.columns:
        gdf["parent"] = gdf["parent"].where(gdf["parent"].notna(), None)
        gdf["parent"] = gdf["parent"].map(lambda v: None if v is None else str(v))
    base = load_geography(config).areas
    try:
        merged = base.replace_from(gdf)
    except ValueError as e:
        raise ValidationError("file", str(e)) from None
    path = override_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged.feature_collection(), ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    log.info("wrote %d areas to %s", len(merged), path)
    return len(gdf), path


def import_roads(config: Config, file: Path, bbox: tuple[float, float, float, float] | None,
                 now: object) -> tuple[dict, Path]:
    """`rescue roads import FILE`: an OSM extract becomes the road graph of land travel."""
    from geo.roads import import_osm

    if not file.exists():
        raise ValidationError("file", f"{file} does not exist")

    def progress(fraction: float, message: str) -> None:
        log.info("roads import %3.0f%%  %s", fraction * 100, message)

    try:
        graph = import_osm(file, bbox=bbox, progress=progress, imported_at=now)
    except ValueError as e:
        raise ValidationError("file", str(e)) from None
    path = config.data_dir / "roads.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    graph.save(path)
    return graph.meta, path
